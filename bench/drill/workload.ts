/**
 * The disturbances, in plan order: each waits for its moment of the backlog
 * (or, for a kill during start-up, for its time after the last start), then
 * kills, stops, floods or sends payloads. It gives up waiting when the work
 * stalls or the time is up, and says so: the report shows the steps that did
 * not happen.
 */
import type { DaemonSupervisor } from './daemon.js';
import type { LostAnswerResult } from './lost-answer.js';
import type { Monitor } from './monitor.js';
import type { PayloadCase } from './payloads.js';
import type { Step } from './plan.js';
import { sendPayloads, type PayloadAnswer } from './send-payloads.js';
import { flood, type StormResult } from './storm.js';

export interface WorkloadOptions {
  steps: readonly Step[];
  supervisor: DaemonSupervisor;
  monitor: Monitor;
  /** How many hostile payloads, and the maker of the next one. */
  payloads: { count: number; next: () => PayloadCase };
  /** The storm's target: a cheap read through the incoming webhook. */
  stormUrl: string;
  /** Lose one `event.offline.get` answer and wait for its batch (lost-answer.ts). */
  loseAnswer: () => Promise<LostAnswerResult>;
  deadline: number;
  stallMs: number;
  log: (line: string) => void;
  /** Why to stop now (Ctrl-C), or null to go on. */
  stop?: () => string | null;
}

export interface WorkloadResult {
  /** Steps done, with the progress when each was done. */
  done: Array<{ step: Step; progress: number }>;
  /** Steps never done, and why the loop ended early (null: it did not). */
  skipped: Step[];
  stopped: string | null;
  /** Storms still running resolve into this list. */
  storms: Array<Promise<StormResult>>;
  answers: PayloadAnswer[] | null;
  /** The daemon's /healthz status right after the payloads (null: not asked). */
  healthAfterPayloads: number | null;
  lostAnswer: LostAnswerResult | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until `ready()`; null when it came, else why not (stalled, time up, `stop` said so). */
export async function waitUntil(ready: () => boolean, monitor: Monitor, deadline: number, stallMs: number, stop?: () => string | null): Promise<string | null> {
  while (!ready()) {
    const stopped = stop?.() ?? null;
    if (stopped) return stopped;
    if (Date.now() > deadline) return 'the time limit came first';
    if (!monitor.finished && Date.now() - monitor.lastChangeAt > stallMs) return `the work stalled: nothing changed for ${Math.round(stallMs / 1000)} s at ${Math.round(monitor.progress * 100)}% (${monitor.queued} events in the queue)`;
    await sleep(100);
  }
  return null;
}

/** Run the steps. */
export async function runWorkload(o: WorkloadOptions): Promise<WorkloadResult> {
  const result: WorkloadResult = { done: [], skipped: [], stopped: null, storms: [], answers: null, healthAfterPayloads: null, lostAnswer: null };
  let stormUntil = 0;
  const pct = () => `${Math.round(o.monitor.progress * 100)}%`;
  for (let i = 0; i < o.steps.length; i++) {
    const step = o.steps[i] as Step;
    const startUp = step.kind === 'kill' ? step.duringStartUp : undefined;
    const why = startUp
      ? await waitUntil(() => o.supervisor.current !== undefined && Date.now() >= o.supervisor.current.spawnedAt + startUp.afterSpawnMs, o.monitor, o.deadline, o.stallMs, o.stop)
      : await waitUntil(() => o.monitor.progress >= step.at || o.monitor.finished, o.monitor, o.deadline, o.stallMs, o.stop);
    if (why) {
      result.stopped = why;
      result.skipped = o.steps.slice(i);
      return result;
    }
    switch (step.kind) {
      case 'kill':
      case 'term': {
        const signal = step.kind === 'kill' ? 'SIGKILL' : 'SIGTERM';
        // SIGTERM is for a daemon at work: one still loading its modules has no handler yet and dies of it, as any Node process does.
        if (signal === 'SIGTERM' && !(await o.supervisor.waitReady(60_000))) o.log('SIGTERM: no daemon ready within 60 s; sending it anyway');
        const life = await o.supervisor.end(signal);
        if (life) {
          const took = life.exitedAt !== null && life.signalledAt !== null ? ` (exited in ${((life.exitedAt - life.signalledAt) / 1000).toFixed(1)} s, code ${String(life.code)})` : '';
          o.log(`${signal === 'SIGKILL' ? 'kill -9' : 'SIGTERM'} daemon #${life.index} at ${pct()}${startUp ? ` ${Date.now() - life.spawnedAt} ms after its start (${life.startedAt === null ? 'still starting' : 'already started'})` : ''}${took}`);
        }
        await sleep(step.restartDelayMs);
        const next = o.supervisor.restart();
        o.log(`started daemon #${next.index}`);
        break;
      }
      case 'storm':
        o.log(`rate-limit storm for ${step.seconds} s at ${pct()}`);
        result.storms.push(flood(o.stormUrl, step.seconds));
        stormUntil = Date.now() + step.seconds * 1000;
        break;
      case 'lose-answer': {
        // Measured alone: a storm would add its own wait to the figure, and a re-read of a reservation a killed
        // daemon left (the queue is empty only once all are cleared) would take the lost answer instead of a reserving get.
        const calm = await waitUntil(() => Date.now() > stormUntil && o.supervisor.ready && o.monitor.finished, o.monitor, o.deadline, o.stallMs);
        if (calm) {
          result.stopped = calm;
          result.skipped = o.steps.slice(i);
          return result;
        }
        o.log(`losing the answer to an event.offline.get at ${pct()}`);
        result.lostAnswer = await o.loseAnswer();
        const r = result.lostAnswer;
        for (const miss of r.misses) o.log(`lost answer, ${miss}`);
        o.log(!r.happened ? 'no reserving get lost its answer' : r.recoveredMs === null ? `its batch still hidden after ${r.limitMs / 1000} s` : `its batch cleared ${(r.recoveredMs / 1000).toFixed(1)} s later`);
        break;
      }
      case 'payloads': {
        if (!(await o.supervisor.waitReady(60_000))) {
          o.log('payloads: no daemon ready within 60 s; sending anyway (they count as unanswered)');
        }
        o.log(`${o.payloads.count} hostile payloads at ${pct()}`);
        result.answers = await sendPayloads(() => (o.supervisor.ready ? (o.supervisor.current?.url ?? null) : null), o.payloads.count, o.payloads.next, { progress: o.log });
        const url = o.supervisor.ready ? o.supervisor.current?.url : null;
        result.healthAfterPayloads = url ? await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.status, () => 0) : 0;
        break;
      }
    }
    result.done.push({ step, progress: o.monitor.progress });
  }
  return result;
}
