/**
 * The daemon: one process that owns the state file, runs the engine's tick
 * loop, and feeds it from every work source (offline events in OAuth mode,
 * outgoing webhooks when an application token is configured, form webhooks,
 * schedules), with `/healthz` and `/metrics` on the same HTTP server.
 *
 * Lifecycle: `start()` loads the rules (refusing a set with errors), opens the
 * state, starts the sources (the offline source binds its events and recovers
 * reservations first) and the loop. `reload()` swaps in a new rule set only if
 * it validates. `stop()` stops taking work, lets the tick in flight finish
 * (bounded: past the deadline it is abandoned, which the effect ledger makes
 * safe), acknowledges what is done, and closes the state.
 */
import { B24RulesError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createClient, type ClientOptions } from '../client/index.js';
import type { ClientEvent } from '../client/stats.js';
import type { B24ClientApi, ClientConfig } from '../client/types.js';
import { createEngine } from '../pipeline/index.js';
import type { CreateEngineOptions, EngineStats, EngineTuning, FetchLike, TickReport } from '../pipeline/types.js';
import { loadRules } from '../rules/index.js';
import type { CompiledRule, Diagnostic } from '../rules/types.js';
import { createFormWebhookSource, type FormWebhookSource } from '../sources/form-webhook.js';
import { createOfflineSource, type OfflineSource } from '../sources/offline.js';
import { createOutgoingWebhookSource, type OutgoingWebhookSource } from '../sources/outgoing-webhook.js';
import { createScheduleSource, type ScheduleSource } from '../sources/schedule.js';
import { realClock, realTimers, type Clock, type Source, type SourceContext, type Timers } from '../sources/types.js';
import { createDaemonMetrics, type DaemonMetrics } from '../status/daemon-metrics.js';
import { startStatusServer, type HealthReport, type StatusServer } from '../status/server.js';
import { openStateStore, type StateStore } from '../store/index.js';
import { watchRules } from './rule-watcher.js';

export interface DaemonOptions {
  /** Rule files and directories. */
  rulesPaths: string[];
  /** The state file (`:memory:` in some tests). */
  statePath: string;
  /** Where the portal is and how to authenticate (loadConfig). */
  config: ClientConfig;
  logger: Logger;
  /** Status and webhook server `host:port`; null: no server. @default '127.0.0.1:7424' */
  listen?: string | null;
  /** Values for rules' `env.NAME` and form-hook secrets. @default process.env */
  env?: Record<string, string | undefined>;
  clock?: Clock;
  timers?: Timers;
  /** OAuth: the connector key for offline events and the engine's writes. @default 'b24rules' */
  authConnector?: string;
  /** Enables the outgoing-webhook receiver (`/b24/events`) with this token. @default undefined */
  applicationToken?: string;
  /** Offline source in OAuth mode. @default true */
  offline?: boolean | { pollIntervalMs?: number; batchSize?: number; maxDepth?: number };
  /** Reload when a rule file changes. @default true */
  watch?: boolean;
  /** Wait between ticks when idle (ms). @default 250 */
  tickIntervalMs?: number;
  /** Longest time stop() waits for the tick in flight (ms). @default 8000 */
  drainTimeoutMs?: number;
  /** Passed to the REST client (tests: rate limit, retries). */
  clientOptions?: Omit<ClientOptions, 'logger' | 'onEvent' | 'authConnector'>;
  /** Passed to the engine. */
  engineOptions?: EngineTuning;
  /** For `http` actions. @default globalThis.fetch */
  http?: FetchLike;
  /** A ready client instead of one built from `config` (tests). */
  client?: B24ClientApi;
}

export const DEFAULTS = {
  /** @default '127.0.0.1:7424' */
  listen: '127.0.0.1:7424',
  /** @default 'b24rules' */
  authConnector: 'b24rules',
  /** @default 250 ms */
  tickIntervalMs: 250,
  /** @default 8000 ms (the CLI exits within 10 s of SIGTERM) */
  drainTimeoutMs: 8000,
  /** @default 10000 ms, the longest wait after a failed tick */
  tickBackoffMaxMs: 10_000,
  /** @default 500 finished runs read per query when logging them */
  runLogPage: 500,
};

