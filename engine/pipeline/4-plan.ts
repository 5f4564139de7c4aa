/**
 * Stage 4, plan: walks a run's actions from its cursor and turns each into the
 * calls it wants (engine/actions/<kind>.ts, pure). It stops before an action
 * that uses the result (`as`) of a call not yet made: that action is planned
 * in the next round, once the result is back (http answers, created IDs).
 * Dry-run is the conductor stopped here.
 */
import { actionKind, type HttpRequestPlan, type PlannedCall } from '../actions/index.js';
import { B24RulesError, toB24RulesError } from '../errors.js';
import { effectKey, runIdentity } from './effect-key.js';
import type { RecordCache } from '../facts/index.js';
import { redactValue } from '../redact.js';
import type { ActionSpec, CompiledRule, EntityName, Facts } from '../rules/index.js';
import { rowRecord, type Run } from './run.js';
import { shadowIdentity, stateSpace } from './shadow.js';
import { delayEnds, describeWait, waitEnds } from './timer-logic.js';

export interface PlannedEffect {
  effectKey: string;
  actionIndex: number;
  callIndex: number;
  kind: ActionSpec['kind'];
  asName: string | null;
  method: string;
  params: Record<string, unknown>;
  call?: PlannedCall;
  http?: HttpRequestPlan;
}

/** What one round of planning produced for a run. */
export interface StagePlan {
  effects: PlannedEffect[];
  /** Next action to plan. */
  cursor: number;
  /** The run reached its end (or a `stop`). */
  finished: boolean;
  stopReason?: string;
  /** Why the stage ended before the last action. */
  waitingFor?: string;
  /** A `wait_for:` ended the round: the run waits for its event or its timeout (as a delay does, with `timeoutAt` the cursor of its on_timeout actions). */
  wait?: PlannedWait;
  /**
   * A `delay:` ended the round: the run waits for a timer due at `dueAt`, then goes on at
   * `cursor`. With `afterCalls` the round planned calls before it: the delay is planned
   * again (and its timer started) once they are done, so the cursor stays on it.
   */
  delay?: PlannedDelay;
  /** Values set by actions without calls (round_robin) to persist with the run's facts. */
  assigned: Record<string, unknown>;
  /** One entry per action considered, for the trace. */
  trace: Array<Record<string, unknown>>;
  error?: B24RulesError;
}

/** A delay the planner reached (StagePlan.delay). */
export interface PlannedDelay {
  actionIndex: number;
  dueAt: number;
  recheck: boolean;
  /** `2h of office hours`, `until 2026-12-01T09:00:00.000Z`. */
  what: string;
  afterCalls: boolean;
}

/** A wait_for the planner reached (StagePlan.wait). */
export interface PlannedWait {
  actionIndex: number;
  /** When the timeout comes. */
  dueAt: number;
  what: string;
  event: string;
  /** Where the run goes on when the timeout comes first: its on_timeout actions. */
  timeoutAt: number;
  afterCalls: boolean;
}

/** Where the part of the actions that holds `cursor` ends: the main actions, or the on_timeout actions of one wait_for. */
export function segmentEnd(rule: CompiledRule, cursor: number): number {
  const branch = rule.actions[cursor]?.branchOf;
  let end = cursor;
  while (end < rule.actions.length && rule.actions[end]!.branchOf === branch) end++;
  return end;
}

/** Round-robin: the user whose turn it is for (rule, key), advancing the turn. */
export type Picker = (ruleId: string, key: string, users: unknown[]) => unknown;

/** What planning a run needs besides the run. */
export interface PlanInputs {
  /** Facts with `now` and `env` added. */
  facts: Facts;
  /** Values of `as` names whose calls are done (null when failed or in flight). */
  results: Record<string, unknown>;
  records: RecordCache;
  pick: Picker;
}

/** Plan the next round of a run's actions, from its cursor. */
export function plan(run: Run, inputs: PlanInputs): StagePlan {
  const row = rowRecord(run);
  const identity = runIdentity(run.rule.id, run.triggerKey, run.recordKey, run.dedupeKey);
  const space = stateSpace(run.rule, run.shadow);
  return planStage({
    rule: run.rule,
    identity: run.shadow ? shadowIdentity(identity) : identity,
    facts: { ...inputs.facts, ...inputs.results },
    cursor: run.cursor,
    pendingNames: new Set(),
    records: inputs.records,
    ...(row ? { rowRecord: row } : {}),
    pick: (key, users) => inputs.pick(space, key, users),
  });
}

interface PlannerContext {
  rule: CompiledRule;
  /** Run identity for effect keys (runIdentity()). */
  identity: string;
  /** Facts including now, env and the results of done calls. */
  facts: Facts;
  cursor: number;
  /** `as` names whose call is planned but not done. */
  pendingNames: Set<string>;
  records: RecordCache;
  /** The foreach row, usable as the loaded record of its own entity. */
  rowRecord?: { entity: EntityName; id: string; record: Record<string, unknown> };
  pick(key: string, users: unknown[]): unknown;
}

