/**
 * Stage 1, match: inbox items → runs. An item starts one run per matching rule,
 * or one per row of a rule's `foreach` query (read here, fast paging,
 * `max_records` + 1 at most). A rule whose expansion fails is reported with its
 * error; the conductor decides what that means for the item.
 */
import { B24RulesError, toB24RulesError } from '../errors.js';
import { ENTITIES, runRecordKey, type TickReader } from '../facts/index.js';
import type { CompiledRule, Facts } from '../rules/index.js';
import { ForeachLimitError } from './errors.js';
import { baseTrace, type Run, type RunItem } from './run.js';
import { eventRecord, matchRules, triggerFacts, triggerKeyOf } from './trigger.js';

export interface MatchedItem {
  item: RunItem;
  runs: Run[];
  /** Rules whose runs could not be built (a foreach read failed, or matched too many rows). */
  failures: Array<{ rule: CompiledRule; error: B24RulesError }>;
}

/**
 * The runs each item starts. `volatile(rule)` are the facts added fresh (`now`, `env`).
 * With `maxRuns`, matching stops before the item that would start a run past it
 * (the first item is always matched): the items left are matched by a later tick.
 */
export async function match(items: RunItem[], rules: readonly CompiledRule[], reader: TickReader, volatile: (rule: CompiledRule) => Facts, maxRuns = Infinity): Promise<MatchedItem[]> {
  const out: MatchedItem[] = [];
  let runs = 0;
  for (const item of items) {
    if (out.length > 0 && runs >= maxRuns) break;
    const m: MatchedItem = { item, runs: [], failures: [] };
    for (const rule of matchRules(item, rules)) {
      try {
        m.runs.push(...(await expand(item, rule, reader, volatile(rule))));
      } catch (err) {
        m.failures.push({ rule, error: toB24RulesError(err, 'MATCH_FAILED') });
      }
    }
    runs += m.runs.length;
    out.push(m);
  }
  return out;
}

function newRun(item: RunItem, rule: CompiledRule, recordKey: string, facts: Facts): Run {
  return {
    id: null,
    rule,
    item,
    triggerKey: triggerKeyOf(item),
    recordKey,
    facts,
    cursor: 0,
    attempts: 0,
    concurrencyKey: null,
    dedupeKey: null,
    trace: baseTrace(item, rule, rule.mode === 'shadow'),
    ...(rule.mode === 'shadow' ? { shadow: true as const } : {}),
  };
}

async function expand(item: RunItem, rule: CompiledRule, reader: TickReader, volatile: Facts): Promise<Run[]> {
  const base = triggerFacts(item, rule);
  if (!rule.foreach || rule.trigger.kind === 'event') {
    const ref = eventRecord(item, rule);
    const run = newRun(item, rule, ref ? runRecordKey(ref) : '', base);
    if (ref) run.record = ref;
    return [run];
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
    const typed = fe.entity === 'item' && fe.entityTypeId !== undefined ? { entityTypeId: fe.entityTypeId } : {};
    const run = newRun(item, rule, fe.entity ? runRecordKey({ entity: fe.entity, id, ...typed }) : `${fe.method ?? 'row'}:${id}`, { ...base, [fe.as]: row });
    if (fe.entity && fe.entity !== 'user') run.record = { entity: fe.entity, id, load: false, ...typed };
    return run;
  });
}