/** The rule set has errors: the daemon does not start with it (or keeps the old one on reload). */
export class RuleSetInvalidError extends B24RulesError {
  constructor(readonly diagnostics: Diagnostic[]) {
    super('RULES_INVALID', `the rule set has ${diagnostics.filter((d) => d.severity === 'error').length} error(s):\n${formatDiagnostics(diagnostics)}`, { kind: 'user' });
  }
}

export function formatDiagnostics(diagnostics: Diagnostic[]): string {
  return diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => `  ${d.file}:${d.line}:${d.col} ${d.code}${d.ruleId ? ` [${d.ruleId}]` : ''}: ${d.message}${d.hint ? ` (${d.hint})` : ''}`)
    .join('\n');
}

interface Engine {
  tick(): Promise<TickReport>;
  setRules(rules: CompiledRule[]): void;
  readonly stats: EngineStats;
}

export interface Daemon {
  /** Base URL of the status/webhook server, once started (null without one). */
  readonly url: string | null;
  readonly metrics: DaemonMetrics;
  /** The open state store (after start). */
  readonly store: StateStore;
  readonly rules: CompiledRule[];
  start(): Promise<void>;
  /** Reload the rule files; false (and the old set kept) when the new set has errors. */
  reload(): Promise<boolean>;
  /** Stop taking work, drain, persist. Resolves `{ abandoned }`: true when the tick in flight had to be left unfinished. */
  stop(): Promise<{ abandoned: boolean }>;
  /** Resolves after the next complete tick (tests and `rules apply`). */
  nextTick(): Promise<TickReport>;
}

function eventNames(rules: CompiledRule[]): string[] {
  return [...new Set(rules.filter((r) => r.enabled && r.trigger.kind === 'event').map((r) => (r.trigger as { event: string }).event.toUpperCase()))];
}

