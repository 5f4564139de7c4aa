/**
 * Writes and reads of lead/deal/contact/company records, shared by the legacy
 * `crm.X.*` methods and `crm.item.*`: value formats (legacy results carry
 * strings), defaults, derived fields (DATE_MODIFY, stage semantics, HAS_PHONE,
 * MOVED_TIME...), multi-value fields and user fields, and the events a write raises.
 */
import { formatIso, parseDate } from '../clock.js';
import type { EmulatorState } from '../state.js';
import type { Row } from '../store.js';
import { PortalError, type CallContext } from '../types.js';
import { ID_TYPES, MULTIFIELD_TYPES, type CrmEntity, type FieldDef } from './entities.js';
import { applyLegacyMulti, seedMulti, type MultiValue } from './multifield.js';
import { defaultCategoryId, smartCategories, stageEntityId, stagePrefix } from './smart-types.js';
import { ufDefinition, ufDefs, ufValue } from './uf.js';

const DAY = 86_400_000;

/** Format one written value the way a legacy result shows it. */
export function legacyValue(def: FieldDef, v: unknown, offset: number): unknown {
  if (def.isMultiple && def.type !== 'crm_multifield') {
    const arr = Array.isArray(v) ? v : v !== null && typeof v === 'object' ? Object.values(v) : v === null || v === undefined || v === '' ? [] : [v];
    return arr.map((x) => String(x));
  }
  if (v === undefined || v === null) return null;
  if (ID_TYPES.has(def.type)) {
    if (v === '' || v === false) return null;
    const n = Number(v);
    return Number.isFinite(n) ? String(Math.trunc(n)) : null;
  }
  switch (def.type) {
    case 'double': {
      if (v === '') return null;
      const n = Number(String(v).replace(',', '.'));
      return Number.isFinite(n) ? (def.decimals !== undefined ? n.toFixed(def.decimals) : String(n)) : null;
    }
    case 'char':
      return v === true || v === 1 || v === '1' || String(v).toUpperCase() === 'Y' ? 'Y' : 'N';
    case 'datetime':
    case 'date': {
      if (v === '') return def.type === 'date' ? '' : null;
      const ms = parseDate(v, offset);
      if (Number.isNaN(ms)) return null;
      // A date field holds a day: the portal shows it at local midnight ("BEGINDATE": "2026-04-15T00:00:00+03:00").
      return formatIso(def.type === 'date' ? startOfDay(ms, offset) : ms, offset);
    }
    default:
      return typeof v === 'object' ? v : String(v);
  }
}

/** Stage entity of a deal pipeline: `DEAL_STAGE` for 0, `DEAL_STAGE_N` otherwise. */
export function dealStageEntity(categoryId: number): string {
  return categoryId === 0 ? 'DEAL_STAGE' : `DEAL_STAGE_${categoryId}`;
}

/** Options of a write. */
export interface WriteOptions {
  /** crm.item.update: no save and no event when nothing changed. */
  skipIfUnchanged?: boolean;
  /** crm.item `fm` already applied: the complete multi values per type, replacing the stored ones. */
  multi?: Row;
  /** crm.item.update may move a deal to another pipeline (legacy crm.deal.update ignores CATEGORY_ID). */
  allowCategoryChange?: boolean;
}

export class CrmRecords {
  constructor(readonly state: EmulatorState) {}

