/**
 * The Bitrix24 REST client: every call the engine, dry-run and the CLI send.
 *
 * One attempt = wait for the method's execution budget, take a slot from the
 * client-side leaky bucket, get a fresh OAuth token (webhooks need none), POST
 * the params as JSON, and read the envelope. `expired_token`/`invalid_token`
 * trigger one single-flight refresh and a re-send.
 *
 * Retry strategy (p-retry, jittered exponential backoff, `retries` attempts):
 * - retried: 503 QUERY_LIMIT_EXCEEDED (the bucket is marked full first), 429
 *   OPERATION_TIME_LIMIT (after holding the method until `operating_reset_at`),
 *   other 5xx, unreadable answers, timeouts and network errors;
 * - never retried: 4xx portal errors (ERROR_METHOD_NOT_FOUND, bad params,
 *   ACCESS_DENIED), auth errors (insufficient_scope, WRONG_AUTH_TYPE,
 *   NO_AUTH_FOUND, a failed refresh), OVERLOAD_LIMIT (a manual block);
 * - not blindly re-sent: a write that is not idempotent (see
 *   isIdempotentMethod in method-kind.ts: anything but
 *   update/set/delete/unset/bind/unbind/clear/complete/renew, so every
 *   `.add`; a read always is) whose outcome is unknown, i.e. the request was written to
 *   the socket and then the connection dropped or timed out, or a 5xx other
 *   than QUERY_LIMIT_EXCEEDED/OVERLOAD_LIMIT came back. The client throws
 *   OutcomeUnknownError (method, params) so the effect ledger can look for the
 *   record by its ORIGIN_ID before sending again. A request that provably never
 *   left (connection refused, DNS failure) is retried even for `.add`.
 *   A batch counts as idempotent only when all its commands are.
 */
