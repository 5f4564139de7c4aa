/** Matching an item to runs: one run per rule, or one per row of a `foreach` query. */
import { B24RulesError } from '../errors.js';
import { ENTITIES } from '../facts/entities.js';
import type { TickReader } from '../facts/reader.js';
import type { CompiledRule, Facts } from '../rules/types.js';
import type { InboxItemInput } from '../store/types.js';
import { ForeachLimitError } from './errors.js';
import { eventRecord, triggerFacts } from './trigger.js';
import type { RunMeta } from './work.js';

/** A run to create: its rule, record key, trigger facts (plus the foreach row) and bookkeeping. */
export interface Expanded {
  rule: CompiledRule;
  recordKey: string;
  facts: Facts;
  meta: RunMeta;
}

/**
 * The runs an item starts for one rule. A foreach rule reads its rows here
 * (fast paging; `max_records` + 1 at most): more rows than allowed is a
 * ForeachLimitError. `volatile` are the facts added fresh (`now`, `env`).
 */
export async function expandRuns(item: InboxItemInput, rule: CompiledRule, reader: TickReader, volatile: Facts): Promise<Expanded[]> {
  const base = triggerFacts(item, rule);
  if (!rule.foreach || rule.trigger.kind === 'event') {
    const ref = eventRecord(item, rule);
    return [{ rule, recordKey: ref ? `${ref.entity}:${ref.id}` : '', facts: base, meta: ref ? { record: ref } : {} }];
  }
  const fe = rule.foreach;
  const method = fe.method ?? (fe.entity ? ENTITIES[fe.entity].list : undefined);
  if (!method) throw new B24RulesError('FOREACH_INVALID', `rule ${rule.id}: foreach needs entity or method`, { kind: 'user' });
  const facts = { ...base, ...volatile };
  const filter = fe.filter?.render(facts);
  const params = fe.params?.render(facts);
  const override = Number(item.payload.maxRecords);
  const max = Number.isInteger(override) && override > 0 ? override : fe.maxRecords;
  const rows = await reader.list(method, {
    ...(filter && typeof filter === 'object' ? { filter: filter as Record<string, unknown> } : {}),
    ...(fe.select ? { select: fe.select } : {}),
    params: params && typeof params === 'object' ? (params as Record<string, unknown>) : {},
    limit: max + 1,
  });
  if (rows.length > max) throw new ForeachLimitError(rule.id, max);
  return rows.map((row, idx) => {
    const r = (row ?? {}) as Record<string, unknown>;
    const id = String(r.ID ?? r.id ?? idx);
    const meta: RunMeta = fe.entity && fe.entity !== 'user' ? { record: { entity: fe.entity, id, load: false } } : {};
    return { rule, recordKey: `${fe.entity ?? fe.method ?? 'row'}:${id}`, facts: { ...base, [fe.as]: row }, meta };
  });
}
