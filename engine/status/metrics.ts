/**
 * A small Prometheus registry: counters and gauges with labels, and gauges
 * whose value is read at scrape time (queue depth, DLQ size). Rendered in the
 * text exposition format 0.0.4 with HELP/TYPE lines and escaped label values.
 */

export type Labels = Record<string, string | number>;

interface Series {
  labels: Labels;
  value: number;
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  series: Map<string, Series>;
  collect?: () => number | Array<{ labels: Labels; value: number }>;
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A counter: only goes up. */
export interface Counter {
  inc(labels?: Labels, by?: number): void;
  get(labels?: Labels): number;
}

/** A gauge: set to any value. */
export interface Gauge {
  set(value: number, labels?: Labels): void;
  inc(labels?: Labels, by?: number): void;
  get(labels?: Labels): number;
}

function seriesKey(labels: Labels): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, String(labels[k])]));
}

/** Escape a label value: backslash, double quote and newline (exposition format rules). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Escape HELP text: backslash and newline. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabelValue(String(labels[k]))}"`).join(',')}}`;
}

/** A set of metric families rendered together on `/metrics`. */
export class MetricsRegistry {
  readonly #families = new Map<string, Family>();

  #family(name: string, help: string, type: Family['type']): Family {
    if (!NAME_RE.test(name)) throw new Error(`invalid metric name '${name}'`);
    const existing = this.#families.get(name);
    if (existing) {
      if (existing.type !== type) throw new Error(`metric '${name}' already registered as a ${existing.type}`);
      return existing;
    }
    const family: Family = { name, help, type, series: new Map() };
    this.#families.set(name, family);
    return family;
  }

  #series(family: Family, labels: Labels): Series {
    const key = seriesKey(labels);
    let s = family.series.get(key);
    if (!s) {
      for (const k of Object.keys(labels)) if (!LABEL_RE.test(k)) throw new Error(`invalid label name '${k}' on ${family.name}`);
      s = { labels: { ...labels }, value: 0 };
      family.series.set(key, s);
    }
    return s;
  }

  /** Register (or get) a counter. Prometheus convention: the name ends in `_total`. */
  counter(name: string, help: string): Counter {
    const family = this.#family(name, help, 'counter');
    return {
      inc: (labels = {}, by = 1) => {
        if (by < 0) throw new Error(`counter ${name} cannot decrease`);
        this.#series(family, labels).value += by;
      },
      get: (labels = {}) => family.series.get(seriesKey(labels))?.value ?? 0,
    };
  }

  /** Register (or get) a gauge. */
  gauge(name: string, help: string): Gauge {
    const family = this.#family(name, help, 'gauge');
    return {
      set: (value, labels = {}) => {
        this.#series(family, labels).value = value;
      },
      inc: (labels = {}, by = 1) => {
        this.#series(family, labels).value += by;
      },
      get: (labels = {}) => family.series.get(seriesKey(labels))?.value ?? 0,
    };
  }

  /**
   * A metric whose value is computed at scrape time. A collector that throws
   * is skipped for that scrape (its family renders with no samples).
   */
  collect(name: string, help: string, type: Family['type'], fn: NonNullable<Family['collect']>): void {
    const family = this.#family(name, help, type);
    family.collect = fn;
  }

  /** Every family with its samples now (collectors read; one that throws gives no samples). */
  families(): FamilySnapshot[] {
    return [...this.#families.values()].map((f) => {
      let samples: Array<{ labels: Labels; value: number }> = [...f.series.values()].map((s) => ({ labels: { ...s.labels }, value: s.value }));
      if (f.collect) {
        try {
          const v = f.collect();
          samples = typeof v === 'number' ? [{ labels: {}, value: v }] : v;
        } catch {
          samples = [];
        }
      }
      return { name: f.name, help: f.help, type: f.type, samples };
    });
  }

  /** The whole registry in Prometheus text format (ends with a newline). */
  render(): string {
    return renderFamilies(this.families());
  }
}

/** One metric family and its samples, as `families()` reads them. */
export interface FamilySnapshot {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: Array<{ labels: Labels; value: number }>;
}

/** Families in Prometheus text format (ends with a newline). */
export function renderFamilies(families: readonly FamilySnapshot[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
    lines.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) lines.push(`${f.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
