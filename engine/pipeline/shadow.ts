/**
 * Shadow runs (`mode: shadow`, docs/rule-format.md): a shadow rule's runs
 * match, load, evaluate and plan as any run, and the ledger journals their
 * calls in state `shadow`, final at once: the executor never sees them, so
 * nothing is sent, marked sent, recovered or looked up. A run keeps the mode
 * it was matched in (its row's `mode`), whatever its rule becomes later.
 *
 * What a live rule reads is never written by a shadow run: its dedupe keys
 * and round-robin turns are kept under a space of their own, `shadow:<rule
 * id>` (no rule id has a colon), and the snapshots it takes under the entity
 * `shadow:<rule id>:<entity>`, which only that rule's shadow runs read
 * (engine/pipeline/context.ts). A shadow run reads live state too: a dedupe
 * key the live rule used stops it, and the newer of the live snapshot and its
 * own is what it compares with; so it sees what its rule would see if it
 * alone were live.
 */
import type { CompiledRule } from '../rules/index.js';

/** The name under which a shadow run of `ruleId` keeps its own dedupe keys and round-robin positions. */
export function shadowSpace(ruleId: string): string {
  return `shadow:${ruleId}`;
}

/** The snapshot entity of a rule's shadow runs for a live snapshot entity (`deal` → `shadow:<rule id>:deal`). */
export function shadowSnapshotEntity(ruleId: string, entity: string): string {
  return `shadow:${ruleId}:${entity}`;
}

/**
 * What a later action of a shadow run reads as the result (`as`) of one of its calls: nothing was
 * created, so there is no ID to give, only this placeholder, which the journal shows where it is used.
 */
export function shadowResult(effectKey: string): string {
  return `shadow:${effectKey}`;
}

/** The dedupe and round-robin space of a run: its rule's id, or its own for a shadow run. */
export function stateSpace(rule: CompiledRule, shadow: boolean | undefined): string {
  return shadow ? shadowSpace(rule.id) : rule.id;
}

/**
 * The identity a shadow run's effect keys hash: never the one its rule would have live, so a
 * rule turned live does not find its shadow calls in the ledger and take them for done.
 */
export function shadowIdentity(identity: string): string {
  return `shadow|${identity}`;
}
