/**
 * Concurrency of a rule's runs per key (the record by default, or the rule's
 * `concurrency.key`): serial holds a run while another run of the same rule and
 * key is in flight, skip drops it (but holds a run resuming after a delay or wait),
 * parallel lets it go.
 */
import type { Facts } from '../rules/index.js';
import type { Run } from './run.js';

export type Gate = 'go' | 'hold' | 'skip';

export class ConcurrencyGate {
  /** `${rule id}\0${key}` of runs in flight (active or waiting), and of those let through this tick. */
  readonly #inFlight: Set<string>;

  constructor(inFlight: Set<string>) {
    this.#inFlight = inFlight;
  }

  /**
   * Decide before loading, when the key is the record (known from the trigger):
   * a held run then costs no read. Null when the rule's key needs the loaded facts.
   */
  beforeLoad(run: Run): Gate | null {
    const c = run.rule.concurrency;
    if (c.key || c.mode === 'parallel' || !run.recordKey) return null;
    return this.#check(run, run.recordKey);
  }

  /** Decide with the rule's own key, rendered with the loaded facts. Null when the rule has none (or it renders empty). */
  afterLoad(run: Run, facts: Facts): { gate: Gate; key: string } | null {
    const c = run.rule.concurrency;
    if (!c.key || c.mode === 'parallel') return null;
    const rendered = c.key.render(facts);
    if (rendered === undefined || rendered === null || rendered === '') return null;
    const key = String(rendered);
    return { gate: this.#check(run, key), key };
  }

  #check(run: Run, key: string): Gate {
    run.concurrencyKey = key;
    const k = `${run.rule.id}\u0000${key}`;
    // A run woken from a delay or wait already acted: dropping it would lose its second half, so it waits its turn.
    if (this.#inFlight.has(k)) return run.rule.concurrency.mode === 'skip' && !run.resume ? 'skip' : 'hold';
    this.#inFlight.add(k);
    return 'go';
  }
}
