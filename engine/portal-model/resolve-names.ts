/**
 * Names in rules, resolved to IDs at load time: `{ name: Ivan Sokolov }`
 * where a user ID goes, `{ pipeline: Renewals, name: Renewed }` where a stage
 * ID goes, `{ name: Partner }` for a list value or a pipeline, and
 * `label:Region` where a field code goes (docs/rule-format.md, Names). The rule
 * document is changed in place to carry the IDs, and each name is recorded
 * with its ID for the dry-run plan. Without a snapshot every name is an error
 * that says to run `rules portal pull`.
 */
import { closest } from '../suggest.js';
import { norm, type EntityIndex, type PortalModel } from './model.js';
import { isNameRef, LABEL_PREFIX, walkRule, type EventEntityFn, type ValueSite } from './positions.js';
import type { PipelineModel } from './snapshot.js';

/** Report a problem at a JSON pointer (at the key `key` of the mapping there, when given). */
export type ReportFn = (code: string, pointer: string, message: string, hint: string, key?: string) => void;

/** One name a rule used, and the ID it stands for. */
export interface ResolvedName {
  /** JSON pointer of the place in the rule document. */
  path: string;
  /** What it names: field, stage, user, pipeline, value. */
  kind: 'field' | 'stage' | 'user' | 'pipeline' | 'value';
  /** The name as written, e.g. `Renewals / Renewed`, `Ivan Sokolov`, `Region`. */
  name: string;
  id: string | number;
}

const PULL_HINT = "run 'rules portal pull' to write .rules/portal.json beside the rules (or pass --portal-snapshot FILE), or write the ID";

function writtenName(ref: { name: string; pipeline?: string | number }): string {
  return ref.pipeline !== undefined ? `${String(ref.pipeline)} / ${ref.name}` : ref.name;
}