function planStage(ctx: PlannerContext): StagePlan {
  const { rule, facts } = ctx;
  const out: StagePlan = { effects: [], cursor: ctx.cursor, finished: false, assigned: {}, trace: [] };
  // The main actions end where the first on_timeout branch starts; a branch ends where the next one does.
  const end = segmentEnd(rule, ctx.cursor);
  for (let i = ctx.cursor; i < end; i++) {
    const a = rule.actions[i]!;
    const refs = new Set([...a.config.refs, ...(a.when?.refs ?? [])]);
    const waiting = [...refs].filter((r) => ctx.pendingNames.has(r));
    if (waiting.length) {
      out.cursor = i;
      out.waitingFor = `action ${i} (${a.kind}) uses ${waiting.join(', ')}, the result of a call not made yet`;
      return out;
    }
    try {
      if (a.when) {
        const w = a.when.evaluate(facts);
        if (!w.value) {
          out.trace.push({ index: i, kind: a.kind, skipped: `when false${w.reason ? `: ${w.reason}` : ''}` });
          continue;
        }
      }
      if (a.waitFor) {
        const now = Date.parse(String(facts.now));
        const w = a.waitFor;
        const afterCalls = out.effects.length > 0;
        out.wait = { actionIndex: i, dueAt: waitEnds(w.timeout, now), what: `${w.event}, at most ${describeWait(w.timeout)}`, event: w.event, timeoutAt: w.timeoutStart < w.timeoutEnd ? w.timeoutStart : rule.actions.length, afterCalls };
        if (afterCalls) {
          out.cursor = i;
          out.waitingFor = `action ${i} (wait_for ${w.event}) starts once the calls before it are done`;
          return out;
        }
        out.trace.push({ index: i, kind: a.kind, wait_for: out.wait.what, until: new Date(out.wait.dueAt).toISOString() });
        // Past the last action of its part (an on_timeout branch may follow): nothing is left.
        out.cursor = i + 1 < end ? i + 1 : rule.actions.length;
        out.waitingFor = `wait_for ${out.wait.what}: until ${new Date(out.wait.dueAt).toISOString()}`;
        return out;
      }
      if (a.delay) {
        const now = Date.parse(String(facts.now));
        const { dueAt, what } = delayEnds(a.delay, facts, now);
        const until = new Date(dueAt).toISOString();
        if (dueAt <= now) {
          out.trace.push({ index: i, kind: a.kind, delay: what, until, note: 'already due: the run goes on' });
          continue;
        }
        const afterCalls = out.effects.length > 0;
        out.delay = { actionIndex: i, dueAt, recheck: a.delay.recheck, what, afterCalls };
        if (afterCalls) {
          out.cursor = i;
          out.waitingFor = `action ${i} (delay ${what}) starts once the calls before it are done`;
          return out;
        }
        out.trace.push({ index: i, kind: a.kind, delay: what, until, ...(a.delay.recheck ? { recheck: true } : {}) });
        out.cursor = i + 1 < end ? i + 1 : rule.actions.length;
        out.waitingFor = `delay ${what}: until ${until}`;
        return out;
      }
      const cfg = a.config.render(facts);
      const config = cfg && typeof cfg === 'object' && !Array.isArray(cfg) ? (cfg as Record<string, unknown>) : {};
      const key0 = effectKey(rule.id, ctx.identity, i, 0);
      const outcome = actionKind(a.kind).plan(config, {
        ruleId: rule.id,
        effectKey: key0,
        record: (entity, id, entityTypeId) => {
          const cached = ctx.records.get(entity, id, entityTypeId);
          if (cached) return cached;
          const row = ctx.rowRecord;
          return row && row.entity === entity && row.id === id ? row.record : undefined;
        },
      });
      switch (outcome.kind) {
        case 'calls': {
          outcome.calls.forEach((call, j) => {
            // No `auth_connector` here: the client adds it, and knows which writes must go without it.
            out.effects.push({
              effectKey: effectKey(rule.id, ctx.identity, i, j),
              actionIndex: i,
              callIndex: j,
              kind: a.kind,
              asName: j === 0 ? (a.as ?? null) : null,
              method: call.method,
              params: call.params,
              call,
            });
          });
          if (a.as && outcome.calls.length) ctx.pendingNames.add(a.as);
          out.trace.push({
            index: i,
            kind: a.kind,
            calls: outcome.calls.map((c) => ({ method: c.method, params: redactValue(c.params), ...(c.before ? { before: redactValue(c.before), after: redactValue(c.after) } : {}) })),
            ...(outcome.note ? { note: outcome.note } : {}),
          });
          break;
        }
        case 'http':
          out.effects.push({ effectKey: key0, actionIndex: i, callIndex: 0, kind: a.kind, asName: a.as ?? null, method: 'http', params: { ...outcome.request }, http: outcome.request });
          if (a.as) ctx.pendingNames.add(a.as);
          out.trace.push({ index: i, kind: a.kind, http: { method: outcome.request.method, url: redactValue(outcome.request.url) } });
          break;
        case 'pick': {
          const value = ctx.pick(outcome.key, outcome.users);
          const name = a.as ?? 'round_robin';
          facts[name] = value;
          out.assigned[name] = value;
          out.trace.push({ index: i, kind: a.kind, picked: value, key: outcome.key });
          break;
        }
        case 'stop':
          out.trace.push({ index: i, kind: a.kind, stop: outcome.reason });
          out.cursor = rule.actions.length;
          out.finished = true;
          out.stopReason = outcome.reason;
          return out;
      }
    } catch (err) {
      out.cursor = i;
      out.error = toB24RulesError(err, 'ACTION_PLAN');
      out.trace.push({ index: i, kind: a.kind, error: out.error.message });
      return out;
    }
  }
  out.cursor = rule.actions.length;
  out.finished = true;
  return out;
}