  get #offset(): number {
    return this.state.portal.offsetMinutes;
  }

  #stages(entityId: string): Row[] {
    return this.state.store
      .scan('status')
      .filter((s) => s.ENTITY_ID === entityId)
      .sort((a, b) => Number(a.SORT ?? 0) - Number(b.SORT ?? 0));
  }

  /** P (in progress), S (success) or F (failure) of a stage. */
  semantic(entityId: string, statusId: string): 'P' | 'S' | 'F' {
    const s = this.#stages(entityId).find((r) => r.STATUS_ID === statusId);
    const sem = s?.SEMANTICS ?? (s?.EXTRA as Row | undefined)?.SEMANTICS;
    if (sem === 'S' || sem === 'success') return 'S';
    if (sem === 'F' || sem === 'failure' || sem === 'apology') return 'F';
    if (!s) {
      if (statusId === 'CONVERTED' || /(^|:)WON$/.test(statusId)) return 'S';
      if (statusId === 'JUNK' || /(^|:)(LOSE|APOLOGY)$/.test(statusId)) return 'F';
    }
    return 'P';
  }

  /** A deals' pipeline (category ids are shared with the smart processes' pipelines). */
  #isDealCategory(id: number): boolean {
    const c = this.state.store.get('category', id);
    return c !== undefined && Number(c.entityTypeId ?? 2) === 2;
  }

  #firstStage(entityId: string, fallback: string): string {
    return String(this.#stages(entityId)[0]?.STATUS_ID ?? fallback);
  }

  /** Shape a seeded row: format values, give multi values ids, declare unknown UF_CRM_ fields, fill derived fields. */
  normalizeSeed(entity: CrmEntity, raw: Row): Row {
    const now = this.state.now();
    const row: Row = {};
    for (const [name, def] of Object.entries(entity.fields)) {
      if (def.type === 'crm_multifield') {
        if (raw[name] !== undefined) row[name] = seedMulti(this.state.store, name, raw[name]);
      } else if (name in raw) row[name] = legacyValue(def, resolveRelative(raw[name], now, this.#offset), this.#offset);
      else row[name] = def.type === 'date' ? '' : null;
    }
    const defs = ufDefs(this.state.store, entity.ufEntityId);
    for (const [k, v] of Object.entries(raw)) {
      if (!k.startsWith('UF_CRM_')) continue;
      let def = defs.find((d) => d.FIELD_NAME === k);
      if (!def) {
        def = ufDefinition(this.state.store, entity.ufEntityId, { FIELD_NAME: k, USER_TYPE_ID: typeof v === 'boolean' ? 'boolean' : Array.isArray(v) ? 'string' : 'string', MULTIPLE: Array.isArray(v) ? 'Y' : 'N' });
        this.state.store.put('userfield', def.ID as string, def);
        defs.push(def);
      }
      row[k] = ufValue(def, v, this.#offset);
    }
    row.ID = String(raw.ID);
    row.DATE_CREATE ??= formatIso(now, this.#offset);
    row.DATE_MODIFY ??= row.DATE_CREATE;
    row.CREATED_BY_ID ??= '1';
    row.MODIFY_BY_ID ??= row.CREATED_BY_ID;
    row.ASSIGNED_BY_ID ??= row.CREATED_BY_ID;
    row.OPENED ??= 'Y';
    if (entity.name === 'lead' || entity.name === 'deal') {
      row.IS_MANUAL_OPPORTUNITY ??= 'N';
      row.CURRENCY_ID ??= this.state.portal.currency;
    }
    if (entity.name === 'lead') row.STATUS_ID ??= this.#firstStage('STATUS', 'NEW');
    if (entity.name === 'deal') {
      row.CATEGORY_ID ??= '0';
      row.STAGE_ID ??= this.#firstStage(dealStageEntity(Number(row.CATEGORY_ID)), Number(row.CATEGORY_ID) === 0 ? 'NEW' : `C${String(row.CATEGORY_ID)}:NEW`);
    }
    if (entity.smart) {
      row.CATEGORY_ID ??= String(defaultCategoryId(this.state.store, entity.entityTypeId) ?? 0);
      row.STAGE_ID ??= this.#firstStage(stageEntityId(entity.entityTypeId, Number(row.CATEGORY_ID)), `${stagePrefix(entity.entityTypeId, Number(row.CATEGORY_ID))}NEW`);
      row.CURRENCY_ID ??= this.state.portal.currency;
      row.IS_MANUAL_OPPORTUNITY ??= 'N';
      row.TITLE ??= `${entity.title} #${String(row.ID)}`;
    }
    this.#derive(entity, row, undefined, Number(row.MODIFY_BY_ID), now, true);
    return row;
  }

  /** Create a record from legacy UPPER_CASE fields; returns the stored row. */
  add(entity: CrmEntity, fields: Row, ctx: CallContext, opts: WriteOptions = {}): Row {
    const store = this.state.store;
    const now = ctx.now();
    const user = String(ctx.auth.userId);
    const id = String(store.nextId(entity.name));
    const row: Row = {};
    // crm-lead-list.md shows an unset date as "" (BIRTHDATE) and other unset fields as null.
    for (const [name, def] of Object.entries(entity.fields)) if (def.type !== 'crm_multifield') row[name] = def.type === 'date' ? '' : null;
    Object.assign(row, {
      ID: id,
      OPENED: 'Y',
      ASSIGNED_BY_ID: user,
      CREATED_BY_ID: user,
      MODIFY_BY_ID: user,
      DATE_CREATE: formatIso(now, this.#offset),
      DATE_MODIFY: formatIso(now, this.#offset),
    });
    if (entity.name === 'lead' || entity.name === 'deal') Object.assign(row, { CURRENCY_ID: this.state.portal.currency, OPPORTUNITY: '0.00', IS_MANUAL_OPPORTUNITY: 'N' });
    if (entity.name === 'lead') row.STATUS_ID = this.#firstStage('STATUS', 'NEW');
    if (entity.name === 'deal') {
      Object.assign(row, { CATEGORY_ID: '0', CLOSED: 'N', IS_NEW: 'Y', IS_RECURRING: 'N', IS_RETURN_CUSTOMER: 'N', IS_REPEATED_APPROACH: 'N', TYPE_ID: 'SALE', PROBABILITY: null });
      row.BEGINDATE = formatIso(startOfDay(now, this.#offset), this.#offset);
      row.CLOSEDATE = formatIso(startOfDay(now, this.#offset) + 7 * DAY, this.#offset);
    }
    if (entity.name === 'contact') row.EXPORT = 'Y';
    if (entity.name === 'company') Object.assign(row, { IS_MY_COMPANY: 'N', CURRENCY_ID: this.state.portal.currency });
    if (entity.name === 'deal') {
      const cat = fields.CATEGORY_ID;
      if (cat !== undefined && cat !== null && cat !== '') {
        const n = Number(cat);
        if (!Number.isInteger(n) || n < 0 || (n > 0 && !this.#isDealCategory(n))) throw new PortalError(400, '', `Category with ID ${String(cat)} is not found.`);
        row.CATEGORY_ID = String(n);
      }
      row.STAGE_ID = this.#firstStage(dealStageEntity(Number(row.CATEGORY_ID)), Number(row.CATEGORY_ID) === 0 ? 'NEW' : `C${String(row.CATEGORY_ID)}:NEW`);
    }
    if (entity.smart) this.#smartDefaults(entity, row, fields, now);
    this.#apply(entity, row, fields, 'add', opts.multi);
    if ((entity.name === 'lead' || entity.name === 'deal' || entity.name === 'company' || entity.smart) && (row.TITLE === null || row.TITLE === '')) row.TITLE = `${entity.title} #${id}`;
    this.#derive(entity, row, undefined, ctx.auth.userId, now, false);
    store.put(entity.name, id, row);
    this.#emit(ctx, entity, 'ADD', id);
    return row;
  }

  /** Change a record with legacy UPPER_CASE fields; `skipIfUnchanged` is crm.item.update's behaviour. Returns the stored row. */
  update(entity: CrmEntity, id: string, fields: Row, ctx: CallContext, opts: WriteOptions = {}): Row {
    const store = this.state.store;
    const before = store.get(entity.name, id);
    if (!before) throw new PortalError(400, '', 'Not found');
    const row = structuredClone(before);
    this.#apply(entity, row, fields, 'update', opts.multi);
    let moved = false;
    if (entity.smart && fields.CATEGORY_ID !== undefined && String(Number(fields.CATEGORY_ID)) !== String(before.CATEGORY_ID)) {
      const n = Number(fields.CATEGORY_ID);
      if (!smartCategories(store, entity.entityTypeId).some((c) => Number(c.id) === n)) throw new PortalError(400, 'NOT_FOUND', `Category with ID ${String(fields.CATEGORY_ID)} is not found`);
      row.CATEGORY_ID = String(n);
      const wanted = typeof fields.STAGE_ID === 'string' ? fields.STAGE_ID : '';
      const stages = this.#stages(stageEntityId(entity.entityTypeId, n)).map((s) => String(s.STATUS_ID));
      row.STAGE_ID = stages.includes(wanted) ? wanted : (stages[0] ?? `${stagePrefix(entity.entityTypeId, n)}NEW`);
    }
    if (entity.name === 'deal' && opts.allowCategoryChange && fields.CATEGORY_ID !== undefined && String(Number(fields.CATEGORY_ID)) !== before.CATEGORY_ID) {
      const n = Number(fields.CATEGORY_ID);
      if (!Number.isInteger(n) || n < 0 || (n > 0 && !this.#isDealCategory(n))) throw new PortalError(400, 'NOT_FOUND', `Category with ID ${String(fields.CATEGORY_ID)} is not found`);
      row.CATEGORY_ID = String(n);
      const wanted = typeof fields.STAGE_ID === 'string' ? fields.STAGE_ID : '';
      const stages = this.#stages(dealStageEntity(n)).map((s) => String(s.STATUS_ID));
      row.STAGE_ID = stages.includes(wanted) ? wanted : (stages[0] ?? (n === 0 ? 'NEW' : `C${n}:NEW`));
      moved = true;
    }
    if (opts.skipIfUnchanged && JSON.stringify(row) === JSON.stringify(before)) return before;
    const now = ctx.now();
    row.DATE_MODIFY = formatIso(now, this.#offset);
    row.MODIFY_BY_ID = String(ctx.auth.userId);
    this.#derive(entity, row, before, ctx.auth.userId, now, false);
    store.put(entity.name, id, row);
    this.#emit(ctx, entity, 'UPDATE', id);
    // on-crm-deal-move-to-category.md
    if (moved) ctx.emit('ONCRMDEALMOVETOCATEGORY', { FIELDS: { ID: id, CATEGORY_ID: row.CATEGORY_ID, STAGE_ID: row.STAGE_ID } });
    return row;
  }

  /** Delete a record; emits ONCRM{TYPE}DELETE. */
  delete(entity: CrmEntity, id: string, ctx: CallContext): void {
    if (!this.state.store.delete(entity.name, id)) throw new PortalError(400, '', 'Not found');
    this.#emit(ctx, entity, 'DELETE', id);
  }

  /**
   * The event of a write: ONCRM{TYPE}{ADD,UPDATE,DELETE} with `FIELDS.ID`; a smart process's item
   * raises ONCRMDYNAMICITEM{...} and its type's own ONCRMDYNAMICITEM{...}_{entityTypeId}, both with
   * `FIELDS.ENTITY_TYPE_ID` (api-reference/crm/universal/events/index.md; invoices too).
   */
  #emit(ctx: CallContext, entity: CrmEntity, what: 'ADD' | 'UPDATE' | 'DELETE', id: string): void {
    if (!entity.smart) {
      ctx.emit(`ONCRM${entity.typeName}${what}`, { FIELDS: { ID: id } });
      return;
    }
    const data = { FIELDS: { ID: id, ENTITY_TYPE_ID: String(entity.entityTypeId) } };
    ctx.emit(`ONCRMDYNAMICITEM${what}`, data);
    ctx.emit(`ONCRMDYNAMICITEM${what}_${entity.entityTypeId}`, data);
  }

  /** A new item's pipeline (the one named, else the default; an unknown one is refused) and the values a portal fills in. */
  #smartDefaults(entity: CrmEntity, row: Row, fields: Row, now: number): void {
    const cats = smartCategories(this.state.store, entity.entityTypeId).map((c) => Number(c.id));
    const named = fields.CATEGORY_ID;
    let cat = cats[0] ?? 0;
    if (named !== undefined && named !== null && named !== '') {
      const n = Number(named);
      if (!cats.includes(n)) throw new PortalError(400, 'NOT_FOUND', `Category with ID ${String(named)} is not found`);
      cat = n;
    }
    Object.assign(row, { CATEGORY_ID: String(cat), OPPORTUNITY: '0', IS_MANUAL_OPPORTUNITY: 'N', CURRENCY_ID: this.state.portal.currency, IS_RECURRING: 'N', CONTACT_IDS: [] });
    row.STAGE_ID = this.#firstStage(stageEntityId(entity.entityTypeId, cat), `${stagePrefix(entity.entityTypeId, cat)}NEW`);
    row.BEGINDATE = formatIso(startOfDay(now, this.#offset), this.#offset);
    row.CLOSEDATE = formatIso(startOfDay(now, this.#offset) + 7 * DAY, this.#offset);
  }

  #apply(entity: CrmEntity, row: Row, fields: Row, mode: 'add' | 'update', multi?: Row): void {
    if (multi) for (const t of MULTIFIELD_TYPES) if (t in entity.fields && multi[t] !== undefined) row[t] = multi[t];
    const defs = ufDefs(this.state.store, entity.ufEntityId);
    for (const [rawKey, v] of Object.entries(fields)) {
      const key = rawKey.toUpperCase();
      if (key.startsWith('UF_')) {
        const def = defs.find((d) => d.FIELD_NAME === key);
        if (def) row[key] = ufValue(def, v, this.#offset);
        continue;
      }
      const def = entity.fields[key];
      if (!def || def.isReadOnly) continue;
      if (def.isImmutable && mode === 'update') continue;
      if (def.type === 'crm_multifield') {
        row[key] = applyLegacyMulti(this.state.store, key, (row[key] as MultiValue[] | undefined) ?? [], v);
        continue;
      }
      if (key === 'CATEGORY_ID' && (mode === 'add' || entity.smart)) continue;
      row[key] = legacyValue(def, v, this.#offset);
    }
  }

  #derive(entity: CrmEntity, row: Row, before: Row | undefined, userId: number, now: number, seeding: boolean): void {
    for (const t of MULTIFIELD_TYPES) if (Array.isArray(row[t]) && (row[t] as unknown[]).length === 0) delete row[t];
    if ('HAS_PHONE' in entity.fields) row.HAS_PHONE = row.PHONE ? 'Y' : 'N';
    if ('HAS_EMAIL' in entity.fields) row.HAS_EMAIL = row.EMAIL ? 'Y' : 'N';
    if ('HAS_IMOL' in entity.fields) row.HAS_IMOL ??= 'N';
    if (entity.name === 'deal' && typeof row.STAGE_ID === 'string') {
      const cat = Number(row.CATEGORY_ID ?? 0);
      const stage: string = row.STAGE_ID;
      const m = /^C(\d+):/.exec(stage);
      if (cat > 0 && !m) row.STAGE_ID = `C${cat}:${stage}`;
      if (cat === 0 && m) row.STAGE_ID = stage.slice(m[0].length);
    }
    if (entity.smart && typeof row.STAGE_ID === 'string') {
      // A stage written without its pipeline's prefix is read in the item's pipeline, as deals' are.
      const prefix = stagePrefix(entity.entityTypeId, Number(row.CATEGORY_ID ?? 0));
      if (!/^DT\d+_\d+:/.test(row.STAGE_ID)) row.STAGE_ID = `${prefix}${row.STAGE_ID}`;
    }
    const stageField = entity.stageField;
    if (stageField) {
      const stageEntity = entity.name === 'lead' ? 'STATUS' : entity.smart ? stageEntityId(entity.entityTypeId, Number(row.CATEGORY_ID ?? 0)) : dealStageEntity(Number(row.CATEGORY_ID ?? 0));
      const sem = this.semantic(stageEntity, String(row[stageField] ?? ''));
      if (entity.name === 'lead') row.STATUS_SEMANTIC_ID = sem;
      else if (!entity.smart) row.STAGE_SEMANTIC_ID = sem;
      const moved = before ? before[stageField] !== row[stageField] : true;
      if (moved && !seeding) {
        row.MOVED_BY_ID = String(userId);
        row.MOVED_TIME = formatIso(now, this.#offset);
        if (entity.smart && before) row.PREVIOUS_STAGE_ID = before[stageField] ?? null;
      }
      if (entity.name === 'deal') row.CLOSED = sem === 'P' ? (seeding ? (row.CLOSED ?? 'N') : 'N') : 'Y';
      if (entity.name === 'lead' && !seeding) row.DATE_CLOSED = sem === 'P' ? null : before?.DATE_CLOSED && before.STATUS_SEMANTIC_ID === sem ? before.DATE_CLOSED : formatIso(now, this.#offset);
    }
    if (entity.name === 'deal' && before && !seeding) row.IS_NEW = 'N';
    // CONTACT_ID is the primary of CONTACT_IDS: keep the two in step.
    if ('CONTACT_IDS' in entity.fields && entity.name !== 'contact') {
      const ids = Array.isArray(row.CONTACT_IDS) ? (row.CONTACT_IDS as string[]) : [];
      const primary = row.CONTACT_ID as string | null;
      const idsChanged = JSON.stringify(ids) !== JSON.stringify(before?.CONTACT_IDS ?? []);
      if (ids.length > 0 && idsChanged && (!primary || !ids.includes(primary))) row.CONTACT_ID = ids[0] ?? null;
      else if (primary && !ids.includes(primary)) row.CONTACT_IDS = [primary, ...ids];
      else if (!primary && ids.length > 0 && !idsChanged) row.CONTACT_IDS = [];
    }
    // crm-lead-add.md: IS_RETURN_CUSTOMER cannot be set on leads; it follows COMPANY_ID / CONTACT_ID.
    if (entity.name === 'lead') row.IS_RETURN_CUSTOMER = (row.COMPANY_ID && row.COMPANY_ID !== '0') || (row.CONTACT_ID && row.CONTACT_ID !== '0') ? 'Y' : 'N';
  }
}

function startOfDay(ms: number, offset: number): number {
  const local = ms + offset * 60_000;
  return local - (local % DAY) - offset * 60_000;
}

/** Seed data may say `now-21d` / `now+2h` for dates relative to the emulator clock at start. */
export function resolveRelative(v: unknown, now: number, offset: number): unknown {
  if (typeof v !== 'string') return v;
  const m = /^now(?:([+-])(\d+)([smhdw]))?$/.exec(v.trim());
  if (!m) return v;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: DAY, w: 7 * DAY }[(m[3] ?? 's') as 's' | 'm' | 'h' | 'd' | 'w'];
  const delta = m[1] === undefined ? 0 : (m[1] === '-' ? -1 : 1) * Number(m[2]) * unit;
  return formatIso(now + delta, offset);
}
