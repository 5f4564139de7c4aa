/**
 * Requests held after the portal read them and before it does their work, until released
 * (Emulator.hold). A real portal that has received a request runs it to its end even when
 * its sender has gone: a held request does too, whatever became of its connection, so a
 * test makes "the work lands after its sender died" happen without sleeping.
 */
import type { Hold } from './fleet-record.js';
import type { Params } from './types.js';

/** Which requests a hold takes: the REST method (lowercase, `batch` for a batch) and its params. */
export type HoldMatch = (call: { method: string; params: Params }) => boolean;

interface Gate {
  match: HoldMatch;
  waiting: Array<() => void>;
  watchers: Array<{ n: number; resolve: () => void }>;
}

/** The holds of one emulated portal. */
export class WorkGate {
  readonly #gates = new Set<Gate>();

  /** Hold the requests `match` takes (every request without it) from now on, until `release()`. */
  hold(match: HoldMatch = () => true): Hold {
    const gate: Gate = { match, waiting: [], watchers: [] };
    this.#gates.add(gate);
    return {
      held: (n) =>
        new Promise<void>((resolve) => {
          if (gate.waiting.length >= n) resolve();
          else gate.watchers.push({ n, resolve });
        }),
      release: () => {
        this.#gates.delete(gate);
        for (const go of gate.waiting.splice(0)) go();
      },
    };
  }

  /** Called with each request before its work: a promise when a hold takes it, settled by the release. */
  pass(method: string, params: Params): Promise<void> | undefined {
    for (const gate of this.#gates) {
      if (!gate.match({ method, params })) continue;
      return new Promise<void>((resolve) => {
        gate.waiting.push(resolve);
        for (const w of [...gate.watchers]) {
          if (gate.waiting.length < w.n) continue;
          gate.watchers.splice(gate.watchers.indexOf(w), 1);
          w.resolve();
        }
      });
    }
    return undefined;
  }
}
