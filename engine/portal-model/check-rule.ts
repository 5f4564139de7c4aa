/**
 * A rule checked against the portal snapshot: every field code, stage ID,
 * pipeline, user ID and list value it writes literally (templates are left
 * alone: their values are known only when the rule runs) must exist on the
 * portal. Each problem names what exists instead, with its human name:
 * "stage 'C1:WONN' does not exist in pipeline 'Renewals'; did you mean
 * 'C1:WON' (Renewed)?".
 */
import { closest } from '../suggest.js';
import { norm, type EntityIndex, type PortalModel } from './model.js';
import { LABEL_PREFIX, walkRule, type EventEntityFn } from './positions.js';
import type { ReportFn } from './resolve-names.js';
import type { ListValue } from './snapshot.js';

const PULL_AGAIN = "if it was added since the snapshot, run 'rules portal pull' again";

/** A literal worth checking: a number, or a non-empty string that is not a template. */
function literal(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string' && v.trim() !== '' && !v.includes('{{')) return v;
  return undefined;
}

/** `'C1:WON' (Renewed)`: an ID with its human name. */
function shown(id: string, name: string): string {
  return name && name !== id ? `'${id}' (${name})` : `'${id}'`;
}

/** The closest candidate by ID, else by human name. */
function suggest<T>(written: string, items: T[], id: (x: T) => string, name: (x: T) => string): T | undefined {
  const byId = closest(written, items.map(id));
  if (byId !== undefined) return items.find((x) => id(x) === byId);
  const byName = items.find((x) => norm(name(x)) === norm(written)) ?? items.find((x) => name(x) === closest(written, items.map(name)));
  return byName;
}

/** Check `raw` (names already resolved) against the snapshot; each problem goes to `report`. */
export function checkRule(raw: Record<string, unknown>, model: PortalModel, eventEntity: EventEntityFn, report: ReportFn): void {
  const user = (pointer: string, v: unknown): void => {
    const id = literal(v);
    if (id === undefined || !/^\d+$/.test(id) || model.users.has(id)) return;
    const users = model.snapshot.users;
    const g = suggest(id, users, (u) => u.id, (u) => u.name);
    report('PORTAL_USER_UNKNOWN', pointer, `user ${id} is not an active user of the portal${g ? `; did you mean ${g.id} (${g.name})?` : ''}`, `active users: ${users.slice(0, 12).map((u) => `${u.id} (${u.name})`).join(', ')}${users.length > 12 ? ', ...' : ''}; ${PULL_AGAIN}`);
  };

  walkRule(raw, eventEntity, {
    field(site) {
      if (site.code.startsWith(LABEL_PREFIX)) return undefined;
      const entity = model.entity(site.entity);
      if (!entity || entity.field(site.code)) return undefined;
      const fields = Object.values(entity.model.fields);
      const g = suggest(site.code, fields, (f) => f.code, (f) => f.label);
      report('PORTAL_FIELD_UNKNOWN', site.pointer, `field '${site.code}' does not exist on ${entity.label}${g ? `; did you mean ${shown(g.code, g.label)}?` : ''}`, `field codes come from crm.${entity.key}.fields (or write label:<the field's label>); ${PULL_AGAIN}`, site.key);
      return undefined;
    },
    user(site) {
      user(site.pointer, site.value);
      return undefined;
    },
    value(site) {
      const v = literal(site.value);
      const entity = model.entity(site.entity);
      const field = site.field !== undefined ? entity?.field(site.field) : undefined;
      if (v === undefined || !entity || !field) return undefined;
      const kind = model.valueKind(entity, field);
      if (kind.kind === 'user') user(site.pointer, site.value);
      else if (kind.kind === 'stage') stage(entity, site.pointer, v);
      else if (kind.kind === 'pipeline' && /^\d+$/.test(v) && !entity.pipeline(Number(v))) {
        report('PORTAL_PIPELINE_UNKNOWN', site.pointer, `${entity.label} have no pipeline ${v}`, `the pipelines: ${entity.model.pipelines.map((p) => `${p.id} (${p.name})`).join(', ')}; ${PULL_AGAIN}`);
      } else if (kind.kind === 'list') listValue(kind.values, kind.list, field.code, site.pointer, v);
      return undefined;
    },
  });

  function stage(entity: EntityIndex, pointer: string, id: string): void {
    if (entity.stages.has(id)) return;
    const pipeline = entity.pipelineOfStageId(id);
    const candidates = (pipeline ? pipeline.stages : entity.model.pipelines.flatMap((p) => p.stages)).slice();
    const g = suggest(id, candidates, (s) => s.id, (s) => s.name) ?? suggest(id, [...entity.stages.values()].map((h) => h.stage), (s) => s.id, (s) => s.name);
    const where = entity.key === 'lead' ? `status '${id}' does not exist among the lead statuses` : pipeline ? `stage '${id}' does not exist in pipeline '${pipeline.name}'` : `stage '${id}' does not exist: ${entity.label} have no pipeline ${/^(?:C|DT\d+_)(\d+):/.exec(id)?.[1] ?? ''}`;
    report(
      'PORTAL_STAGE_UNKNOWN',
      pointer,
      `${where}${g ? `; did you mean ${shown(g.id, g.name)}?` : ''}`,
      `${pipeline ? `its stages: ${pipeline.stages.map((s) => `${s.id} (${s.name})`).join(', ')}` : `the pipelines: ${entity.model.pipelines.map((p) => `${p.id} (${p.name})`).join(', ')}`}; or write { pipeline: NAME, name: STAGE }; ${PULL_AGAIN}`,
    );
  }

  function listValue(values: ListValue[], list: string, code: string, pointer: string, v: string): void {
    if (values.some((x) => x.id === v)) return;
    const g = suggest(v, values, (x) => x.id, (x) => x.name);
    report('PORTAL_VALUE_UNKNOWN', pointer, `'${v}' is not a value of ${code} (${list})${g ? `; did you mean ${shown(g.id, g.name)}?` : ''}`, `the values: ${values.slice(0, 15).map((x) => `${x.id} (${x.name})`).join(', ')}${values.length > 15 ? ', ...' : ''}; or write { name: VALUE }; ${PULL_AGAIN}`);
  }
}
