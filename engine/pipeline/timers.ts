/**
 * Timers in the tick (issue 18; docs/engine.md, Timers): a run stopped at a
 * `delay:` waits on a timer (status `delayed`); a `for:` trigger arms a timer
 * per rule and record when an event shows the record entering its state and
 * cancels it when one shows it left. At the start of every tick the due
 * timers become work in the same transaction that marks them fired: a delayed
 * run goes back to `new` (its record and loads are read again, then planning
 * goes on after the delay), a `for:` timer becomes an inbox item of its own
 * (source `timer`) that runs the rule as a normal run. A crash before that
 * commit leaves the timer pending, after it the work is stored: a timer fires
 * once, and after downtime each due timer fires once.
 *
 * A `wait_for:` is a timer too (its timeout), with the event it waits for: an
 * event about the run's record that comes first (and matches) marks it fired
 * and wakes the run at the action after the wait; the timeout wakes it at its
 * `on_timeout` actions. Either way the timer fires once.
 */
import { ENTITIES, eventRecordId, eventRecordRef, readKey, recordKey, runRecordKey } from '../facts/index.js';
import type { EntityName } from '../rules/index.js';
import { redact } from '../redact.js';
import type { InboxItemInput, StateStore, TimerRecord } from '../store/index.js';
import type { PlannedDelay, PlannedWait } from './4-plan.js';
import { finishRun, skipRun, type FinishContext } from './7-finish.js';
import type { Tick } from './context.js';
import { volatileFacts } from './context.js';
import { encodeFacts, type Run, type RunItem } from './run.js';
import { describeState, describeWait, TIMER_SOURCE } from './timer-logic.js';

