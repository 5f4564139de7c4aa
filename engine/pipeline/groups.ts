/**
 * Rules that compete (`group:`, docs/rule-format.md): of the members of a group
 * that one inbox item starts, the first in priority order whose evaluation says
 * act is the winner; every later member's run is skipped with a reason naming
 * it; earlier members were skipped for their own reasons. A member that cannot
 * be decided yet (held by its concurrency key, a read or an evaluation to
 * retry, a run past the tick's limit) makes every later member wait with it.
 *
 * The decision is durable and made once per item. The winner's run row carries
 * a mark (run.ts, `won`) written in the start commit that stores it with its
 * first calls and the losers' skipped rows, so a crash before that commit
 * decides again from nothing and one after it finds the decision. A member
 * that waits is decided from the item's stored runs, and a DLQ retry of the
 * item finds the mark on the runs it superseded: only that member may act
 * again, every other member is skipped naming it.
 *
 * Only a fresh start is decided: a run woken from a delay or a wait, or planned
 * on after a retry, already won.
 */
import { CONDITION_FALSE } from '../logic/index.js';
import type { CompiledRule, Facts } from '../rules/index.js';
import type { RunRecord, StateStore } from '../store/index.js';
import { wonGroupOf, type Run } from './run.js';

/** What a member's judgement means for the ones after it. */
export type GroupStep = 'act' | 'next' | 'block';

/** Why a member is skipped when an earlier one acted: `group G: W acted first`. */
export function lostTo(group: string, winner: string): string {
  return `group ${group}: ${winner} acted first`;
}

/**
 * The reason a losing member's run is journaled with: in a group, a member's condition counts
 * as false once an earlier member acted (a dry-run shows it as the condition's value, with why the winner's held).
 */
export function loserReason(group: string, winner: string): string {
  return `${CONDITION_FALSE}: ${lostTo(group, winner)}`;
}

/** The reason a member is skipped with when an earlier one was dead-lettered undecided. */
export function deadBefore(group: string, member: string): string {
  return `group ${group}: ${member} was dead-lettered before the group decided (a DLQ retry of the item decides again)`;
}

/** Why a member waits (dry-run: a plan shows it skipped with this). */
export function waitsFor(group: string, member: string): string {
  return `group ${group}: waits until ${member} is decided`;
}

/** Why the winner acted, for a dry-run's loser (its condition, explained as true with the facts it saw). */
export function whyItActed(winner: Run, facts: Facts): string {
  const c = winner.rule.condition;
  if (!c) return `${winner.rule.id} has no condition`;
  try {
    return c.explainTrue ? c.explainTrue(facts) : 'its condition held';
  } catch (err) {
    return `its condition held (no explanation: ${err instanceof Error ? err.message : String(err)})`;
  }
}

/**
 * The group a run competes in: none for a run that already started (woken, resumed), nor for a
 * shadow run (`mode: shadow`), which never decides for a live member: it acts on its own condition.
 */
export function groupOf(run: Run): string | undefined {
  return run.resume || run.shadow ? undefined : run.rule.group;
}

function unitKey(run: Run, group: string): string {
  return `${run.item.id}\u0000${group}`;
}

function priorityOf(rule: CompiledRule | undefined): number {
  return rule?.priority ?? 0;
}

/**
 * Judge runs, a group's members in priority order until one acts. Runs of no group
 * are judged as they are. The verdicts come back in the order of `runs`.
 */
export function judgeInGroups<V>(
  runs: readonly Run[],
  judge: (run: Run) => V,
  stepOf: (v: V) => GroupStep,
  lose: (run: Run, winner: Run) => V,
  wait: (run: Run, blocker: Run) => V,
): V[] {
  const out = new Map<Run, V>();
  const units = new Map<string, Run[]>();
  const place = new Map<Run, number>();
  runs.forEach((run, i) => place.set(run, i));
  for (const run of runs) {
    const group = groupOf(run);
    if (!group) continue;
    const key = unitKey(run, group);
    units.set(key, [...(units.get(key) ?? []), run]);
  }
  for (const members of units.values()) {
    const ordered = [...members].sort((a, b) => priorityOf(a.rule) - priorityOf(b.rule) || place.get(a)! - place.get(b)!);
    let winner: Run | undefined;
    let blocker: Run | undefined;
    for (const run of ordered) {
      if (winner) out.set(run, lose(run, winner));
      else if (blocker) out.set(run, wait(run, blocker));
      else {
        const v = judge(run);
        out.set(run, v);
        const step = stepOf(v);
        if (step === 'act') winner = run;
        else if (step === 'block') blocker = run;
      }
    }
  }
  return runs.map((run) => (out.has(run) ? out.get(run)! : judge(run)));
}