/** Replace the names in `raw` by IDs from `model` (none: report each name); the names resolved. */
export function resolveNames(raw: Record<string, unknown>, model: PortalModel | undefined, eventEntity: EventEntityFn, report: ReportFn): ResolvedName[] {
  const names: ResolvedName[] = [];
  const missing = (pointer: string, what: string, key?: string): undefined => {
    report('PORTAL_SNAPSHOT_MISSING', pointer, `${what} is a name: names need the portal's snapshot, and there is none`, PULL_HINT, key);
    return undefined;
  };
  const userByName = (pointer: string, ref: { name: string }): number | undefined => {
    const found = model!.usersNamed(ref.name);
    if (found.length === 1) {
      names.push({ path: pointer, kind: 'user', name: ref.name, id: Number(found[0]!.id) });
      return Number(found[0]!.id);
    }
    if (found.length > 1) {
      report('PORTAL_NAME_AMBIGUOUS', pointer, `${found.length} active users are named '${ref.name}': ${found.map((u) => `${u.id}${u.position ? ` (${u.position})` : ''}`).join(', ')}`, 'write the user ID instead');
      return undefined;
    }
    const guess = closest(ref.name, model!.snapshot.users.map((u) => u.name));
    report('PORTAL_USER_UNKNOWN', pointer, `no active user of the portal is named '${ref.name}'${guess ? `; did you mean '${guess}'?` : ''}`, "names are 'First Last' as the portal shows them; after adding people run 'rules portal pull' again");
    return undefined;
  };

  walkRule(raw, eventEntity, {
    field(site) {
      if (!site.code.startsWith(LABEL_PREFIX)) return undefined;
      const label = site.code.slice(LABEL_PREFIX.length).trim();
      const pointer = site.pointer;
      if (!model) return missing(pointer, `the field '${site.code}'`, site.key);
      const entity = model.entity(site.entity);
      if (!entity) {
        report('PORTAL_NAME_INVALID', pointer, `fields of ${site.entity.entity}${site.entity.entityTypeId ? ` ${site.entity.entityTypeId}` : ''} are not in the portal snapshot, so '${site.code}' cannot be resolved`, 'write the field code', site.key);
        return undefined;
      }
      const found = entity.byLabel.get(norm(label)) ?? [];
      if (found.length === 1) {
        names.push({ path: site.key === undefined ? pointer : `${pointer}/${site.key}`, kind: 'field', name: label, id: found[0]!.code });
        return found[0]!.code;
      }
      if (found.length > 1) {
        report('PORTAL_NAME_AMBIGUOUS', pointer, `${found.length} fields of ${entity.label} are labelled '${label}': ${found.map((f) => f.code).join(', ')}`, 'write the field code instead', site.key);
        return undefined;
      }
      const guess = closest(label, [...entity.byLabel.keys()]);
      const hit = guess ? entity.byLabel.get(guess)?.[0] : undefined;
      report('PORTAL_FIELD_UNKNOWN', pointer, `no field of ${entity.label} is labelled '${label}'${hit ? `; did you mean '${hit.label}' (${hit.code})?` : ''}`, 'labels are the names the portal shows on the form; or write the field code', site.key);
      return undefined;
    },
    user(site) {
      if (!isNameRef(site.value)) return undefined;
      if (!model) return missing(site.pointer, `the user '${site.value.name}'`);
      return userByName(site.pointer, site.value);
    },
    value(site) {
      if (!isNameRef(site.value)) return undefined;
      const ref = site.value;
      if (!model) return missing(site.pointer, `'${writtenName(ref)}'`);
      const entity = model.entity(site.entity);
      const field = site.field !== undefined ? entity?.field(site.field) : undefined;
      if (!entity || !field) {
        report('PORTAL_NAME_INVALID', site.pointer, `cannot tell what '${writtenName(ref)}' names here: ${site.field === undefined ? 'it is not compared with a field of a known record' : `the field ${site.field} is not in the portal snapshot`}`, 'use names for fields of a lead, deal, contact, company or smart process (fields:, changed:, filter:, or compared with { var: deal.FIELD }), or write the ID');
        return undefined;
      }
      const kind = model.valueKind(entity, field);
      if (kind.kind === 'user') return ref.pipeline === undefined ? userByName(site.pointer, ref) : invalid(site, `${field.code} takes a user; pipeline: does not go with it`);
      if (kind.kind === 'stage') return stageByName(entity, site, ref);
      if (kind.kind === 'pipeline') {
        const p = entity.pipeline(ref.name);
        if (p) {
          names.push({ path: site.pointer, kind: 'pipeline', name: ref.name, id: p.id });
          return p.id;
        }
        return unknownPipeline(entity, site.pointer, ref.name);
      }
      if (kind.kind === 'list') {
        const hits = kind.values.filter((v) => norm(v.name) === norm(ref.name));
        if (hits.length === 1) {
          names.push({ path: site.pointer, kind: 'value', name: ref.name, id: hits[0]!.id });
          return hits[0]!.id;
        }
        if (hits.length > 1) {
          report('PORTAL_NAME_AMBIGUOUS', site.pointer, `${hits.length} values of ${kind.list} are named '${ref.name}': ${hits.map((h) => h.id).join(', ')}`, `write the ID: ${hits.map((h) => h.id).join(' or ')}`);
          return undefined;
        }
        // `{ name: PARTNER }`: the ID written as a name.
        const byId = kind.values.find((v) => v.id.toLowerCase() === ref.name.toLowerCase());
        const guessName = byId?.name ?? closest(ref.name, kind.values.map((v) => v.name));
        const g = guessName !== undefined ? kind.values.find((v) => v.name === guessName) : undefined;
        report('PORTAL_VALUE_UNKNOWN', site.pointer, `no value of ${field.code} (${kind.list}) is named '${ref.name}'${g ? `; did you mean '${g.name}' (${g.id})?` : ''}`, `the values: ${kind.values.slice(0, 12).map((v) => `${v.name} (${v.id})`).join(', ')}${kind.values.length > 12 ? ', ...' : ''}`);
        return undefined;
      }
      return invalid(site, `${field.code} (${field.label}) is a ${field.type} field: write its value, names are for stages, pipelines, users and list values`);
    },
  });
  return names;

  function invalid(site: ValueSite, message: string): undefined {
    report('PORTAL_NAME_INVALID', site.pointer, message, 'write the value itself');
    return undefined;
  }

  function unknownPipeline(entity: EntityIndex, pointer: string, name: string): undefined {
    const guess = closest(name, entity.model.pipelines.map((p) => p.name));
    report('PORTAL_PIPELINE_UNKNOWN', pointer, `${entity.label} have no pipeline '${name}'${guess ? `; did you mean '${guess}'?` : ''}`, `the pipelines: ${entity.model.pipelines.map((p) => `${p.name} (${p.id})`).join(', ')}`);
    return undefined;
  }

  function stageByName(entity: EntityIndex, site: ValueSite, ref: { name: string; pipeline?: string | number }): string | undefined {
    let pipelines: PipelineModel[] = entity.model.pipelines;
    if (ref.pipeline !== undefined) {
      const p = entity.pipeline(ref.pipeline);
      if (!p) return unknownPipeline(entity, site.pointer, String(ref.pipeline));
      pipelines = [p];
    }
    const hits = pipelines.flatMap((p) => p.stages.filter((s) => norm(s.name) === norm(ref.name) || s.id === ref.name).map((s) => ({ p, s })));
    if (hits.length === 1) {
      const { p, s } = hits[0]!;
      names.push({ path: site.pointer, kind: 'stage', name: entity.key === 'lead' ? ref.name : `${p.name} / ${s.name}`, id: s.id });
      return s.id;
    }
    if (hits.length > 1) {
      report('PORTAL_NAME_AMBIGUOUS', site.pointer, `a stage named '${ref.name}' is in ${hits.length} pipelines of ${entity.label}: ${hits.map((h) => `${h.p.name} (${h.s.id})`).join(', ')}`, `add the pipeline: { pipeline: ${hits[0]!.p.name}, name: ${ref.name} }`);
      return undefined;
    }
    const all = pipelines.flatMap((p) => p.stages.map((s) => ({ p, s })));
    const guess = closest(ref.name, all.map((h) => h.s.name));
    const where = entity.key === 'lead' ? 'among the lead statuses' : ref.pipeline !== undefined ? `in pipeline '${pipelines[0]!.name}'` : `in any pipeline of ${entity.label}`;
    const g = guess ? all.find((h) => h.s.name === guess) : undefined;
    report('PORTAL_STAGE_UNKNOWN', site.pointer, `no stage is named '${ref.name}' ${where}${g ? `; did you mean '${g.s.name}' (${g.s.id})?` : ''}`, `the stages: ${all.slice(0, 15).map((h) => `${h.s.name} (${h.s.id})`).join(', ')}`);
    return undefined;
  }
}
