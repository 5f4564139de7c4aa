/**
 * Invariants of the daemon processes themselves: none exited unless the drill
 * ended it (crashes), a SIGTERM under load ended in exit 0 within the
 * promised 10 s (sigterm), every run a SIGTERM-stopped daemon finished is in
 * its log (runs-logged: also the ones finished while it drained), the token
 * server was not asked for a refresh far more often than the token's lifetime
 * needs (token-refreshes), each start was quick (start-up), and no error
 * line shows a bug of b24-rules itself (bugs).
 */
import { invariant, type Invariant } from './invariant.js';

/** The SIGTERM promise of `rules run` (README, `rules run --help`). */
export const SIGTERM_LIMIT_MS = 10_000;
/** The longest start the drill accepts: from spawn to "daemon started". */
export const START_LIMIT_MS = 15_000;
/** At most one refresh per this share of the token's lifetime (plus one per start). */
export const REFRESH_SHARE = 1 / 3;

/** What the checks need of a daemon life. */
export interface LifeFacts {
  index: number;
  spawnedAt: number;
  startedAt: number | null;
  endedBy: 'SIGKILL' | 'SIGTERM' | null;
  signalledAt: number | null;
  exitedAt: number | null;
  code: number | null;
  signal: string | null;
  records: ReadonlyArray<Record<string, unknown>>;
  lines: ReadonlyArray<{ stream: string; text: string }>;
}

/** A run as `rules runs --json` prints it. */
export interface RunFacts {
  id: number;
  ruleId: string;
  status: string;
  finishedAt: number | null;
}

/** The last error a life reported: its last error-level log line, else its last stderr line. */
export function lastError(life: LifeFacts): string {
  const rec = [...life.records].reverse().find((r) => typeof r.level === 'number' && r.level >= 50);
  if (rec) {
    const err = rec.err as { message?: unknown } | undefined;
    return `${String(rec.msg)}${err?.message ? `: ${String(err.message)}` : ''}`.slice(0, 300);
  }
  // An uncaught exception: Node prints the source line, the error, its stack, then its own version.
  const stderr = life.lines.filter((l) => l.stream === 'stderr' && l.text.trim() !== '').map((l) => l.text);
  const error = stderr.find((t) => /^([A-Z]\w*)?(Error|Exception)\b/.test(t.trim()));
  return (error ?? stderr.filter((t) => !/^Node\.js v/.test(t)).pop() ?? 'no error printed').trim().slice(0, 300);
}

/** No life ended but by the drill's hand. */
export function checkCrashes(lives: readonly LifeFacts[]): Invariant & { crashes: number } {
  const problems: string[] = [];
  for (const l of lives) {
    if (l.exitedAt === null || l.endedBy !== null) continue;
    const when = l.startedAt === null ? 'while starting' : `after ${((l.exitedAt - l.startedAt) / 1000).toFixed(1)} s of work`;
    problems.push(`daemon #${l.index} exited by itself ${when} (code ${String(l.code)}${l.signal ? `, ${l.signal}` : ''}): ${lastError(l)}`);
  }
  const kills = lives.filter((l) => l.endedBy === 'SIGKILL').length;
  const terms = lives.filter((l) => l.endedBy === 'SIGTERM').length;
  return { ...invariant('crashes', `${problems.length} unexpected exits of ${lives.length} daemon processes (${kills} kill -9, ${terms} SIGTERM)`, problems), crashes: problems.length };
}

/** Every SIGTERM ended in exit 0 within the promise. */
export function checkSigterm(lives: readonly LifeFacts[]): Invariant & { slowestMs: number } {
  const problems: string[] = [];
  const times: string[] = [];
  let slowest = 0;
  for (const l of lives) {
    if (l.endedBy !== 'SIGTERM' || l.signalledAt === null) continue;
    if (l.exitedAt === null) {
      problems.push(`daemon #${l.index} did not exit after SIGTERM`);
      continue;
    }
    const ms = l.exitedAt - l.signalledAt;
    slowest = Math.max(slowest, ms);
    times.push(`${(ms / 1000).toFixed(1)} s`);
    if (l.code !== 0) problems.push(`daemon #${l.index}: exit code ${String(l.code)}${l.signal ? ` (${l.signal})` : ''} after SIGTERM: ${lastError(l)}`);
    if (ms >= SIGTERM_LIMIT_MS) problems.push(`daemon #${l.index}: took ${(ms / 1000).toFixed(1)} s to exit after SIGTERM (promise: ${SIGTERM_LIMIT_MS / 1000} s)`);
  }
  return { ...invariant('sigterm', `${times.length} SIGTERMs, exit 0 within ${SIGTERM_LIMIT_MS / 1000} s: ${times.join(', ') || 'none sent'}`, problems), slowestMs: slowest };
}

