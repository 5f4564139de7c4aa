/**
 * Dry-run: items through the same match, load, evaluate and plan functions as
 * `tick`, without a ledger and without sending. Reads happen (batched);
 * round-robin picks advance within the plan only.
 */
import { methodKind, type PlannedCall } from '../actions/index.js';
import type { B24ClientApi } from '../client/types.js';
import { B24RulesError } from '../errors.js';
import { runIdentity } from '../executor/effect-key.js';
import { packBatches } from '../executor/packer.js';
import { loadFacts, loadRecords, RecordCache, type LoadTarget } from '../facts/loader.js';
import { TickReader } from '../facts/reader.js';
import { redactValue } from '../redact.js';
import type { CompiledRule, Facts } from '../rules/types.js';
import type { StateStore } from '../store/state-store.js';
import type { InboxItem, InboxItemInput } from '../store/types.js';
import { evaluateRun, withVolatile, type EvalContext } from './evaluate.js';
import { expandRuns, type Expanded } from './expand.js';
import { planStage, type PlannedEffect } from './planner.js';
import { matchRules, triggerKeyOf } from './trigger.js';
import type { Plan, PlanCallOut, PlanFiringOut } from './types.js';
import { rowRecord, updateTargets, type RunWork } from './work.js';

/** What a dry-run needs from the engine. */
export interface PlanDeps {
  client: B24ClientApi;
  rules: CompiledRule[];
  /** Read only: snapshots, dedupe keys, round-robin positions. */
  store: StateStore;
  /** The clock's time for this plan (ms). */
  now: number;
  /** `now` and `env` for a rule. */
  volatile(rule: CompiledRule): Facts;
  /** A read-only evaluation context (snapshots are not written). */
  evalContext: EvalContext;
}

