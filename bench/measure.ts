/** Small measuring helpers: medians, ratios, alternating variants. */
import type { Ratio, Sample, TargetCheck, VariantResult } from './types.js';

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Median of every metric that appears in the samples. */
export function medianSample(samples: readonly Sample[]): Sample {
  const keys = [...new Set(samples.flatMap((s) => Object.keys(s)))];
  return Object.fromEntries(keys.map((k) => [k, median(samples.map((s) => s[k]).filter((v): v is number => typeof v === 'number'))]));
}

/** Milliseconds since `start` (a performance.now() reading). */
export function elapsedMs(start: number): number {
  return performance.now() - start;
}

export interface VariantSpec {
  name: string;
  label: string;
  /** One repetition; `rep` counts from 0. */
  run(rep: number): Promise<Sample>;
}

/**
 * Run each variant `repetitions` times, alternating them (A B, B A, A B...) so
 * that drift on a shared machine (other load, JIT warm-up, GC) falls on both.
 */
export async function alternate(variants: readonly VariantSpec[], repetitions: number, progress?: (line: string) => void): Promise<VariantResult[]> {
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
  for (let rep = 0; rep < repetitions; rep++) {
    const order = rep % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const s = await v.run(rep);
      samples.get(v.name)?.push(s);
      progress?.(`  ${v.name} #${rep + 1}: ${Object.entries(s).map(([k, x]) => `${k}=${round(x)}`).join(' ')}`);
    }
  }
  return variants.map((v) => {
    const list = samples.get(v.name) ?? [];
    return { name: v.name, label: v.label, samples: list, median: medianSample(list) };
  });
}

/** Ratio of two variants' medians of one metric. */
export function ratio(results: readonly VariantResult[], metric: string, numerator: string, denominator: string): Ratio {
  const num = results.find((r) => r.name === numerator)?.median[metric];
  const den = results.find((r) => r.name === denominator)?.median[metric];
  if (num === undefined || den === undefined) throw new RangeError(`no median of '${metric}' for '${numerator}' or '${denominator}'`);
  return { metric, numerator, denominator, value: den === 0 ? (num === 0 ? 1 : Infinity) : num / den };
}

/** A number rounded for display: integers as is, others to 3 significant digits (at least 1 decimal below 100). */
export function round(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  const abs = Math.abs(x);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The nearest-rank percentile `p` (0..100) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty list');
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(s.length, rank) - 1] as number;
}

/** A target `measured ≤ bound` (or `≥` with atLeast). */
export function checkTarget(figure: string, measured: number, unit: string, bound: number, atLeast = false, note?: string): TargetCheck {
  const met = atLeast ? measured >= bound : measured <= bound;
  const ratio = atLeast ? (measured === 0 ? Infinity : bound / measured) : bound === 0 ? (measured === 0 ? 1 : Infinity) : measured / bound;
  const unitText = unit === '×' ? '×' : unit ? ` ${unit}` : '';
  return { figure, measured, unit, target: `${atLeast ? '≥' : '≤'} ${bound.toLocaleString('en-US')}${unitText}`, ratio, met, ...(note ? { note } : {}) };
}
