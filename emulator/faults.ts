/** Fault injection with a seeded RNG, so a test that sets a rate sees the same faults on every run. */
import { ConfigError } from '../engine/errors.js';

/** Faults to inject into REST calls (not into the token server). */
export interface FaultOptions {
  /** Share of calls answered 500 INTERNAL_SERVER_ERROR (without running, unless `errorWhen` is `after`). @default 0 */
  errorRate?: number;
  /**
   * `before`: a call answered 500 did not run; `after`: it ran (a write happens) and then failed with 500, as a
   * portal whose PHP dies after the database commit does; a REST 3.0 Idempotency-Key is not kept for it (the
   * portal keeps only successes under a key). @default 'before'
   */
  errorWhen?: 'before' | 'after';
  /** Share of calls whose connection is destroyed without an answer. @default 0 */
  dropRate?: number;
  /** `before`: dropped calls do not run; `after`: they run (a write happens) and the answer is lost. @default 'before' */
  dropWhen?: 'before' | 'after';
  /** Added delay before every answer, in real milliseconds. @default 0 */
  latencyMs?: number;
  /** RNG seed. @default 1 */
  seed?: number;
  /** Only calls of these methods (case-insensitive; a batch is `batch`) draw faults; an empty list or unset: every method. @default undefined */
  methods?: string[];
  /** Inject at most this many faults, then none, counting from this setting (so a test can lose exactly one answer); a drop after running does not count for a call refused before it ran. @default Infinity */
  maxFaults?: number;
}

export type Fault = 'error' | 'drop' | null;

/** mulberry32: small, fast, good enough to spread faults evenly (the drill's seeded streams use it too); not for cryptography. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type RateOptions = Required<Omit<FaultOptions, 'methods' | 'maxFaults'>>;

export class FaultInjector {
  #options: RateOptions = { errorRate: 0, errorWhen: 'before', dropRate: 0, dropWhen: 'before', latencyMs: 0, seed: 1 };
  #rng = mulberry32(1);
  #methods: ReadonlySet<string> | null = null;
  #left = Infinity;

  constructor(options: FaultOptions = {}) {
    this.set(options);
  }

  /** Change the faults; a new `seed` restarts the random sequence. */
  set(options: FaultOptions): void {
    for (const k of ['errorRate', 'dropRate'] as const) {
      const v = options[k];
      if (v !== undefined && !(v >= 0 && v <= 1)) throw new ConfigError(`faults.${k} must be between 0 and 1; got ${v}`);
    }
    if (options.latencyMs !== undefined && !(options.latencyMs >= 0)) throw new ConfigError(`faults.latencyMs must be >= 0; got ${options.latencyMs}`);
    if (options.maxFaults !== undefined && !(options.maxFaults >= 0)) throw new ConfigError(`faults.maxFaults must be >= 0; got ${options.maxFaults}`);
    const { methods, maxFaults, ...rates } = options;
    this.#options = { ...this.#options, ...Object.fromEntries(Object.entries(rates).filter(([, v]) => v !== undefined)) };
    if (options.seed !== undefined) this.#rng = mulberry32(options.seed);
    if (methods !== undefined) this.#methods = methods.length > 0 ? new Set(methods.map((m) => m.toLowerCase())) : null;
    if (maxFaults !== undefined) this.#left = maxFaults;
  }

  get options(): Readonly<RateOptions> {
    return this.#options;
  }

  /** Draw the fault for the next call of `method` (its name as called; unset: any method). */
  draw(method?: string): Fault {
    const { errorRate, dropRate } = this.#options;
    if (errorRate === 0 && dropRate === 0) return null;
    if (this.#left <= 0) return null;
    if (this.#methods && (method === undefined || !this.#methods.has(method.toLowerCase()))) return null;
    const r = this.#rng();
    const fault: Fault = r < dropRate ? 'drop' : r < dropRate + errorRate ? 'error' : null;
    if (fault) this.#left--;
    return fault;
  }

  /**
   * Give back a fault `draw` returned that its call never took: a drop after
   * running, for a call the portal refused before it ran (the rate limit, bad
   * credentials). So `maxFaults` counts faults that happened, and "lose one
   * answer" loses the answer of the next call that runs.
   */
  refund(fault: Fault): void {
    if (fault !== null) this.#left++;
  }
}
