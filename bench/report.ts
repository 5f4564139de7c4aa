/** Text output of the benchmarks: one table per benchmark, its ratios, computed figures and notes. */
import { availableParallelism, cpus, loadavg, platform, release } from 'node:os';
import { round } from './measure.js';
import type { BenchResult } from './types.js';

/** Where and when a run happened. */
export interface RunEnvironment {
  date: string;
  node: string;
  /** Cores Node may use (what `nproc` says). */
  nproc: number;
  cpu: string;
  os: string;
  /** 1-minute load average when the run started: how busy the shared machine was. */
  loadAverage: number;
}

export function runEnvironment(now: Date = new Date()): RunEnvironment {
  return {
    date: now.toISOString(),
    node: process.version,
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    os: `${platform()} ${release()}`,
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

function pad(cells: string[][], rightAligned: (col: number) => boolean): string[] {
  const widths = cells[0]?.map((_, c) => Math.max(...cells.map((row) => (row[c] ?? '').length))) ?? [];
  return cells.map((row) => row.map((cell, c) => (rightAligned(c) ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0))).join('  ').trimEnd());
}

function header(m: { label: string; unit: string }): string {
  return m.unit ? `${m.label} (${m.unit})` : m.label;
}

/** The result as text lines. */
export function formatResult(r: BenchResult): string[] {
  const out: string[] = [];
  out.push(`== ${r.name}: ${r.title} ==`);
  out.push(r.setup);
  out.push(`median of ${r.repetitions} repetition${r.repetitions === 1 ? '' : 's'} per variant, variants alternated:`);
  const rows = [['variant', ...r.metrics.map(header)], ...r.variants.map((v) => [v.name, ...r.metrics.map((m) => round(v.median[m.key] ?? Number.NaN))])];
  out.push(...pad(rows, (c) => c > 0).map((l) => `  ${l}`));
  for (const v of r.variants) out.push(`    ${v.name} = ${v.label}`);
  if (r.ratios.length > 0) {
    out.push('ratios (medians measured side by side in this run):');
    const label = (key: string) => r.metrics.find((m) => m.key === key)?.label ?? key;
    out.push(...pad(r.ratios.map((x) => [`${x.numerator} / ${x.denominator}`, label(x.metric), `${round(x.value)}×`]), (c) => c === 2).map((l) => `  ${l}`));
  }
  if (r.computed.length > 0) {
    out.push('computed from the measured figures (NOT measured):');
    for (const c of r.computed) out.push(`  ${c.label}: ${round(c.value)} ${c.unit}   [${c.formula}]`);
  }
  if (r.targets && r.targets.length > 0) {
    out.push('targets:');
    for (const t of r.targets) out.push(`  ${t.met ? 'met   ' : 'MISSED'} ${t.figure}: ${round(t.measured)}${t.unit ? ` ${t.unit}` : ''} (target ${t.target}, ratio ${round(t.ratio)})${t.note ? `: ${t.note}` : ''}`);
  }
  for (const n of r.notes) out.push(`  note: ${n}`);
  return out;
}

export function formatEnvironment(env: RunEnvironment): string {
  return `${env.date}  Node ${env.node}  nproc ${env.nproc}  load average ${env.loadAverage}  ${env.cpu}  ${env.os}`;
}