export function createDaemon(options: DaemonOptions): Daemon {
  const logger = options.logger;
  const clock = options.clock ?? realClock;
  const timers = options.timers ?? realTimers;
  // The tick loop's own wait is what keeps the process alive while the daemon runs (the sources' timers are unref'd).
  const loopTimers: Timers = options.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) };
  const env = options.env ?? process.env;
  const tickInterval = options.tickIntervalMs ?? DEFAULTS.tickIntervalMs;
  const oauth = options.config.auth.mode === 'oauth';
  const authConnector = oauth ? (options.authConnector ?? DEFAULTS.authConnector) : undefined;

  let store: StateStore | undefined;
  let rules: CompiledRule[] = [];
  let engine: Engine | undefined;
  let ownClient: { close(): Promise<void> } | null = null;
  let server: StatusServer | null = null;
  let stopWatching: (() => void) | null = null;
  const sources: Source[] = [];
  let schedule: ScheduleSource | undefined;
  let form: FormWebhookSource | undefined;
  let offline: OfflineSource | undefined;
  let outgoing: OutgoingWebhookSource | undefined;
  let running = false;
  let loopDone: Promise<void> = Promise.resolve();
  let wake: (() => void) | null = null;
  let lastTick: { at: number; error: string | null } = { at: 0, error: null };
  const tickWaiters: Array<(r: TickReport) => void> = [];
  let reloading: Promise<boolean> | null = null;
  // Finish number of the last run logged and counted. In memory only: a (re)started daemon
  // starts from the store's latest finish, so runs that finished while it was down (or in a
  // previous process, which logged and counted them itself) are not logged or counted again;
  // `rule_runs_total` is a per-process counter, as Prometheus counters are.
  let finishCursor = 0;
  let starting: Promise<void> | null = null;

  const metrics = createDaemonMetrics({
    depth: () => (store ? store.inbox.depth() : 0),
    dlqSize: () => (store ? store.dlq.count() : 0),
  });

  function onClientEvent(e: ClientEvent): void {
    switch (e.type) {
      case 'request':
        if (e.method !== 'batch') metrics.restCalls.inc();
        break;
      case 'batch':
        metrics.restBatches.inc();
        metrics.restCalls.inc({}, e.commands);
        break;
      case 'rate-limit-wait':
        metrics.rateLimitWaits.inc({ kind: 'request_rate' });
        break;
      case 'operating-wait':
        metrics.rateLimitWaits.inc({ kind: 'operating' });
        break;
      default:
        break;
    }
  }

  async function load(): Promise<{ rules: CompiledRule[]; diagnostics: Diagnostic[] }> {
    const result = await loadRules(options.rulesPaths);
    for (const d of result.diagnostics) {
      if (d.severity === 'warning') logger.warn({ file: d.file, line: d.line, rule: d.ruleId, code: d.code }, d.message);
    }
    if (result.diagnostics.some((d) => d.severity === 'error')) throw new RuleSetInvalidError(result.diagnostics);
    if (result.rules.length === 0) {
      throw new RuleSetInvalidError([
        { severity: 'error', code: 'NO_RULES', message: `no rules found in ${options.rulesPaths.join(', ')}`, file: options.rulesPaths[0] ?? '.', line: 1, col: 1, hint: 'pass the directory or files that hold your rule YAML files' },
      ]);
    }
    return result;
  }

  function notify(): void {
    const w = wake;
    wake = null;
    w?.();
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const h = loopTimers.setTimeout(() => {
        wake = null;
        resolve();
      }, ms);
      wake = () => {
        loopTimers.clearTimeout(h);
        resolve();
      };
    });
  }

  /**
   * One log line and one `rule_runs_total` sample per run that reached a final state
   * since the last call, however long after its creation it finished (retries, backoff,
   * DLQ retries), following the store's finish order with `finishCursor`.
   */
  function logRuns(): void {
    if (!store) return;
    for (;;) {
      const page = store.runs.finishedSince(finishCursor, DEFAULTS.runLogPage);
      finishCursor = page.cursor;
      for (const run of page.runs) {
        metrics.ruleRuns.inc({ rule: run.ruleId, outcome: run.status });
        const line = { rule: run.ruleId, run: run.id, outcome: run.status, trigger: run.triggerKey, record: run.recordKey || undefined, ms: (run.finishedAt ?? run.updatedAt) - run.createdAt };
        if (run.status === 'dead' || run.status === 'failed') logger.warn({ ...line, error: run.error }, `rule ${run.ruleId} ${run.status}: ${run.error ?? ''}`);
        else logger.info(line, `rule ${run.ruleId} ${run.status}`);
      }
      if (page.runs.length < DEFAULTS.runLogPage) return;
    }
  }

  async function acknowledgeAll(): Promise<void> {
    for (const s of sources) {
      try {
        await s.acknowledge?.();
      } catch (err) {
        logger.warn({ err, source: s.kind }, 'acknowledging finished work failed; will retry');
      }
    }
  }

  async function loop(): Promise<void> {
    let failures = 0;
    while (running) {
      let report: TickReport;
      try {
        report = await (engine as Engine).tick();
        failures = 0;
        lastTick = { at: clock.now(), error: null };
        metrics.ticks.inc({ outcome: 'ok' });
      } catch (err) {
        failures++;
        const e = err instanceof Error ? err.message : String(err);
        lastTick = { at: clock.now(), error: e };
        metrics.ticks.inc({ outcome: 'error' });
        logger.error({ err }, 'engine tick failed');
        if (running) await sleep(Math.min(DEFAULTS.tickBackoffMaxMs, tickInterval * 2 ** failures));
        continue;
      }
      const f = report.finished;
      const finished = f.done + f.skipped + f.failed + f.dead;
      // Every tick, not only when this one finished runs: it is one index lookup, and a run finished
      // by another process on the same state file is then not missed either.
      logRuns();
      await acknowledgeAll();
      for (const w of tickWaiters.splice(0)) w(report);
      const busy = report.items > 0 || report.runsCreated > 0 || report.calls > 0 || finished > 0;
      if (running && !busy) await sleep(tickInterval);
    }
  }

  function health(): HealthReport {
    if (!store) return { ok: false, error: 'not started' };
    const depth = store.inbox.depth();
    const dlq = store.dlq.count();
    return {
      ok: running,
      running,
      rules: rules.length,
      depth,
      dlq,
      lastTickAt: lastTick.at ? new Date(lastTick.at).toISOString() : null,
      lastTickError: lastTick.error,
      sources: sources.map((s) => s.kind),
    };
  }

  async function reload(): Promise<boolean> {
    if (starting) await starting.catch(() => undefined);
    if (!running) return false;
    if (reloading) return reloading;
    reloading = (async () => {
      let next: CompiledRule[];
      try {
        next = (await load()).rules;
        // Compile schedules before swapping, so a bad cron refuses the whole set.
        if (schedule) schedule.setRules(next);
      } catch (err) {
        metrics.reloads.inc({ outcome: 'refused' });
        const diagnostics = err instanceof RuleSetInvalidError ? err.diagnostics.filter((d) => d.severity === 'error') : [];
        for (const d of diagnostics) logger.error({ file: d.file, line: d.line, col: d.col, rule: d.ruleId, code: d.code }, `${d.file}:${d.line}:${d.col} ${d.message}`);
        logger.error({ err: diagnostics.length ? undefined : err, errors: diagnostics.length }, 'rule reload refused; the running rule set keeps working');
        if (schedule) schedule.setRules(rules);
        return false;
      }
      rules = next;
      engine?.setRules(rules);
      form?.setRules(rules);
      if (offline) {
        try {
          await offline.setEvents(eventNames(rules));
        } catch (err) {
          logger.warn({ err }, 'binding the offline events of the new rules failed; will bind at the next start');
        }
      }
      metrics.reloads.inc({ outcome: 'ok' });
      metrics.rulesLoaded.set(rules.length);
      logger.info({ rules: rules.length }, `rules reloaded: ${rules.length} rule(s)`);
      return true;
    })().finally(() => {
      reloading = null;
    });
    return reloading;
  }

  return {
    get url() {
      return server?.url ?? null;
    },
    metrics,
    get store() {
      if (!store) throw new B24RulesError('DAEMON_NOT_STARTED', 'the daemon is not started', { kind: 'bug' });
      return store;
    },
    get rules() {
      return rules;
    },
    reload,
    nextTick: () => new Promise<TickReport>((resolve) => tickWaiters.push(resolve)),

    start() {
      starting ??= startOnce();
      return starting;
    },

    async stop() {
      if (starting) await starting.catch(() => undefined);
      return stopOnce();
    },
  };

  async function startOnce(): Promise<void> {
    rules = (await load()).rules;
    store = openStateStore(options.statePath, { now: clock.now });
    finishCursor = store.runs.finishedCursor();
    const client =
      options.client ??
      createClient(options.config, {
        ...options.clientOptions,
        logger: logger.child({ component: 'client' }),
        onEvent: onClientEvent,
        ...(authConnector ? { authConnector } : {}),
      });
    if (!options.client) ownClient = client as unknown as { close(): Promise<void> };
    const engineOptions: CreateEngineOptions = {
      store,
      client,
      rules,
      clock: clock.now,
      logger: logger.child({ component: 'engine' }),
      mode: 'run',
      ...(options.http ? { http: options.http } : {}),
      options: { env, ...options.engineOptions },
    };
    engine = createEngine(engineOptions);
    const ctx: SourceContext = { inbox: store.inbox, logger: logger.child({ component: 'sources' }), clock, timers, metrics, notify };

    schedule = createScheduleSource({ rules, book: store.schedules }, ctx);
    form = createFormWebhookSource({ rules, env: env as NodeJS.ProcessEnv }, ctx);
    sources.push(schedule, form);
    const offlineOpt = options.offline ?? true;
    if (oauth && offlineOpt !== false && authConnector) {
      const tuning = typeof offlineOpt === 'object' ? offlineOpt : {};
      offline = createOfflineSource({ client, authConnector, events: eventNames(rules), ...tuning }, ctx);
      sources.push(offline);
    }
    if (options.applicationToken) {
      outgoing = createOutgoingWebhookSource({ applicationToken: options.applicationToken, ...(offline ? { onOfflineSignal: () => offline?.signal() } : {}) }, ctx);
      sources.push(outgoing);
    }

    if (!offline && !outgoing && rules.some((r) => r.enabled && r.trigger.kind === 'event')) {
      logger.warn(
        'event rules will not fire: offline events need OAuth (B24_AUTH_MODE=oauth) and outgoing webhooks need B24_APPLICATION_TOKEN; schedules, form hooks and manual runs work',
      );
    }
    const listen = options.listen === undefined ? DEFAULTS.listen : options.listen;
    if (listen !== null) {
      server = await startStatusServer({
        listen,
        metrics: metrics.registry,
        health,
        handlers: [form.handler, ...(outgoing ? [outgoing.handler] : [])],
        logger,
      });
    }
    try {
      for (const s of sources) await s.start();
    } catch (err) {
      for (const s of sources) await s.stop().catch(() => undefined);
      await server?.close();
      store.close();
      throw err;
    }
    running = true;
    metrics.up.set(1);
    metrics.rulesLoaded.set(rules.length);
    loopDone = loop();
    if (options.watch ?? true) {
      stopWatching = watchRules({
        paths: options.rulesPaths,
        logger,
        onChange: (files) => {
          logger.info({ files }, 'rule files changed; reloading');
          void reload();
        },
      });
    }
    logger.info(
      {
        rules: rules.length,
        url: server?.url,
        sources: sources.map((s) => s.kind),
        ...(form.routes().length ? { hooks: form.routes().map((r) => r.path) } : {}),
        ...(outgoing ? { events: `${server?.url ?? ''}${outgoing.path}` } : {}),
      },
      `daemon started: ${rules.length} rule(s), sources ${sources.map((s) => s.kind).join(', ')}${server ? `, status on ${server.url}` : ''}`,
    );
  }

  async function stopOnce(): Promise<{ abandoned: boolean }> {
    if (!store) return { abandoned: false };
    if (!running && sources.length === 0) return { abandoned: false };
    running = false;
    metrics.up.set(0);
    stopWatching?.();
    stopWatching = null;
    // Webhook receivers keep storing until the server closes: the portal never re-sends an
    // event it could not deliver, and a stored one is simply processed after the restart.
    const receivers: Source[] = [form, outgoing].filter((s): s is FormWebhookSource | OutgoingWebhookSource => s !== undefined);
    const stopSource = (s: Source) => s.stop().catch((err: unknown) => logger.warn({ err, source: s.kind }, 'stopping a source failed'));
    for (const s of sources) if (!receivers.includes(s)) await stopSource(s);
    notify();
    const drain = options.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs;
    let timedOut = false;
    await Promise.race([
      loopDone,
      new Promise<void>((resolve) => {
        timers.setTimeout(() => {
          timedOut = true;
          resolve();
        }, drain);
      }),
    ]);
    if (timedOut) {
      logger.warn({ drainMs: drain }, 'the tick in flight did not finish in time; abandoning it (the effect ledger resumes it at the next start)');
      for (const s of receivers) await stopSource(s);
      await server?.close();
      server = null;
      sources.length = 0;
      return { abandoned: true };
    }
    await acknowledgeAll();
    for (const s of receivers) await stopSource(s);
    await server?.close();
    server = null;
    sources.length = 0;
    store.close();
    await ownClient?.close().catch(() => undefined);
    logger.info('daemon stopped');
    return { abandoned: false };
  }
}
