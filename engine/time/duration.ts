/**
 * Durations as rule authors write them: `90s`, `30m`, `2h`, `1h30m`, `2d`,
 * `1w` (the units Home Assistant and most cron-adjacent tools read), or an
 * ISO 8601 duration (`PT2H`, `P2D`, `P1DT12H`). Months and years are refused:
 * their length depends on the date they start from, so "1 month" belongs to a
 * `{ until: ... }` template, not to a fixed number of milliseconds.
 */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const SHORT = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/;
const ISO = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** The longest duration a rule may ask for: about ten years, so a typo in units cannot park a timer for ever. */
export const MAX_DURATION_MS = 3_650 * UNIT_MS.d!;

/** Why a duration text was refused, phrased as what to write instead. */
export class DurationError extends Error {
  override name = 'DurationError';
}

/** Milliseconds of a duration text (`2h`, `1h30m`, `PT2H`) or a number of seconds; throws DurationError with what to write instead. */
export function parseDuration(value: unknown): number {
  const ms = typeof value === 'number' ? secondsToMs(value) : typeof value === 'string' ? parseText(value.trim()) : undefined;
  if (ms === undefined) throw new DurationError(`duration ${JSON.stringify(value)}: write a number of seconds, units like 90s, 30m, 2h, 1h30m, 2d, 1w, or ISO 8601 like PT2H`);
  if (ms > MAX_DURATION_MS) throw new DurationError(`duration ${JSON.stringify(value)} is longer than 3650 days: use { until: ... } with a date for far-off moments`);
  return ms;
}

function secondsToMs(n: number): number | undefined {
  return Number.isFinite(n) && n >= 0 ? Math.round(n * 1000) : undefined;
}

function parseText(text: string): number | undefined {
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return secondsToMs(Number(text));
  if (text[0] === 'P' || text[0] === 'p') return parseIso(text.toUpperCase());
  let rest = text.toLowerCase().replace(/\s+/g, '');
  let total = 0;
  while (rest !== '') {
    const m = SHORT.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}

function parseIso(text: string): number | undefined {
  const m = ISO.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const [, w, d, h, mi, s] = m;
  const part = (v: string | undefined, unit: number) => (v === undefined ? 0 : Number(v) * unit);
  return Math.round(part(w, UNIT_MS.w!) + part(d, UNIT_MS.d!) + part(h, UNIT_MS.h!) + part(mi, UNIT_MS.m!) + part(s, UNIT_MS.s!));
}

/** A duration as people read it in a trace: `2h`, `1d 4h 30m`, `45s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, secs] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / secs);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * secs;
  }
  return parts.join(' ');
}