/** What a `for:` timer carries to its firing: the record, and the change that started it. */
interface ForPayload {
  event: string;
  entity: string;
  id: string;
  entityTypeId?: number;
  /** The changes of the `changed:` fields when the record entered the state (`changes.F.from/to` of the fired run). */
  changes: Record<string, { from: unknown; to: unknown }>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Why a run woken from a delay or wait ends skipped: its rule was edited while it waited. */
export function ruleChanged(ruleId: string, was: string, now: string): string {
  return `rule ${ruleId} changed while the run waited (was ${was.slice(0, 8)}, now ${now.slice(0, 8)}); its remaining actions were not run`;
}

/**
 * Fire the timers due now, earliest first, at most `limit`; one commit. Finished
 * timer items are retired (acknowledged) here too: no source waits for them.
 * Returns how many fired.
 */
export function fireDueTimers(t: Tick, limit: number): number {
  const { store } = t;
  const now = t.now();
  // Read and marked in one transaction, each timer marked before its work: one cancelled meanwhile (rules timers cancel) does nothing.
  return store.transaction(() => {
    const due = store.timers.due(now, limit);
    let fired = 0;
    for (const timer of due) {
      if (timer.kind === 'for') {
        const item = forItem(timer, now);
        if (!store.timers.markFired(timer.id, `inbox item ${TIMER_SOURCE}:${item.key}`)) continue;
        store.inbox.add([item]);
      } else {
        const waiting = timer.runId !== null && store.runs.get(timer.runId)?.status === 'delayed';
        const note = !waiting
          ? `run ${timer.runId ?? '?'} was no longer waiting`
          : timer.kind === 'wait_for'
            ? `timeout: no ${timer.event} came; run ${timer.runId} goes on with its on_timeout actions`
            : `run ${timer.runId} goes on`;
        if (!store.timers.markFired(timer.id, note)) continue;
        if (waiting) store.runs.wake(timer.runId!, timer.kind === 'wait_for' ? Number(timer.payload.timeoutAt) : undefined);
      }
      fired++;
    }
    const retired = store.inbox.finished(TIMER_SOURCE);
    if (retired.length) store.inbox.markAcknowledged(retired.map((i) => i.id));
    return fired;
  });
}

function forItem(timer: TimerRecord, now: number): InboxItemInput {
  const p = timer.payload as unknown as ForPayload;
  const fields: Record<string, unknown> = { ID: p.id };
  if (p.entityTypeId !== undefined) fields.ENTITY_TYPE_ID = p.entityTypeId;
  return {
    source: TIMER_SOURCE,
    // Timer ids can be reused once pruned (INTEGER PRIMARY KEY); with its creation time the key is this firing's alone.
    key: `for:${timer.id}:${timer.createdAt}`,
    event: p.event,
    ruleId: timer.ruleId,
    payload: { event: p.event, data: { FIELDS: fields }, ts: iso(now), timer: { id: timer.id, kind: timer.kind, dueAt: iso(timer.dueAt), changes: p.changes } },
    receivedAt: now,
  };
}

/**
 * A run the planner stopped at a delay with nothing to wait for first: its timer starts
 * and the run is stored `delayed` at the action after the delay, with its facts and
 * journal so far. Call inside the transaction that stores the round.
 */
export function startDelay(t: Tick, run: Run, delay: PlannedDelay): void {
  const { store } = t;
  const { timer } = store.timers.create({
    kind: 'delay',
    ruleId: run.rule.id,
    recordKey: run.recordKey,
    runId: run.id!,
    dueAt: delay.dueAt,
    payload: { action: delay.actionIndex, recheck: delay.recheck, what: delay.what },
  });
  run.resume = { timerId: timer.id, recheck: delay.recheck };
  run.trace = { ...run.trace, waitingFor: `timer ${timer.id}: delay ${delay.what}, until ${iso(delay.dueAt)}${delay.recheck ? ', then the condition is checked again' : ''}` };
  store.runs.update(run.id!, { status: 'delayed', cursor: run.cursor, nextAttemptAt: delay.dueAt, facts: encodeFacts(run), trace: run.trace });
  t.live.delete(run.id!);
}

/**
 * A run the planner stopped at a wait_for with nothing to wait for first: its timer (the
 * timeout, with the event it waits for) starts and the run is stored `delayed` at the action
 * after the wait. Call inside the transaction that stores the round.
 */
export function startWait(t: Tick, run: Run, wait: PlannedWait): void {
  const { store } = t;
  const { timer } = store.timers.create({
    kind: 'wait_for',
    ruleId: run.rule.id,
    recordKey: run.recordKey,
    runId: run.id!,
    dueAt: wait.dueAt,
    event: wait.event,
    // Items already in the inbox came before the wait: they must not end it (deliverWaits).
    payload: { action: wait.actionIndex, what: wait.what, timeoutAt: wait.timeoutAt, afterItem: store.inbox.lastId() },
  });
  run.resume = { timerId: timer.id, recheck: false };
  run.trace = { ...run.trace, waitingFor: `timer ${timer.id}: wait_for ${wait.what}, until ${iso(wait.dueAt)}` };
  store.runs.update(run.id!, { status: 'delayed', cursor: run.cursor, nextAttemptAt: wait.dueAt, facts: encodeFacts(run), trace: run.trace });
  t.live.delete(run.id!);
}

/** crm.activity's OWNER_TYPE_ID → the entity it names. */
const OWNER_TYPES: Record<string, string> = Object.fromEntries(
  Object.entries(ENTITIES)
    .filter(([, def]) => def.ownerTypeId !== undefined)
    .map(([name, def]) => [String(def.ownerTypeId), name]),
);

/**
 * Events that end waits: for each ready item whose event someone waits for (one index
 * lookup per event name), the record it is about (the event's own record, or an activity's
 * owner: one batch of reads), then each pending wait of that event and record whose `match`
 * holds for it: its timer is marked fired and its run woken at the action after the wait, in
 * one commit. The items go on to be matched to rules as usual. Returns how many waits ended.
 */
export async function deliverWaits(t: Tick, items: RunItem[]): Promise<number> {
  const { store } = t;
  const awaited = new Map<string, boolean>();
  const candidates = items.filter((i) => {
    const ev = i.event?.toUpperCase();
    // A fired for: timer's item carries its rule's event name, but nothing happened to the record.
    if (!ev || i.source === TIMER_SOURCE) return false;
    if (!awaited.has(ev)) awaited.set(ev, store.timers.awaited(ev));
    return awaited.get(ev)!;
  });
  if (candidates.length === 0) return 0;
  const requests: Parameters<Tick['reader']['read']>[0] = [];
  const refs: Array<{ entity: EntityName; id: string; entityTypeId?: number }> = [];
  const about = candidates.map((item) => {
    const ev = item.event!.toUpperCase();
    const id = eventRecordId(item.payload);
    if (id === undefined) return undefined;
    if (/^ONCRMACTIVITY/.test(ev)) {
      const req = { method: 'crm.activity.get', params: { id } };
      requests.push(req);
      return { item, ev, id, activity: req };
    }
    const ref = eventRecordRef(ev, item.payload);
    if (!ref) return undefined;
    refs.push(ref);
    return { item, ev, id, ref };
  });
  let read: Awaited<ReturnType<Tick['reader']['read']>>;
  try {
    read = await t.reader.read(requests, refs);
  } catch (err) {
    // The portal is away: the waits stay; the timeout still comes, and the event's own runs retry their reads.
    t.logger.warn({ err }, 'reading the records of awaited events failed');
    return 0;
  }
  const ended: Array<{ timerId: number; runId: number; note: string }> = [];
  for (const a of about) {
    if (!a) continue;
    let record: Record<string, unknown> | undefined;
    let key: string;
    if (a.activity) {
      const r = read.reads.get(readKey(a.activity));
      record = r?.ok && r.result && typeof r.result === 'object' ? (r.result as Record<string, unknown>) : undefined;
      const owner = record ? OWNER_TYPES[String(record.OWNER_TYPE_ID)] : undefined;
      if (!record || !owner) continue;
      key = `${owner}:${String(record.OWNER_ID)}`;
    } else {
      const r = read.records.get(recordKey(a.ref!));
      record = r?.ok && r.result && typeof r.result === 'object' ? (r.result as Record<string, unknown>) : undefined;
      if (!record) continue;
      key = runRecordKey(a.ref!);
    }
    for (const w of store.timers.waitsFor(a.ev, key)) {
      const rule = t.rules.get(w.ruleId);
      if (!rule || w.runId === null) continue;
      if (!cameDuring(a.item, w)) continue;
      const started = store.runs.get(w.runId)?.ruleHash;
      if (started !== undefined && started !== rule.hash) {
        // Its action index means nothing in the edited rule: the run wakes and ends skipped (conductor).
        ended.push({ timerId: w.id, runId: w.runId, note: `${a.ev} ${a.item.source}:${a.item.key} came; ${ruleChanged(rule.id, started, rule.hash)}` });
        continue;
      }
      const spec = rule.actions[Number(w.payload.action)]?.waitFor;
      if (!spec) continue;
      if (spec.match) {
        const facts = { ...volatileFacts(t, rule), event: { name: a.item.event, id: a.id, data: a.item.payload.data ?? {} }, [spec.as]: record };
        let holds = false;
        try {
          holds = spec.match.test(facts);
        } catch (err) {
          t.logger.warn({ err, rule: rule.id, timer: w.id }, 'a wait_for match failed on an event; the wait goes on');
        }
        if (!holds) continue;
      }
      ended.push({ timerId: w.id, runId: w.runId, note: `${a.ev} ${a.item.source}:${a.item.key} came` });
    }
  }
  let woken = 0;
  if (ended.length) {
    store.transaction(() => {
      for (const e of ended) {
        if (store.timers.markFired(e.timerId, e.note)) {
          store.runs.wake(e.runId);
          woken++;
        }
      }
    });
  }
  return woken;
}

/**
 * Whether an item came while the wait was pending: not before its timer was created (an
 * item already in the inbox then: its id is at most the timer's `afterItem` and it was
 * received no later than the timer's creation; both, as ids can be reused after prune and
 * sources' clocks differ), and not received after the timeout.
 */
function cameDuring(item: RunItem, w: TimerRecord): boolean {
  const afterItem = w.payload.afterItem;
  if (typeof afterItem === 'number' && item.id <= afterItem && item.receivedAt <= w.createdAt) return false;
  return !(item.receivedAt > w.dueAt);
}

/**
 * An event showed the record entering the `for:` state: start its timer (or keep the one
 * running since it entered earlier). The run is journaled as a compact skipped row saying so.
 * Call inside the start commit.
 */
export function armFor(t: Tick, run: Run, dueAt: number): void {
  const { rule } = run;
  if (rule.trigger.kind !== 'event' || !rule.trigger.for || !rule.trigger.changed || !run.record) return;
  const changes: ForPayload['changes'] = {};
  for (const f of Object.keys(rule.trigger.changed)) if (run.changes?.[f]) changes[f] = { from: run.changes[f]!.from ?? null, to: run.changes[f]!.to };
  const payload: ForPayload = { event: rule.trigger.event, entity: run.record.entity, id: run.record.id, changes };
  if (run.record.entityTypeId !== undefined) payload.entityTypeId = run.record.entityTypeId;
  const { timer, created } = t.store.timers.create({ kind: 'for', ruleId: rule.id, recordKey: run.recordKey, dueAt, payload: payload as unknown as Record<string, unknown> });
  const state = describeState(rule.trigger.changed);
  const wait = describeWait(rule.trigger.for);
  skipRun(
    t,
    run,
    created
      ? `for: ${state}: timer ${timer.id} fires at ${iso(timer.dueAt)} (${wait}) unless the record leaves the state`
      : `for: ${state} still: timer ${timer.id}, started ${iso(timer.createdAt)}, fires at ${iso(timer.dueAt)}`,
  );
}

/**
 * An event showed the record out of the `for:` state: its pending timer, if any, is
 * cancelled; the run is journaled as a compact skipped row. Call inside the start commit.
 */
export function leaveFor(t: Tick, run: Run, why: string): void {
  const cancelled = t.store.timers.cancelFor(run.rule.id, run.recordKey, redact(`the record left the state: ${why}`));
  skipRun(t, run, cancelled ? `for: ${why}: timer ${cancelled.id} cancelled` : `for: ${why}`);
}

/**
 * Cancel a timer by id (`rules timers cancel`): a pending delay's run ends `skipped` with
 * its journal; a `for:` timer simply does not fire. Returns the timer as it was before,
 * and whether it was pending. Throws StateNotFoundError for an unknown id.
 */
export function cancelTimer(store: StateStore, id: number, note: string): { timer: TimerRecord; cancelled: boolean } {
  return store.transaction(() => {
    const timer = store.timers.get(id);
    const cancelled = store.timers.cancel(id, note);
    if (cancelled && timer && timer.runId !== null) {
      const ctx: FinishContext = { store, report: { finished: { done: 0, skipped: 0, failed: 0, dead: 0 } } as FinishContext['report'], stats: { runs: { done: 0, skipped: 0, failed: 0, dead: 0 } } as FinishContext['stats'], logger: { warn: () => undefined } };
      finishRun(ctx, timer.runId, 'skipped', { reason: `timer ${id} cancelled: ${note}` });
    }
    return { timer: timer!, cancelled };
  });
}