/** Every run finished by a daemon that was stopped with SIGTERM is in that daemon's log, the drain's included. */
export function checkRunsLogged(lives: readonly LifeFacts[], runs: readonly RunFacts[]): Invariant {
  const problems: string[] = [];
  let finished = 0;
  let draining = 0;
  for (const l of lives) {
    if (l.endedBy !== 'SIGTERM' || l.exitedAt === null || l.code !== 0) continue;
    const logged = new Set(l.records.filter((r) => typeof r.run === 'number' && typeof r.outcome === 'string').map((r) => r.run as number));
    const mine = runs.filter((r) => r.finishedAt !== null && r.finishedAt >= l.spawnedAt && r.finishedAt <= (l.exitedAt as number));
    finished += mine.length;
    const inDrain = mine.filter((r) => l.signalledAt !== null && (r.finishedAt as number) >= l.signalledAt);
    draining += inDrain.length;
    const missing = mine.filter((r) => !logged.has(r.id));
    if (missing.length > 0) {
      const drainMissing = missing.filter((r) => inDrain.includes(r)).length;
      problems.push(`daemon #${l.index}: ${missing.length} of ${mine.length} finished runs never logged (${drainMissing} finished after SIGTERM): runs ${missing.slice(0, 10).map((r) => r.id).join(', ')}${missing.length > 10 ? ', ...' : ''}`);
    }
  }
  return invariant('runs-logged', `${finished} runs finished by SIGTERM-stopped daemons (${draining} while draining): each in its daemon's log`, problems);
}

/** Refreshes stay near what the token's lifetime needs. */
export function checkRefreshes(grants: ReadonlyArray<{ at: number; status: number }>, lives: readonly LifeFacts[], tokenTtlSeconds: number, until: number): Invariant & { refreshes: number } {
  const ok = grants.filter((g) => g.status === 200).length;
  const failed = grants.length - ok;
  const aliveMs = lives.reduce((n, l) => n + ((l.exitedAt ?? until) - l.spawnedAt), 0);
  const allowed = lives.length + Math.ceil(aliveMs / (tokenTtlSeconds * 1000 * REFRESH_SHARE));
  const problems: string[] = [];
  if (ok > allowed) problems.push(`${ok} refreshes in ${(aliveMs / 1000).toFixed(0)} s of daemon time with a ${tokenTtlSeconds} s token: more than one per ${(tokenTtlSeconds * REFRESH_SHARE).toFixed(0)} s (at most ${allowed}); every refresh rotates the refresh token`);
  if (failed > 0) problems.push(`${failed} refresh requests refused by the token server`);
  return { ...invariant('token-refreshes', `${ok} refreshes (${failed} refused) in ${(aliveMs / 1000).toFixed(0)} s of daemon time, ${tokenTtlSeconds} s tokens (at most ${allowed})`, problems), refreshes: ok };
}

/** Each daemon the drill did not kill while it started logged "daemon started" within the limit. */
export function checkStartUp(lives: readonly LifeFacts[]): Invariant & { slowestMs: number } {
  const problems: string[] = [];
  let slowest = 0;
  let starts = 0;
  for (const l of lives) {
    if (l.startedAt === null) {
      // Killed (or crashed: the crash invariant says so) before it started; a life still starting at the end is slow.
      if (l.exitedAt === null) problems.push(`daemon #${l.index} never logged that it started`);
      continue;
    }
    starts++;
    const ms = l.startedAt - l.spawnedAt;
    slowest = Math.max(slowest, ms);
    if (ms > START_LIMIT_MS) problems.push(`daemon #${l.index} took ${(ms / 1000).toFixed(1)} s to start (limit ${START_LIMIT_MS / 1000} s)`);
  }
  return { ...invariant('start-up', `${starts} starts, the slowest ${(slowest / 1000).toFixed(1)} s (limit ${START_LIMIT_MS / 1000} s)`, problems), slowestMs: slowest };
}

const BUG_STACK = /^(ReferenceError|TypeError|RangeError|SyntaxError|EvalError)\b/;

/** Whether an error-level log record shows a bug in b24-rules rather than a portal or network problem. */
export function isBugRecord(rec: Record<string, unknown>): boolean {
  if (typeof rec.level !== 'number' || rec.level < 50) return false;
  if (rec.level >= 60) return true;
  const err = (rec.err ?? rec.error) as { stack?: unknown; code?: unknown; kind?: unknown } | string | undefined;
  if (typeof err === 'string') return BUG_STACK.test(err);
  if (!err) return false;
  return (typeof err.stack === 'string' && BUG_STACK.test(err.stack)) || err.code === 'UNEXPECTED' || err.code === 'INTERNAL' || err.kind === 'bug';
}

/** No daemon logged an error that is a bug of its own (a TypeError, a ReferenceError, an UNEXPECTED or bug-kind error, anything fatal). */
export function checkBugs(lives: readonly LifeFacts[]): Invariant {
  const problems = new Map<string, number>();
  let errors = 0;
  for (const l of lives) {
    for (const r of l.records) {
      if (typeof r.level !== 'number' || r.level < 50) continue;
      errors++;
      if (!isBugRecord(r)) continue;
      const err = (r.err ?? r.error) as { message?: unknown } | string | undefined;
      const key = `${String(r.msg)}: ${typeof err === 'string' ? err.split('\n')[0] : String(err?.message ?? '')}`.slice(0, 300);
      problems.set(key, (problems.get(key) ?? 0) + 1);
    }
  }
  return invariant('bugs', `${[...problems.values()].reduce((a, b) => a + b, 0)} of ${errors} error lines in the daemons' logs show a bug`, [...problems].map(([k, n]) => (n > 1 ? `${k} (${n} times)` : k)));
}