/** One member of a group for one item, as the tick's start sees it before loading. */
interface Member {
  ruleId: string;
  priority: number;
  /** The run this tick holds for it, if any. */
  run?: Run;
  /**
   * candidate: to be judged this tick; pending: undecided and not judged this tick (stored to start
   * later, past the tick's limit, held by its concurrency key); final: decided on its own (skipped);
   * dead: dead-lettered before it was decided.
   */
  state: 'candidate' | 'pending' | 'final' | 'dead';
}

interface Unit {
  group: string;
  members: Member[];
  /** The member that acted for this item, in this attempt or before a DLQ retry. */
  won?: string;
}

/** What the start does with a group member before loading it: skip it (an earlier member decided) or let it wait. */
export type Before = { kind: 'lose'; reason: string } | { kind: 'wait' } | undefined;

/**
 * The groups of one tick's start (conductor.ts, startRuns): the members of each item's
 * groups, with what the store says of those this tick does not hold.
 */
export class GroupStart {
  readonly #units = new Map<string, Unit>();
  readonly #rows = new Map<number, RunRecord[]>();
  readonly #store: StateStore;
  readonly #rules: ReadonlyMap<string, CompiledRule>;

  /** `candidates`: the runs the tick may start; `later`: runs of fresh items stored to start in a later tick. */
  constructor(store: StateStore, rules: ReadonlyMap<string, CompiledRule>, candidates: readonly Run[], later: readonly Run[]) {
    this.#store = store;
    this.#rules = rules;
    const add = (run: Run, state: Member['state']) => {
      const group = groupOf(run);
      if (!group) return;
      const key = unitKey(run, group);
      let unit = this.#units.get(key);
      if (!unit) this.#units.set(key, (unit = { group, members: [] }));
      unit.members.push({ ruleId: run.rule.id, priority: priorityOf(run.rule), run, state });
    };
    for (const run of candidates) add(run, 'candidate');
    for (const run of later) add(run, 'pending');
    for (const unit of this.#units.values()) this.#complete(unit);
  }

  /**
   * What the store knows: a run stored earlier (it waited) means this attempt's other members have rows
   * (their newest row each says where they stand); a fresh item matched again (a DLQ retry) has only
   * the runs it superseded, of which only a winner's mark counts.
   */
  #complete(unit: Unit): void {
    const first = unit.members[0]!.run!;
    const stored = unit.members.some((m) => m.run && m.run.id !== null);
    if (stored || (first.item.attempts ?? 0) >= 2) {
      const rows = this.#rowsOf(first.item.id);
      for (const row of rows) {
        if (wonGroupOf(row.facts) === unit.group) {
          unit.won = row.ruleId;
          break;
        }
      }
      if (stored) {
        const newest = new Map<string, RunRecord>();
        for (const row of rows) newest.set(row.ruleId, row);
        for (const [ruleId, row] of newest) {
          const rule = this.#rules.get(ruleId);
          if (rule?.group !== unit.group || row.mode === 'shadow' || unit.members.some((m) => m.ruleId === ruleId)) continue;
          const state = row.status === 'new' ? 'pending' : row.status === 'dead' || row.status === 'failed' ? 'dead' : 'final';
          unit.members.push({ ruleId, priority: priorityOf(rule), state });
        }
      }
    }
    unit.members.sort((a, b) => a.priority - b.priority);
  }

  #rowsOf(itemId: number): RunRecord[] {
    let rows = this.#rows.get(itemId);
    if (!rows) this.#rows.set(itemId, (rows = this.#store.runs.forItem(itemId)));
    return rows;
  }

  #unitOf(run: Run): Unit | undefined {
    const group = groupOf(run);
    return group ? this.#units.get(unitKey(run, group)) : undefined;
  }

  /** Before the concurrency gate: whether an earlier decision, or a member before it that is undecided or dead-lettered, settles this run. */
  before(run: Run): Before {
    const unit = this.#unitOf(run);
    if (!unit) return undefined;
    if (unit.won !== undefined) return unit.won === run.rule.id ? undefined : { kind: 'lose', reason: loserReason(unit.group, unit.won) };
    for (const m of unit.members) {
      if (m.run === run) return undefined;
      if (m.state === 'pending') return { kind: 'wait' };
      if (m.state === 'dead') return { kind: 'lose', reason: deadBefore(unit.group, m.ruleId) };
    }
    return undefined;
  }

  /** The concurrency gate held this run before loading: the members after it wait. */
  held(run: Run): void {
    const m = this.#unitOf(run)?.members.find((x) => x.run === run);
    if (m) m.state = 'pending';
  }

  /** Whether a member before this run is held: then it waits too. */
  blocked(run: Run): boolean {
    const unit = this.#unitOf(run);
    if (!unit) return false;
    for (const m of unit.members) {
      if (m.run === run) return false;
      if (m.state === 'pending') return true;
    }
    return false;
  }
}
