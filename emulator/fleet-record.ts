/**
 * Who sent what to which portal of a fleet, and when: every HTTP request a
 * portal answers is one span [start, end] on the process's monotonic clock,
 * tagged with the worker named in its user agent (`b24-rules/<v> (worker
 * <id>)`). Two spans of different workers on one portal that intersect are an
 * overlap: the portal served two workers at once, which the lease forbids.
 *
 * Cheap and bounded: an overlap is found when a request arrives, against the
 * requests of that portal still in flight (two intervals intersect exactly
 * when one starts while the other is open), so nothing is searched later; each
 * portal keeps its last `keep` spans, the worker runs and the first overlaps.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

/** Requests without a worker tag (a test's own calls, a browser) are 'unknown': recorded, never counted as a worker. */
export const UNKNOWN_WORKER = 'unknown';

/** Overlaps kept (the count goes on). */
const OVERLAPS_KEPT = 1000;

/** One request a portal answered. */
export interface RequestSpan {
  /** Arrival order across the fleet, from 1. */
  seq: number;
  /** Index of the portal in the fleet. */
  portal: number;
  /** The worker id from the user agent, or 'unknown'. */
  worker: string;
  /** The REST method (lowercase, no `.json`), `oauth/token`, or the path; never a webhook code or query. */
  method: string;
  /** `performance.now()` (ms, monotonic) when the request arrived. */
  start: number;
  /**
   * When the portal finished the work and answered (or found it could not read the request); unset while the portal
   * may still be working on it, even after its sender gave up or died: the work goes on at the portal all the same.
   */
  end?: number;
  /** When the sender closed the connection before the answer (it gave up, or its process died). */
  clientGone?: number;
}

/** Two requests of two different workers to one portal whose spans intersect. */
export interface Overlap {
  portal: number;
  /** The request already in flight. */
  a: RequestSpan;
  /** The request that arrived while `a` was in flight. */
  b: RequestSpan;
}

/** A run of consecutive requests (in arrival order) from one worker to one portal. */
export interface WorkerRun {
  worker: string;
  /** Arrival (`performance.now()` ms) of the run's first request. */
  from: number;
  requests: number;
}

/** Requests to a portal held before they are handled (tests make two requests concurrent without sleeping). */
export interface Hold {
  /** Resolves once `n` requests are waiting at the hold. */
  held(n: number): Promise<void>;
  /** Let the waiting requests (and every later one) through. */
  release(): void;
}

/** The worker id in a user agent `b24-rules/<version> (worker <id>)`, or 'unknown'. */
export function workerOf(userAgent: string | undefined): string {
  const m = /\(worker ([^()]+)\)/.exec(userAgent ?? '');
  return m ? (m[1] as string).trim() : UNKNOWN_WORKER;
}

/** The REST method a path names, without the webhook's user and code: `/rest/1/abc/crm.deal.add.json` → `crm.deal.add`. */
export function methodOf(path: string): string {
  const pathname = path.split('?')[0] ?? '';
  if (/^\/oauth\/token\/?$/.test(pathname)) return 'oauth/token';
  const m = /^\/rest\/(?:\d+\/[^/]+\/)?([^/]+?)(?:\.json)?\/?$/.exec(pathname);
  return m ? decodeURIComponent(m[1] as string).toLowerCase() : pathname.replace(/^\/rest\/\d+\/[^/]+/, '/rest/{user}/{code}');
}

interface PortalLog {
  spans: RequestSpan[];
  open: Set<RequestSpan>;
  runs: WorkerRun[];
  gate?: { waiting: Array<() => void>; watchers: Array<{ n: number; resolve: () => void }> };
}

/** The record of a whole fleet. */
export class FleetRecorder {
  readonly #portals: PortalLog[];
  readonly #overlaps: Overlap[] = [];
  #overlapCount = 0;
  #seq = 0;

  /** @param keep Spans kept per portal (the oldest go first). */
  constructor(
    portals: number,
    readonly keep = 5000,
  ) {
    this.#portals = Array.from({ length: portals }, () => ({ spans: [], open: new Set(), runs: [] }));
  }