import pRetry from 'p-retry';
import type { Dispatcher } from 'undici';
import { systemClock, type Clock } from '../clock.js';
import { B24RulesError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { registerSecret } from '../redact.js';
import {
  chunk,
  commandTime,
  MAX_BATCH,
  normalizeCommands,
  notRun,
  readBatchResult,
  referencedKeys,
  resolveReferences,
  type KeyedCommand,
} from './batch.js';
import { AuthError, B24ApiError, errorText, NetworkError, OutcomeUnknownError, RateLimitError, WriteRefusedError } from './errors.js';
import { LeakyBucket } from './leaky-bucket.js';
import { Semaphore } from './semaphore.js';
import {
  listAll as listAllImpl,
  listAllBatched as listAllBatchedImpl,
  listPaged as listPagedImpl,
  type ListAllBatchedOptions,
  type ListAllOptions,
  type ListContext,
  type ListPagedOptions,
} from './lists.js';
import { callKind, isCreateMethod, isIdempotentCall, methodKind } from './method-kind.js';
import { TokenManager } from './oauth.js';
import { OperatingBudget } from './operating-budget.js';
import { commandMethod, encodeCommand } from './query-string.js';
import { emptyStats, type ClientEvent, type ClientStats } from './stats.js';
import { createAgent, send, TransportError, type HttpResponse } from './transport.js';
import type {
  B24ClientApi,
  B24Envelope,
  B24Time,
  BatchCommand,
  BatchItemResult,
  BatchOptions,
  CallOptions,
  ClientConfig,
  MethodKind,
  Params,
} from './types.js';

export interface ClientOptions {
  /** Refuse every write (catalog kind `write` or unknown; batch commands one by one) with WriteRefusedError before sending. Dry-run's guard. @default false */
  readOnly?: boolean;
  /** OAuth only: sent as `auth_connector` with every write so the portal does not queue the engine's own changes back to it. @default undefined */
  authConnector?: string;
  /** pino logger; every record is redacted. @default silent */
  logger?: Logger;
  /** Called for each request, retry, wait, refresh and failure (metrics). @default undefined */
  onEvent?: (event: ClientEvent) => void;
  /** Time source for waits, budgets and token expiry. @default the system clock */
  clock?: Clock;
  /** Random source in [0, 1) for backoff jitter. @default Math.random */
  random?: () => number;
  /** Time to wait for response headers (ms). @default 60000 */
  headersTimeoutMs?: number;
  /** Time allowed between body chunks (ms). @default 60000 */
  bodyTimeoutMs?: number;
  /** Idle keep-alive socket lifetime (ms). @default 4000 */
  keepAliveTimeoutMs?: number;
  /** Sockets per portal. @default 8 */
  connections?: number;
  /** Retries after the first attempt. @default 6 */
  retries?: number;
  /** First backoff step (ms); doubles per retry, with jitter. @default 500 */
  backoffBaseMs?: number;
  /** Longest backoff step (ms). @default 30000 */
  backoffMaxMs?: number;
  /**
   * Client-side leaky bucket; false disables it; pass a LeakyBucket to share one between several clients of the same portal.
   * @default plan standard {burst: 50, drainPerSecond: 2}, enterprise {250, 5}
   */
  rateLimit?: { burst?: number; drainPerSecond?: number } | LeakyBucket | false;
  /** Per-method execution budget. @default {budgetSeconds: 480, slowdownAt: 0.8, fallbackWaitMs: 60000} */
  operating?: { budgetSeconds?: number; slowdownAt?: number; fallbackWaitMs?: number };
  /** Refresh OAuth tokens this long before their known expiry (ms). @default 60000 */
  refreshSkewMs?: number;
  /** Which writes may be re-sent when their outcome is unknown. @default isIdempotentCall */
  isIdempotent?: (method: string, params: Params) => boolean;
  /** @default 'b24-rules' */
  userAgent?: string;
  /** An undici dispatcher to use instead of the client's own keep-alive Agent (not closed by close()). @default undefined */
  dispatcher?: Dispatcher;
}

/** Defaults of ClientOptions. */
export const DEFAULTS = {
  readOnly: false,
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 60_000,
  keepAliveTimeoutMs: 4_000,
  connections: 8,
  retries: 6,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
  rateLimit: {
    standard: { burst: 50, drainPerSecond: 2 },
    enterprise: { burst: 250, drainPerSecond: 5 },
  },
  operating: { budgetSeconds: 480, slowdownAt: 0.8, fallbackWaitMs: 60_000 },
  refreshSkewMs: 60_000,
  userAgent: 'b24-rules',
  /** Attempts at the OAuth token server. */
  refreshAttempts: 3,
} as const;

const METHOD_NAME = /^[A-Za-z][\w.]*$/;
const RAW_BATCH_KEYS = new Set(['cmd', 'halt', 'CMD', 'HALT']);

function retryable(err: unknown): boolean {
  if (err instanceof RateLimitError) return err.code !== 'OVERLOAD_LIMIT';
  if (err instanceof NetworkError) return true;
  if (err instanceof AuthError) return false;
  if (err instanceof B24ApiError) return err.code === 'B24_SERVER_ERROR' || err.code === 'B24_BAD_RESPONSE';
  return false;
}

interface SendMeta {
  idempotent: boolean;
  /** Methods whose execution budget this request spends (a batch: its commands' methods). */
  budgetMethods: string[];
  /** The calling operation's own listener (CallOptions.onEvent). */
  onEvent?: Sink;
}

type Sink = ((event: ClientEvent) => void) | undefined;

/** The REST client. Create with createClient(). */
export class B24Client implements B24ClientApi {
  readonly #config: ClientConfig;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #bucket?: LeakyBucket;
  /**
   * At most `connections` requests in flight. The bucket slot is reserved only
   * once a request holds one of them: reserving first and then queueing for a
   * socket let well-spaced requests leave together and trip the portal's bucket.
   */
  readonly #inFlight: Semaphore;
  readonly #budget: OperatingBudget;
  readonly #tokens?: TokenManager;
  readonly #stats: ClientStats = emptyStats();
  readonly #o: Required<Pick<ClientOptions, 'headersTimeoutMs' | 'bodyTimeoutMs' | 'retries' | 'backoffBaseMs' | 'backoffMaxMs' | 'userAgent' | 'readOnly'>> &
    Pick<ClientOptions, 'authConnector' | 'onEvent'> & { isIdempotent: (method: string, params: Params) => boolean };
  readonly #base: URL;

  constructor(config: ClientConfig, options: ClientOptions = {}) {
    this.#config = config;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#random = options.random ?? Math.random;
    this.#o = {
      headersTimeoutMs: options.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs,
      bodyTimeoutMs: options.bodyTimeoutMs ?? DEFAULTS.bodyTimeoutMs,
      retries: options.retries ?? DEFAULTS.retries,
      backoffBaseMs: options.backoffBaseMs ?? DEFAULTS.backoffBaseMs,
      backoffMaxMs: options.backoffMaxMs ?? DEFAULTS.backoffMaxMs,
      userAgent: options.userAgent ?? DEFAULTS.userAgent,
      readOnly: options.readOnly ?? DEFAULTS.readOnly,
      authConnector: options.authConnector,
      onEvent: options.onEvent,
      isIdempotent: options.isIdempotent ?? isIdempotentCall,
    };
    try {
      this.#base = new URL(config.baseUrl.endsWith('/') ? config.baseUrl : `${config.baseUrl}/`);
    } catch (err) {
      throw new B24RulesError('CONFIG_INVALID', `client baseUrl is not a URL: '${config.baseUrl}'`, { kind: 'user', cause: err });
    }
    if (options.dispatcher) {
      this.#dispatcher = options.dispatcher;
      this.#ownsDispatcher = false;
    } else {
      this.#dispatcher = createAgent({
        headersTimeoutMs: this.#o.headersTimeoutMs,
        bodyTimeoutMs: this.#o.bodyTimeoutMs,
        keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? DEFAULTS.keepAliveTimeoutMs,
        connections: options.connections ?? DEFAULTS.connections,
      });
      this.#ownsDispatcher = true;
    }
    this.#inFlight = new Semaphore(options.connections ?? DEFAULTS.connections);
    if (options.rateLimit instanceof LeakyBucket) {
      this.#bucket = options.rateLimit;
    } else if (options.rateLimit !== false) {
      const plan = DEFAULTS.rateLimit[config.plan] ?? DEFAULTS.rateLimit.standard;
      this.#bucket = new LeakyBucket(
        { burst: options.rateLimit?.burst ?? plan.burst, drainPerSecond: options.rateLimit?.drainPerSecond ?? plan.drainPerSecond },
        this.#clock,
      );
    }
    this.#budget = new OperatingBudget({ ...DEFAULTS.operating, ...stripUndefined(options.operating ?? {}) }, this.#clock);
    if (config.auth.mode === 'webhook') {
      registerSecret(config.auth.code);
    } else {
      this.#tokens = new TokenManager({
        auth: config.auth,
        portal: config.baseUrl,
        clock: this.#clock,
        dispatcher: this.#dispatcher,
        timeouts: { headersTimeoutMs: this.#o.headersTimeoutMs, bodyTimeoutMs: this.#o.bodyTimeoutMs },
        logger: this.#logger,
        refreshSkewMs: options.refreshSkewMs ?? DEFAULTS.refreshSkewMs,
        attempts: DEFAULTS.refreshAttempts,
        onRefresh: () => {
          this.#stats.refreshes++;
          this.#emit({ type: 'refresh' });
        },
      });
    }
  }

  /** A snapshot of the counters. */
  get stats(): ClientStats {
    return { ...this.#stats };
  }

  /** The portal's base URL (ClientConfig.baseUrl). */
  get portal(): string {
    return this.#config.baseUrl;
  }

  /** `webhook` or `oauth` (offline events and event.bind need `oauth`). */
  get authMode(): 'webhook' | 'oauth' {
    return this.#config.auth.mode;
  }

  /** Whether the client refuses writes. */
  get readOnly(): boolean {
    return this.#o.readOnly;
  }

  /** Close the keep-alive sockets (only those of the client's own Agent). */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  async call<T = unknown>(method: string, params: Params = {}, options: CallOptions = {}): Promise<B24Envelope<T>> {
    this.#checkMethod(method);
    if (method.trim().toLowerCase() === 'batch' && params.cmd !== undefined) return this.#rawBatchCall(params, options.onEvent) as Promise<B24Envelope<T>>;
    const kind = callKind(method, params);
    if (this.#o.readOnly && kind === 'write') throw new WriteRefusedError(method);
    const sendParams = this.#withConnector(method, kind, params);
    return this.#send(method, sendParams, { idempotent: this.#o.isIdempotent(method, params), budgetMethods: [method], onEvent: options.onEvent }) as Promise<B24Envelope<T>>;
  }

  async batch(commands: Record<string, BatchCommand> | BatchCommand[], options: BatchOptions = {}): Promise<Record<string, BatchItemResult>> {
    const halt = options.halt ?? false;
    const list = normalizeCommands(commands);
    const seen = new Set<string>();
    for (const c of list) {
      if (seen.has(c.key)) throw new B24RulesError('BATCH_INVALID', `batch command key '${c.key}' appears twice`, { kind: 'user' });
      seen.add(c.key);
      this.#checkMethod(c.method);
      if (c.method.toLowerCase() === 'batch') throw new B24RulesError('BATCH_INVALID', `batch command '${c.key}' is itself a batch; the portal forbids nesting`, { kind: 'user' });
      if (this.#o.readOnly && callKind(c.method, c.params) === 'write') throw new WriteRefusedError(c.method, c.key);
    }
    const results: Record<string, BatchItemResult> = {};
    const succeeded = new Map<string, unknown>();
    let halted = false;
    for (const group of chunk(list, MAX_BATCH)) {
      const inGroup = new Set(group.map((c) => c.key));
      const toSend: KeyedCommand[] = [];
      for (const c of group) {
        if (halted) {
          results[c.key] = notRun(c.key, 'BATCH_HALTED', 'not run: an earlier command failed and halt was set');
          continue;
        }
        const earlier = [...referencedKeys(c.params)].filter((k) => !inGroup.has(k) && seen.has(k));
        if (earlier.length === 0) {
          toSend.push(c);
          continue;
        }
        const known = new Map([...succeeded].filter(([k]) => earlier.includes(k)));
        const failedRef = earlier.find((k) => !known.has(k));
        const resolved = resolveReferences(c.params, known);
        if (failedRef !== undefined || resolved.unresolved !== undefined) {
          results[c.key] = notRun(c.key, 'BATCH_REFERENCE_FAILED', `not run: it references ${failedRef !== undefined ? `command '${failedRef}', which failed or did not run` : `${resolved.unresolved}, which is not in that command's result`}`);
          if (halt) halted = true;
          continue;
        }
        toSend.push({ ...c, params: resolved.params });
      }
      if (toSend.length === 0) continue;
      const cmd: Record<string, string> = {};
      for (const c of toSend) cmd[c.key] = encodeCommand(c.method, this.#withConnector(c.method, callKind(c.method, c.params), c.params));
      let chunkResults: Record<string, BatchItemResult>;
      try {
        chunkResults = await this.#sendBatch(cmd, toSend, halt, options.onEvent);
      } catch (err) {
        if (err instanceof OutcomeUnknownError) {
          throw new OutcomeUnknownError('batch', { halt: halt ? 1 : 0, cmd }, {
            cause: err.cause,
            completed: { ...results },
            commands: toSend.map(({ key, method, params }) => ({ key, method, params })),
          });
        }
        throw err;
      }
      for (const c of toSend) {
        const r = chunkResults[c.key] as BatchItemResult;
        results[c.key] = r;
        if (r.ok) succeeded.set(c.key, r.result);
        else if (halt) halted = true;
      }
    }
    const ordered: Record<string, BatchItemResult> = {};
    for (const c of list) ordered[c.key] = results[c.key] as BatchItemResult;
    return ordered;
  }

  listAll<T = Record<string, unknown>>(method: string, options: ListAllOptions = {}): AsyncIterable<T> {
    return listAllImpl<T>(this.#listContext(options.onEvent), method, options);
  }

  /** Like listAll, but chains up to 50 pages per `batch` request (about 2,500 rows a request). */
  listAllBatched<T = Record<string, unknown>>(method: string, options: ListAllBatchedOptions = {}): AsyncIterable<T> {
    return listAllBatchedImpl<T>(this.#listContext(options.onEvent), method, options);
  }

  /** `start`/`next` offset paging, for methods that cannot be ordered and filtered by ID. */
  listPaged<T = Record<string, unknown>>(method: string, options: ListPagedOptions = {}): AsyncIterable<T> {
    return listPagedImpl<T>(this.#listContext(options.onEvent), method, options);
  }

  #listContext(onEvent: Sink): ListContext {
    return {
      call: (method, params) => this.call(method, params, { onEvent }),
      rawBatch: async (cmd, methods) => {
        for (const m of methods) if (this.#o.readOnly && methodKind(m) === 'write') throw new WriteRefusedError(m);
        const keyed = Object.keys(cmd).map((key) => ({ key, method: methods[0] as string, params: {} }));
        return this.#sendBatch(cmd, keyed, false, onEvent);
      },
    };
  }

  async #sendBatch(cmd: Record<string, string>, commands: KeyedCommand[], halt: boolean, onEvent: Sink): Promise<Record<string, BatchItemResult>> {
    const methods = [...new Set(commands.map((c) => c.method))];
    const idempotent = commands.every((c) => this.#o.isIdempotent(c.method, c.params));
    const env = await this.#send('batch', { halt: halt ? 1 : 0, cmd }, { idempotent, budgetMethods: methods, onEvent });
    this.#stats.batches++;
    this.#stats.commands += commands.length;
    this.#emit({ type: 'batch', commands: commands.length }, onEvent);
    for (const c of commands) this.#budget.observe(c.method, commandTime(env.result, c.key) as Partial<B24Time> | undefined);
    const results = readBatchResult(env.result, commands.map((c) => c.key), halt);
    for (const c of commands) {
      // A command refused for its method's budget: hold the method, so the caller's next attempt waits for the reset.
      if (results[c.key]?.error?.error === 'OPERATION_TIME_LIMIT') {
        this.#stats.operatingLimitRefusals++;
        this.#budget.block(c.method);
      }
    }
    return results;
  }

  /** `call('batch', {cmd, halt})` with command strings as the portal takes them: guarded and passed through. */
  async #rawBatchCall(params: Params, onEvent: Sink): Promise<B24Envelope> {
    const cmd = params.cmd ?? params.CMD;
    if (!cmd || typeof cmd !== 'object') {
      throw new B24RulesError('BATCH_INVALID', "batch params need 'cmd': an object (or array) of 'method?query' strings", { kind: 'user' });
    }
    for (const k of Object.keys(params)) {
      if (!RAW_BATCH_KEYS.has(k) && k !== 'auth_connector') {
        throw new B24RulesError('BATCH_INVALID', `batch takes only 'cmd' and 'halt'; got '${k}'`, { kind: 'user' });
      }
    }
    const entries = Object.entries(cmd as Record<string, unknown>);
    const out: Record<string, string> = {};
    const methods: string[] = [];
    let idempotent = true;
    for (const [key, value] of entries) {
      if (typeof value !== 'string') throw new B24RulesError('BATCH_INVALID', `batch cmd '${key}' must be a 'method?query' string`, { kind: 'user' });
      const m = commandMethod(value);
      this.#checkMethod(m);
      const query = Object.fromEntries(new URLSearchParams(value.slice(m.length + 1)));
      const kind = callKind(m, query);
      if (this.#o.readOnly && kind === 'write') throw new WriteRefusedError(m, key);
      if (!this.#o.isIdempotent(m, query)) idempotent = false;
      methods.push(m);
      out[key] =
        kind === 'write' && this.#connectorApplies(m) && !/[?&]auth_connector=/.test(value)
          ? `${value}${value.includes('?') ? '&' : '?'}auth_connector=${encodeURIComponent(this.#o.authConnector as string)}`
          : value;
    }
    const sendCmd = Array.isArray(cmd) ? Object.values(out) : out;
    const env = await this.#send('batch', { halt: params.halt ?? params.HALT ?? 0, cmd: sendCmd }, { idempotent, budgetMethods: [...new Set(methods)], onEvent });
    this.#stats.batches++;
    this.#stats.commands += entries.length;
    this.#emit({ type: 'batch', commands: entries.length }, onEvent);
    return env;
  }

  /**
   * Record creations (`*.add`) are sent without the connector on purpose: a lead
   * the engine creates from a form must reach the other rules (routing, scoring)
   * as ONCRMLEADADD, like one a person created. Updates carry it, so a rule that
   * updates the record that triggered it never hears about its own write.
   */
  #connectorApplies(method: string): boolean {
    return this.#o.authConnector !== undefined && this.#config.auth.mode === 'oauth' && !isCreateMethod(method);
  }

  #withConnector(method: string, kind: MethodKind, params: Params): Params {
    if (kind !== 'write' || !this.#connectorApplies(method) || params.auth_connector !== undefined) return params;
    return { ...params, auth_connector: this.#o.authConnector };
  }

  #checkMethod(method: string): void {
    if (typeof method !== 'string' || !METHOD_NAME.test(method.trim())) {
      throw new B24RulesError('INVALID_METHOD', `'${String(method)}' is not a REST method name (letters, digits, '_' and '.', e.g. crm.lead.get)`, { kind: 'user' });
    }
  }

  /** To the client's listener, then to the calling operation's own (CallOptions.onEvent). */
  #emit(event: ClientEvent, onEvent?: Sink): void {
    for (const listener of [this.#o.onEvent, onEvent]) {
      if (!listener) continue;
      try {
        listener(event);
      } catch (err) {
        this.#logger.warn({ error: errorText(err) }, 'client onEvent callback threw');
      }
    }
  }

  async #send(method: string, params: Params, meta: SendMeta): Promise<B24Envelope> {
    try {
      return await pRetry(() => this.#attempt(method, params, meta), {
        retries: this.#o.retries,
        minTimeout: 0,
        maxTimeout: 0,
        factor: 1,
        shouldRetry: ({ error }) => retryable(error),
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft <= 0 || !retryable(error)) return;
          const delayMs = this.#backoff(error, attemptNumber);
          const code = error instanceof B24RulesError ? error.code : 'UNEXPECTED';
          this.#stats.retries++;
          this.#emit({ type: 'retry', method, attempt: attemptNumber, delayMs, code }, meta.onEvent);
          this.#logger.warn({ method, attempt: attemptNumber, delayMs, code, error: errorText(error) }, 'REST call failed; retrying');
          await this.#clock.sleep(delayMs);
        },
      });
    } catch (err) {
      const code = err instanceof B24RulesError ? err.code : 'UNEXPECTED';
      if (err instanceof OutcomeUnknownError) this.#stats.outcomeUnknown++;
      this.#stats.errors++;
      this.#emit({ type: 'error', method, code }, meta.onEvent);
      throw err;
    }
  }

  #backoff(error: unknown, attempt: number): number {
    // The budget and the bucket already make the next attempt wait; only spread the herd a little.
    if (error instanceof RateLimitError) return Math.floor(this.#random() * this.#o.backoffBaseMs);
    const step = Math.min(this.#o.backoffMaxMs, this.#o.backoffBaseMs * 2 ** (attempt - 1));
    return Math.floor(step / 2 + (this.#random() * step) / 2);
  }

  async #attempt(method: string, params: Params, meta: SendMeta): Promise<B24Envelope> {
    const budgetWait = Math.max(0, ...meta.budgetMethods.map((m) => this.#budget.waitMs(m)));
    if (budgetWait > 0) {
      this.#stats.operatingWaits++;
      this.#stats.operatingWaitMs += budgetWait;
      this.#emit({ type: 'operating-wait', method, ms: budgetWait }, meta.onEvent);
      this.#logger.debug({ method, ms: budgetWait }, 'holding the method for its execution budget');
      await this.#clock.sleep(budgetWait);
    }
    for (let authTry = 0; ; authTry++) {
      const token = this.#tokens ? await this.#tokens.accessToken() : undefined;
      const release = await this.#inFlight.acquire();
      let started = this.#clock.now();
      let res: HttpResponse;
      try {
        const wait = this.#bucket?.reserve() ?? 0;
        if (wait > 0) {
          this.#stats.rateLimitWaits++;
          this.#stats.rateLimitWaitMs += wait;
          this.#emit({ type: 'rate-limit-wait', method, ms: wait }, meta.onEvent);
          await this.#clock.sleep(wait);
          started = this.#clock.now();
        }
        res = await send(this.#dispatcher, this.#request(method, params, token), this.#o);
      } catch (err) {
        const te = err instanceof TransportError ? err : new TransportError('UNKNOWN', true, false, { cause: err });
        const net = new NetworkError(method, te.errno, te.sent, { cause: err, timeout: te.timeout });
        if (te.sent && !meta.idempotent) throw new OutcomeUnknownError(method, params, { cause: net });
        throw net;
      } finally {
        release();
      }
      this.#stats.requests++;
      const ms = this.#clock.now() - started;
      this.#emit({ type: 'request', method, status: res.status, ms }, meta.onEvent);
      this.#logger.debug({ method, status: res.status, ms }, 'REST call');
      const parsed = parseBody(res.body);
      if (parsed && 'result' in parsed && !('error' in parsed && parsed.error) && res.status < 400) {
        const env = parsed as unknown as B24Envelope;
        this.#budget.observe(method, env.time);
        return env;
      }
      const error = parsed && typeof parsed.error === 'string' ? parsed.error : parsed && parsed.error ? JSON.stringify(parsed.error) : '';
      const description = parsed && typeof parsed.error_description === 'string' ? parsed.error_description : '';
      if (this.#tokens && token !== undefined && authTry === 0 && (error === 'expired_token' || error === 'invalid_token')) {
        await this.#tokens.refresh(token);
        continue;
      }
      if (res.status >= 300 && res.status < 400) {
        // Never follow: a redirect would turn the POST into a GET, and the new address belongs in the configuration.
        let where = 'another address';
        try {
          if (res.location) where = new URL(res.location, this.#base).origin;
        } catch {
          /* keep the generic text */
        }
        throw new B24ApiError('B24_PORTAL_MOVED', { method, status: res.status, error: `HTTP_${res.status}`, errorDescription: `the portal answers with a redirect to ${where}; set B24_DOMAIN (or B24_WEBHOOK_URL) to the new address`, kind: 'user' });
      }
      throw this.#toError(method, params, meta, res.status, error, description, parsed === undefined);
    }
  }

  #request(method: string, params: Params, token: string | undefined): { url: URL; method: 'POST'; headers: Record<string, string>; body: string } {
    const auth = this.#config.auth;
    const path = auth.mode === 'webhook' ? `rest/${auth.userId}/${auth.code}/${method}.json` : `rest/${method}.json`;
    const url = new URL(path, this.#base);
    const body = JSON.stringify(token === undefined ? params : { ...params, auth: token });
    return {
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'user-agent': this.#o.userAgent },
      body,
    };
  }

  #toError(method: string, params: Params, meta: SendMeta, status: number, error: string, description: string, unreadable: boolean): B24RulesError {
    const details = { method, status, error, errorDescription: description };
    switch (error) {
      case 'QUERY_LIMIT_EXCEEDED':
        this.#stats.queryLimitRefusals++;
        this.#bucket?.saturate();
        return new RateLimitError('RATE_LIMITED', details);
      case 'OPERATION_TIME_LIMIT': {
        this.#stats.operatingLimitRefusals++;
        const until = Math.max(...meta.budgetMethods.map((m) => this.#budget.block(m)));
        return new RateLimitError('OPERATION_TIME_LIMIT', { ...details, resetAt: until });
      }
      case 'OVERLOAD_LIMIT':
        return new RateLimitError('OVERLOAD_LIMIT', details);
      case 'insufficient_scope':
        return new AuthError('AUTH_INSUFFICIENT_SCOPE', details);
      case 'WRONG_AUTH_TYPE':
        return new AuthError('AUTH_WRONG_TYPE', details);
      case 'expired_token':
      case 'invalid_token':
      case 'NO_AUTH_FOUND':
      case 'INVALID_CREDENTIALS':
      case 'user_access_error':
        return new AuthError('AUTH_FAILED', details);
      case 'ERROR_METHOD_NOT_FOUND':
        return new B24ApiError('B24_METHOD_NOT_FOUND', { ...details, kind: 'user' });
      default:
        break;
    }
    if (status === 429) {
      this.#stats.operatingLimitRefusals++;
      const until = Math.max(...meta.budgetMethods.map((m) => this.#budget.block(m)));
      return new RateLimitError('OPERATION_TIME_LIMIT', { ...details, error: error || 'HTTP_429', resetAt: until });
    }
    if (status === 401) return new AuthError('AUTH_FAILED', { ...details, error: error || 'HTTP_401' });
    if (status >= 500 || (unreadable && status < 400)) {
      const apiErr = new B24ApiError(status >= 500 ? 'B24_SERVER_ERROR' : 'B24_BAD_RESPONSE', {
        ...details,
        error: error || `HTTP_${status}`,
        errorDescription: description || (unreadable ? 'the answer is not a JSON envelope' : ''),
        kind: 'operational',
      });
      // The portal may have carried the call out before failing to answer.
      if (!meta.idempotent) return new OutcomeUnknownError(method, params, { cause: apiErr });
      return apiErr;
    }
    return new B24ApiError('B24_API_ERROR', { ...details, error: error || (unreadable ? `HTTP_${status}` : ''), kind: 'user' });
  }
}

function parseBody(body: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(body) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Create a client for one portal. */
export function createClient(config: ClientConfig, options: ClientOptions = {}): B24Client {
  return new B24Client(config, options);
}
