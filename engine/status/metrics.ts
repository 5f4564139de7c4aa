/**
 * A metric registry on prom-client: each daemon (and each portal's engine in
 * a worker) has a prom-client `Registry` of its own, never the global one, so
 * two engines in one process never share a series. This module only adds what
 * the engine needs around it: label names checked with a message that says
 * which family, labels sorted (stable output), a synchronous read of a
 * counter's or gauge's value (tests, the web console), and families whose
 * value is read at scrape time from the store (a reader that throws gives the
 * family no samples for that scrape instead of failing the whole scrape).
 */
import { Counter as PromCounter, Gauge as PromGauge, Histogram as PromHistogram, Registry, type Metric, type MetricValue } from 'prom-client';

export type Labels = Record<string, string | number>;

/** A counter: only goes up. */
export interface Counter {
  inc(labels?: Labels, by?: number): void;
  /** The value of one series now (0 before its first increment). */
  get(labels?: Labels): number;
}

/** A gauge: set to any value. */
export interface Gauge {
  set(value: number, labels?: Labels): void;
  inc(labels?: Labels, by?: number): void;
  get(labels?: Labels): number;
}

/** A histogram: observations counted into buckets (seconds, for durations). */
export interface Histogram {
  observe(value: number, labels?: Labels): void;
}

/** One sample of a family read at scrape time. */
export interface CollectedSample {
  labels: Labels;
  value: number;
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Content type of the text exposition format 0.0.4 (prom-client's). */
export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** Label values as strings, keys sorted: one order in the output, one key per series. */
function sortedLabels(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) out[k] = String(labels[k]);
  return out;
}

function seriesKey(labels: Labels): string {
  return JSON.stringify(sortedLabels(labels));
}

type Kind = 'counter' | 'gauge' | 'histogram';

/** One family as prom-client's `getMetricsAsJSON` gives it. */
export type FamilyJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];

/** The metric families of one daemon, portal engine or process, rendered together. */
export class MetricsRegistry {
  /** The prom-client registry underneath (merging, parsing, default metrics). */
  readonly prom = new Registry();
  readonly #kinds = new Map<string, { kind: Kind; facade: unknown }>();

  #check(name: string, kind: Kind, labelNames: readonly string[]): { kind: Kind; facade: unknown } | undefined {
    if (!NAME_RE.test(name)) throw new Error(`invalid metric name '${name}'`);
    for (const l of labelNames) if (!LABEL_RE.test(l)) throw new Error(`invalid label name '${l}' on ${name}`);
    const existing = this.#kinds.get(name);
    if (existing && existing.kind !== kind) throw new Error(`metric '${name}' already registered as a ${existing.kind}`);
    return existing;
  }

  #labels(name: string, declared: readonly string[], labels: Labels): Record<string, string> {
    for (const k of Object.keys(labels)) {
      if (!LABEL_RE.test(k)) throw new Error(`invalid label name '${k}' on ${name}`);
      if (!declared.includes(k)) throw new Error(`label '${k}' is not declared on ${name} (its labels: ${declared.join(', ') || 'none'})`);
    }
    return sortedLabels(labels);
  }

  /** Register (or get) a counter. Prometheus convention: the name ends in `_total`. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    const existing = this.#check(name, 'counter', labelNames);
    if (existing) return existing.facade as Counter;
    const prom = new PromCounter({ name, help, labelNames: [...labelNames], registers: [this.prom] });
    const values = new Map<string, number>();
    const facade: Counter = {
      inc: (labels = {}, by = 1) => {
        if (by < 0) throw new Error(`counter ${name} cannot decrease`);
        const l = this.#labels(name, labelNames, labels);
        prom.inc(l, by);
        const key = seriesKey(l);
        values.set(key, (values.get(key) ?? 0) + by);
      },
      get: (labels = {}) => values.get(seriesKey(labels)) ?? 0,
    };
    this.#kinds.set(name, { kind: 'counter', facade });
    return facade;
  }

  /** Register (or get) a gauge. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    const existing = this.#check(name, 'gauge', labelNames);
    if (existing) return existing.facade as Gauge;
    const prom = new PromGauge({ name, help, labelNames: [...labelNames], registers: [this.prom] });
    const values = new Map<string, number>();
    const facade: Gauge = {
      set: (value, labels = {}) => {
        const l = this.#labels(name, labelNames, labels);
        prom.set(l, value);
        values.set(seriesKey(l), value);
      },
      inc: (labels = {}, by = 1) => {
        const l = this.#labels(name, labelNames, labels);
        prom.inc(l, by);
        const key = seriesKey(l);
        values.set(key, (values.get(key) ?? 0) + by);
      },
      get: (labels = {}) => values.get(seriesKey(labels)) ?? 0,
    };
    this.#kinds.set(name, { kind: 'gauge', facade });
    return facade;
  }

  /** Register (or get) a histogram with these bucket upper bounds (base units: seconds, bytes, commands). */
  histogram(name: string, help: string, options: { buckets: readonly number[]; labelNames?: readonly string[] }): Histogram {
    const labelNames = options.labelNames ?? [];
    const existing = this.#check(name, 'histogram', labelNames);
    if (existing) return existing.facade as Histogram;
    const prom = new PromHistogram({ name, help, labelNames: [...labelNames], buckets: [...options.buckets], registers: [this.prom] });
    const facade: Histogram = {
      observe: (value, labels = {}) => {
        if (!Number.isFinite(value)) return;
        prom.observe(this.#labels(name, labelNames, labels), value);
      },
    };
    this.#kinds.set(name, { kind: 'histogram', facade });
    return facade;
  }

  /**
   * A family whose samples are read at scrape time (queue depth, DLQ size).
   * A reader that throws gives the family no samples for that scrape.
   */
  collect(name: string, help: string, type: 'counter' | 'gauge', read: () => number | CollectedSample[]): void {
    this.#check(name, type, []);
    // A metric object of the shape prom-client's own aggregated metrics have: labels come from the reader.
    const metric = {
      name,
      help,
      type,
      aggregator: 'sum' as const,
      get: async () => {
        let values: Array<MetricValue<string>>;
        try {
          const v = read();
          values = typeof v === 'number' ? [{ labels: {}, value: v }] : v.map((s) => ({ labels: sortedLabels(s.labels), value: s.value }));
        } catch {
          values = [];
        }
        return { name, help, type, aggregator: 'sum', values };
      },
      reset: () => undefined,
    };
    this.prom.registerMetric(metric as unknown as Metric);
    this.#kinds.set(name, { kind: type, facade: null });
  }

  /** The whole registry in the text exposition format (ends with a newline). */
  render(): Promise<string> {
    return this.prom.metrics();
  }

  /** Every family with its samples now, as prom-client's JSON (what a worker merges). */
  families(): Promise<FamilyJson[]> {
    return this.prom.getMetricsAsJSON();
  }
}
