/**
 * A condition on the engine's path: the value on the fast path, and the "why
 * false" explanation (explain.ts, several times the cost of the evaluation)
 * worked out only when something reads `reason`: a trace being written, a
 * dry-run, a journal row that keeps it. A skipped run nobody asks about
 * costs the evaluation alone.
 *
 * Both classes keep `reason` on the prototype (an own getter per object would
 * cost V8 a new hidden class each time): spread or Object.entries do not see
 * it; JSON.stringify does, through toJSON.
 */
import type { Condition, Facts } from '../rules/index.js';

/** A false condition; `reason` is worked out when first read, from the facts it was evaluated with (read it before they change). */
export class FalseCondition {
  readonly value = false as const;
  readonly #condition: Condition;
  readonly #facts: Facts;
  #reason: string | undefined;

  constructor(condition: Condition, facts: Facts) {
    this.#condition = condition;
    this.#facts = facts;
  }

  /** Why the condition is false, as Condition.evaluate says it. */
  get reason(): string {
    return (this.#reason ??= explainSafely(this.#condition, this.#facts));
  }

  /** What a trace stores: `{ value: false, reason }`, as Condition.evaluate returns it. */
  toJSON(): { value: false; reason: string } {
    return { value: false, reason: this.reason };
  }
}

// Read outside the evaluation's try (by whoever journals the skip): an explanation must not fail the tick.
function explainSafely(condition: Condition, facts: Facts): string {
  try {
    return condition.explain(facts);
  } catch (err) {
    return `<no explanation: ${err instanceof Error ? err.message : String(err)}>`;
  }
}

/** A condition's result on the engine's path. */
export type ConditionOutcome = { readonly value: true } | FalseCondition;

/** The one true outcome (frozen: traces share it). */
export const CONDITION_TRUE: { readonly value: true } = Object.freeze({ value: true });

/** The condition's value; when false, an outcome that explains itself only when asked. */
export function checkCondition(condition: Condition, facts: Facts): ConditionOutcome {
  return condition.test(facts) ? CONDITION_TRUE : new FalseCondition(condition, facts);
}

/** The reason a run skipped on a false condition is journaled with, before the explanation. */
export const CONDITION_FALSE = 'condition false';

/** A run's skip on a false condition: `reason` is `condition false: <why>`, worked out when first read. */
export class ConditionSkip {
  readonly kind = 'skip' as const;
  constructor(readonly condition: FalseCondition) {}

  get reason(): string {
    return `${CONDITION_FALSE}: ${this.condition.reason}`;
  }
}