  /**
   * The `onRequest` hook of portal `index`: opens a span, waits at a hold, and closes the span when the portal
   * answers (its work is done), not when the connection closes: a request whose sender died is still being run by
   * the portal, and another worker's request meanwhile is an overlap.
   */
  observe(index: number): (req: IncomingMessage, res: ServerResponse) => Promise<void> | undefined {
    return (req, res) => {
      const span = this.open(index, workerOf(req.headers['user-agent']), methodOf(req.url ?? '/'));
      const close = (): void => this.close(index, span);
      const end = res.end;
      res.end = function (this: ServerResponse, ...args: unknown[]) {
        close();
        return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
      } as ServerResponse['end'];
      // The emulator could not even read the request (it was cut off): no work is done.
      req.once('error', close);
      res.once('close', () => {
        if (span.end === undefined) span.clientGone ??= performance.now();
      });
      return this.#wait(index);
    };
  }

  /**
   * Open a span (a request arrived, at `start` or now). `listed: false` (a request to the token server about the
   * portal): it counts in overlaps, but is not one of the portal's requests (`requests()`, `workersSeen()`).
   */
  open(index: number, worker: string, method: string, start = performance.now(), listed = true): RequestSpan {
    const log = this.#log(index);
    const span: RequestSpan = { seq: ++this.#seq, portal: index, worker, method, start };
    if (worker !== UNKNOWN_WORKER) {
      for (const other of log.open) {
        if (other.worker === UNKNOWN_WORKER || other.worker === worker) continue;
        this.#overlapCount++;
        if (this.#overlaps.length < OVERLAPS_KEPT) this.#overlaps.push({ portal: index, a: other, b: span });
      }
      const last = log.runs[log.runs.length - 1];
      if (listed && last?.worker === worker) last.requests++;
      else if (listed) log.runs.push({ worker, from: span.start, requests: 1 });
    }
    log.open.add(span);
    if (!listed) return span;
    log.spans.push(span);
    if (log.spans.length > this.keep + Math.ceil(this.keep / 10)) log.spans.splice(0, log.spans.length - this.keep);
    return span;
  }

  /** Close a span (the portal answered it). */
  close(index: number, span: RequestSpan): void {
    if (span.end !== undefined) return;
    span.end = performance.now();
    this.#log(index).open.delete(span);
  }

  /** The last `keep` requests portal `index` answered, in arrival order. */
  requests(index: number): readonly RequestSpan[] {
    return this.#log(index).spans;
  }

  /** Requests of two different workers to one portal at the same time (the first 1,000; `overlapCount` counts all). */
  overlaps(): readonly Overlap[] {
    return this.#overlaps;
  }

  get overlapCount(): number {
    return this.#overlapCount;
  }

  /** The workers that served portal `index`, one entry per change of worker, in order. */
  workersSeen(index: number): readonly WorkerRun[] {
    return this.#log(index).runs;
  }

  /** Hold portal `index`'s requests from now on until `release()`. */
  hold(index: number): Hold {
    const log = this.#log(index);
    const gate = (log.gate ??= { waiting: [], watchers: [] });
    return {
      held: (n) =>
        new Promise<void>((resolve) => {
          if (gate.waiting.length >= n) resolve();
          else gate.watchers.push({ n, resolve });
        }),
      release: () => {
        if (log.gate === gate) delete log.gate;
        for (const go of gate.waiting.splice(0)) go();
      },
    };
  }

  #wait(index: number): Promise<void> | undefined {
    const gate = this.#log(index).gate;
    if (!gate) return undefined;
    return new Promise<void>((resolve) => {
      gate.waiting.push(resolve);
      for (const w of [...gate.watchers]) {
        if (gate.waiting.length < w.n) continue;
        gate.watchers.splice(gate.watchers.indexOf(w), 1);
        w.resolve();
      }
    });
  }

  #log(index: number): PortalLog {
    const log = this.#portals[index];
    if (!log) throw new RangeError(`no portal ${index} in a fleet of ${this.#portals.length}`);
    return log;
  }
}
