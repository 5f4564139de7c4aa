/**
 * The portal snapshot indexed for the rule checks and the name resolution:
 * an entity's fields by code, camelCase name and label; its stages by ID and
 * by pipeline; users by ID and by name; `crm_status` lists; and which kind of
 * value a field takes (a stage, a user, a pipeline, a list value).
 */
import type { EntityModel, FieldModel, ListValue, PipelineModel, PortalSnapshot, StageModel, UserModel } from './snapshot.js';

/** Which record type a part of a rule is about: `{ entity: 'deal' }`, `{ entity: 'item', entityTypeId: 147 }`. */
export interface EntityRef {
  entity: string;
  entityTypeId?: number;
}

/** What kind of value a field takes, for checks and names. */
export type ValueKind = { kind: 'stage' } | { kind: 'user' } | { kind: 'pipeline' } | { kind: 'list'; values: ListValue[]; list: string } | { kind: 'other' };

const ENTITY_KEYS: Record<string, string> = { lead: 'lead', deal: 'deal', contact: 'contact', company: 'company' };
const USER_TYPES = new Set(['user', 'employee']);

/** The key of an entity in the snapshot: lead, deal, ..., dynamic_147, smart_invoice. */
export function entityKey(ref: EntityRef): string | undefined {
  if (ENTITY_KEYS[ref.entity]) return ENTITY_KEYS[ref.entity];
  if (ref.entity !== 'item' || ref.entityTypeId === undefined) return undefined;
  if (ref.entityTypeId === 31) return 'smart_invoice';
  if (ref.entityTypeId >= 1 && ref.entityTypeId <= 4) return ['lead', 'deal', 'contact', 'company'][ref.entityTypeId - 1];
  return `dynamic_${ref.entityTypeId}`;
}

/** A stage found, with its pipeline. */
export interface StageHit {
  stage: StageModel;
  pipeline: PipelineModel;
}

/** One entity of the snapshot with its lookups. */
export class EntityIndex {
  readonly key: string;
  readonly byCode = new Map<string, FieldModel>();
  readonly byLabel = new Map<string, FieldModel[]>();
  readonly stages = new Map<string, StageHit>();

  constructor(
    key: string,
    readonly model: EntityModel,
  ) {
    this.key = key;
    for (const f of Object.values(model.fields)) {
      this.byCode.set(f.code.toUpperCase(), f);
      if (f.camel) this.byCode.set(f.camel.toUpperCase(), f);
      const label = norm(f.label);
      this.byLabel.set(label, [...(this.byLabel.get(label) ?? []), f]);
    }
    for (const p of model.pipelines) for (const s of p.stages) this.stages.set(s.id, { stage: s, pipeline: p });
  }

  /** What people call this entity in messages: `deals`, `leads`, `Equipment (smart process)`. */
  get label(): string {
    return ENTITY_KEYS[this.key] ? (this.key === 'company' ? 'companies' : `${this.key}s`) : this.model.title;
  }

  /** The field a code names (legacy UPPER_CASE, or crm.item's camelCase), case-insensitively. */
  field(code: string): FieldModel | undefined {
    return this.byCode.get(code.toUpperCase());
  }

  /** Every code a rule may write for a field of this entity (for did-you-mean). */
  codes(): string[] {
    return Object.values(this.model.fields).map((f) => f.code);
  }

  /** The pipeline a stage ID belongs to by its prefix (`C1:` deals, `DT147_3:` items), else the default one. */
  pipelineOfStageId(id: string): PipelineModel | undefined {
    const deal = /^C(\d+):/.exec(id);
    const item = /^DT\d+_(\d+):/.exec(id);
    const n = deal ? Number(deal[1]) : item ? Number(item[1]) : undefined;
    if (n !== undefined) return this.model.pipelines.find((p) => p.id === n);
    return this.model.pipelines.find((p) => p.isDefault) ?? this.model.pipelines[0];
  }

  /** The pipeline with this name (case-insensitive) or numeric ID. */
  pipeline(nameOrId: string | number): PipelineModel | undefined {
    if (typeof nameOrId === 'number' || /^\d+$/.test(nameOrId)) return this.model.pipelines.find((p) => p.id === Number(nameOrId));
    return this.model.pipelines.find((p) => norm(p.name) === norm(nameOrId));
  }
}

/** The snapshot with its lookups. */
export class PortalModel {
  readonly users = new Map<string, UserModel>();
  readonly #entities = new Map<string, EntityIndex>();

  constructor(
    readonly snapshot: PortalSnapshot,
    /** Where it was read from (named in messages). */
    readonly file: string,
  ) {
    for (const [key, e] of Object.entries(snapshot.entities)) this.#entities.set(key, new EntityIndex(key, e));
    for (const u of snapshot.users) this.users.set(String(u.id), u);
  }

  /** The entity a part of a rule is about, when the snapshot has it (tasks and users are not in it). */
  entity(ref: EntityRef | undefined): EntityIndex | undefined {
    const key = ref ? entityKey(ref) : undefined;
    return key ? this.#entities.get(key) : undefined;
  }

  /** Active users whose name is `name` (case and spacing ignored; "Last First" also matches). */
  usersNamed(name: string): UserModel[] {
    const n = norm(name);
    return this.snapshot.users.filter((u) => norm(u.name) === n || norm(u.name.split(' ').reverse().join(' ')) === n);
  }

  /** What kind of value `field` of `entity` takes. */
  valueKind(entity: EntityIndex, field: FieldModel): ValueKind {
    if (field.type === 'crm_category' || field.code === 'CATEGORY_ID') return { kind: 'pipeline' };
    if (USER_TYPES.has(field.type)) return { kind: 'user' };
    if (isStageField(entity, field)) return { kind: 'stage' };
    if (field.type === 'enumeration' && field.items) return { kind: 'list', values: field.items, list: field.label };
    if (field.type === 'crm_status' && field.statusType && this.snapshot.statuses[field.statusType]) return { kind: 'list', values: this.snapshot.statuses[field.statusType]!, list: field.statusType };
    return { kind: 'other' };
  }
}

function isStageField(entity: EntityIndex, field: FieldModel): boolean {
  if (entity.model.pipelines.length === 0) return false;
  if (field.code === 'STAGE_ID' || (entity.key === 'lead' && field.code === 'STATUS_ID')) return true;
  const t = field.statusType ?? '';
  return field.type === 'crm_status' && (t === 'STATUS' || t.startsWith('DEAL_STAGE') || /_STAGE/.test(t));
}

/** Lower case, single spaces: how names are compared. */
export function norm(s: string): string {
  return s.trim().replace(/\s+/g, ' ').toLowerCase();
}