/** Plan `inputs`: firings (rule, trigger, record, condition, calls with before/after) and the write batches. */
export async function planItems(deps: PlanDeps, inputs: InboxItemInput[]): Promise<Plan> {
  const reader = new TickReader(deps.client);
  const records = new RecordCache();
  const firings: PlanFiringOut[] = [];
  const works: Array<{ work: RunWork; firing: PlanFiringOut; target: LoadTarget }> = [];
  let n = 0;
  for (const input of inputs) {
    const item = { ...input, id: 'id' in input && typeof (input as InboxItem).id === 'number' ? (input as InboxItem).id : --n } as InboxItem;
    for (const rule of matchRules(item, deps.rules)) {
      const trigger = { kind: rule.trigger.kind, ...(item.event ? { event: item.event } : {}), key: item.key, ...planAt(item) };
      let expanded: Expanded[];
      try {
        expanded = await expandRuns(item, rule, reader, deps.volatile(rule));
      } catch (err) {
        const e = err instanceof B24RulesError ? err : new B24RulesError('MATCH_FAILED', (err as Error).message);
        firings.push({ rule: rule.id, file: rule.location.file, line: rule.location.line, trigger, condition: null, error: { code: e.code, message: e.message }, calls: [] });
        continue;
      }
      for (const x of expanded) {
        const work: RunWork = { runId: null, rule, item, triggerKey: triggerKeyOf(item), recordKey: x.recordKey, meta: x.meta, facts: x.facts, cursor: 0, attempts: 0, concurrencyKey: null, dedupeKey: null, trace: {} };
        const ref = x.meta.record;
        const firing: PlanFiringOut = { rule: rule.id, file: rule.location.file, line: rule.location.line, trigger, ...(ref ? { record: { entity: ref.entity, id: ref.id } } : {}), condition: null, calls: [] };
        firings.push(firing);
        const target: LoadTarget = { rule, facts: work.facts, loaded: [] };
        if (ref && ref.load !== false) target.record = ref;
        works.push({ work, firing, target });
      }
    }
  }
  await loadFacts(
    works.map((w) => w.target),
    reader,
    records,
  );
  const ctx = deps.evalContext;
  const picks = new Map<string, number>();
  const acting: typeof works = [];
  for (const w of works) {
    const { work, firing, target } = w;
    if (target.error) {
      firing.error = { code: 'LOAD_FAILED', message: target.error };
      continue;
    }
    const rec = work.meta.record ? work.facts[work.meta.record.entity] : undefined;
    if (firing.record && rec && typeof rec === 'object') {
      const title = (rec as Record<string, unknown>).TITLE ?? (rec as Record<string, unknown>).title;
      if (typeof title === 'string') firing.record.title = title;
    }
    const outcome = evaluateRun(work, ctx);
    const cond = work.trace.condition as { value: boolean; reason?: string } | undefined;
    firing.condition = cond ?? null;
    if (outcome.kind === 'error') firing.error = { code: 'EVALUATE_FAILED', message: outcome.message };
    else if (outcome.kind === 'skip') {
      firing.skipped = outcome.reason;
      if (outcome.triggerHeld === false) firing.triggerHeld = false;
    }
    else acting.push(w);
  }
  const preload = acting.flatMap((w) => updateTargets(w.work, withVolatile(w.work, ctx)));
  try {
    await loadRecords(preload, reader, records);
  } catch {
    // Plans then show every field of such updates as sent.
  }
  for (const { work, firing } of acting) {
    const facts: Facts = { ...work.facts, ...deps.volatile(work.rule) };
    const identity = runIdentity(work.rule.id, work.triggerKey, work.recordKey, work.dedupeKey);
    const row = rowRecord(work);
    const stage = planStage({
      rule: work.rule,
      identity,
      facts,
      cursor: 0,
      pendingNames: new Set(),
      records,
      ...(row ? { rowRecord: row } : {}),
      pick: (key, users) => {
        const k = `${work.rule.id}\u0000${key}`;
        const offset = picks.get(k) ?? 0;
        picks.set(k, offset + 1);
        const pos = deps.store.positions.position(work.rule.id, key);
        return users[(pos + offset) % users.length];
      },
    });
    firing.calls = stage.effects.map((pe) => planCall(pe));
    if (stage.error) firing.error = { code: stage.error.code, message: stage.error.message };
    else if (!stage.finished && stage.waitingFor) firing.stoppedAt = { action: stage.cursor, reason: stage.waitingFor };
    else if (stage.stopReason && firing.calls.length === 0) firing.skipped = `stop: ${stage.stopReason}`;
    else if (firing.calls.length === 0 && !firing.skipped) {
      const notes = stage.trace.map((t) => t.note ?? t.skipped).filter(Boolean);
      firing.skipped = notes.length ? String(notes.join('; ')) : 'no calls';
    }
  }
  const flat: Array<[number, number]> = [];
  firings.forEach((f, fi) =>
    f.calls.forEach((c, ci) => {
      if (c.method !== 'http') flat.push([fi, ci]);
    }),
  );
  const batches = packBatches(flat).map((calls, i) => ({ index: i + 1, calls }));
  return { at: new Date(deps.now).toISOString(), firings, batches, readRequests: reader.requests };
}

function planAt(item: InboxItemInput): { at?: string } {
  const sch = item.payload.schedule as { at?: unknown } | undefined;
  if (sch && typeof sch.at === 'string') return { at: sch.at };
  const ts = item.payload.ts;
  if (typeof ts === 'string' && ts !== '') return { at: ts };
  return {};
}

function planCall(pe: PlannedEffect): PlanCallOut {
  const call = pe.call as PlannedCall | undefined;
  const out: PlanCallOut = {
    method: pe.method,
    params: redactValue(pe.params),
    kind: pe.method === 'http' ? 'write' : methodKind(pe.method),
    key: pe.effectKey,
    action: { kind: pe.kind, index: pe.actionIndex },
  };
  if (call?.after) out.changes = Object.entries(call.after).map(([field, after]) => ({ field, before: call.before?.[field] ?? null, after }));
  return out;
}
