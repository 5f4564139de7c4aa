/**
 * The Bitrix24 REST client: every call the engine, dry-run and the CLI send.
 *
 * B24Client checks what it is asked to send (a REST method name, the
 * read-only guard: methodKind/callKind in method-kind.ts), adds the engine's
 * `auth_connector` to writes, splits batches into requests of at most 50
 * commands (batch.ts, batch-request.ts), reads lists (lists.ts), and hands
 * each request to the send path (sender.ts: waits, auth, transport, retries
 * per retry.ts, answers to typed errors per answer-errors.ts). Whether a write
 * may be re-sent when its outcome is unknown is isIdempotentCall's call
 * (method-kind.ts); a batch counts as idempotent only when all its commands are.
 * Idempotent writes that need not leave at once may ride along (ride-along.ts):
 * they wait for the next batch request with spare slots and share it.
 * REST 3.0 (`/rest/api/`, v3.ts) has its own calls: callV3 and batchV3 as the
 * portal takes them (a REST 1 filter object becomes REST 3.0's array form,
 * v3-filter.ts), and callRoutedV3 for a REST 1 call v3-routes.ts sends
 * there (tasks.task.add with an Idempotency-Key).
 */
import { realTimers, systemClock } from '../clock.js';
import { B24RulesError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { chunk, chunkToSend, commandTime, MAX_BATCH, normalizeCommands, readBatchResult, recordChunk, startBatch, type KeyedCommand } from './batch.js';
import { commandWithConnector, encodeBatchCommands, readRawBatch, readRawCommand, withConnector } from './batch-request.js';
import { B24ApiError, LeaseLostError, NetworkError, OutcomeUnknownError, RateLimitError, WriteRefusedError } from './errors.js';
import {
  listAll as listAllImpl,
  listAllBatched as listAllBatchedImpl,
  listPaged as listPagedImpl,
  type ListAllBatchedOptions,
  type ListAllOptions,
  type ListContext,
  type ListPagedOptions,
} from './lists.js';
import { callKind, isIdempotentCall, methodKind } from './method-kind.js';
import { DEFAULTS, type ClientOptions } from './options.js';
import type { LearnedLimit } from './operating-budget.js';
import { RideAlongQueue } from './ride-along.js';
import { Sender } from './sender.js';
import { Telemetry, type ClientStats, type EventListener } from './stats.js';
import type { B24ClientApi, B24Envelope, B24Time, BatchCommand, BatchItemResult, BatchOptions, CallOptions, ClientConfig, Params, RideAlongOptions, V3CallOptions } from './types.js';
import { encodeV3Batch, idempotencyKey, readV3Batch, type V3BatchCall } from './v3.js';
import { v3Filter } from './v3-filter.js';
import { v3Route } from './v3-routes.js';

const METHOD_NAME = /^[A-Za-z][\w.]*$/;

/** The REST client. Create with createClient(). */
export class B24Client implements B24ClientApi {
  readonly #config: ClientConfig;
  readonly #telemetry: Telemetry;
  readonly #sender: Sender;
  readonly #readOnly: boolean;
  /** `auth_connector` for writes: OAuth only, undefined otherwise. */
  readonly #connector: string | undefined;
  readonly #isIdempotent: (method: string, params: Params) => boolean;
  readonly #rideAlong: RideAlongQueue;
  readonly #restV3: boolean;
  /** The calling user's ID, asked once (REST 3.0's tasks.task.add needs a creatorId). */
  #callingUser: Promise<number> | undefined;

  constructor(config: ClientConfig, options: ClientOptions = {}) {
    this.#config = config;
    this.#restV3 = config.restV3 ?? options.restV3 ?? false;
    const logger = options.logger ?? silentLogger;
    this.#telemetry = new Telemetry(options.onEvent, logger);
    this.#readOnly = options.readOnly ?? DEFAULTS.readOnly;
    this.#connector = config.auth.mode === 'oauth' ? options.authConnector : undefined;
    this.#isIdempotent = options.isIdempotent ?? isIdempotentCall;
    this.#sender = new Sender(config, options, { clock: options.clock ?? systemClock, logger, telemetry: this.#telemetry });
    this.#rideAlong = new RideAlongQueue({
      clock: options.clock ?? systemClock,
      timers: options.timers ?? realTimers,
      deadlineMs: options.rideAlongDeadlineMs ?? DEFAULTS.rideAlongDeadlineMs,
      sendAlone: (riders) => this.#sendAlone(riders),
    });
  }

  /** A snapshot of the counters. */
  get stats(): ClientStats {
    return { ...this.#telemetry.stats };
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
    return this.#readOnly;
  }

  /** The portal's `operating` limit as the client knows it now: learned from the answers, or the configured prior (operating-budget.ts). */
  get operatingLimit(): LearnedLimit {
    return this.#sender.budget.limit();
  }

  /** Close the keep-alive sockets (only those of the client's own Agent); ride-along commands still waiting fail with CLIENT_CLOSED, unsent. */
  async close(): Promise<void> {
    this.#rideAlong.close();
    await this.#sender.close();
  }

  /**
   * Send an idempotent command in the spare slots of the next batch request
   * (any caller's, halt=0), or alone once `deadlineMs` passed without one.
   * Resolves with the command's own result, whatever else shared its request;
   * rejects with that request's error. A command that is not idempotent, a
   * write of a read-only client, or a nested batch is refused at once.
   */
  rideAlong(command: BatchCommand, options: RideAlongOptions = {}): Promise<BatchItemResult> {
    const method = typeof command?.method === 'string' ? command.method.trim() : '';
    checkMethod(method);
    const params = command.params ?? {};
    if (method.toLowerCase() === 'batch') return Promise.reject(new B24RulesError('BATCH_INVALID', 'a batch cannot ride along in another batch; the portal forbids nesting', { kind: 'user' }));
    if (this.#readOnly && callKind(method, params) === 'write') return Promise.reject(new WriteRefusedError(method));
    if (!this.#isIdempotent(method, params)) {
      return Promise.reject(new B24RulesError('BATCH_INVALID', `${method} cannot ride along: it is not safe to send twice, and the batch it joins may be re-sent after a lost answer`, { kind: 'user' }));
    }
    return this.#rideAlong.add(method, params, options.deadlineMs);
  }

  /** Send the ride-along commands still waiting now, without waiting for a batch; resolves once they are answered. */
  flushRideAlong(): Promise<void> {
    return this.#rideAlong.flush();
  }

  async call<T = unknown>(method: string, params: Params = {}, options: CallOptions = {}): Promise<B24Envelope<T>> {
    checkMethod(method);
    if (method.trim().toLowerCase() === 'batch' && params.cmd !== undefined) return this.#rawBatchCall(params, options.onEvent) as Promise<B24Envelope<T>>;
    const kind = callKind(method, params);
    if (this.#readOnly && kind === 'write') throw new WriteRefusedError(method);
    const sendParams = withConnector(this.#connector, method, kind, params);
    return this.#sender.send(method, sendParams, { idempotent: this.#isIdempotent(method, params), budgetMethods: [method], onEvent: options.onEvent }) as Promise<B24Envelope<T>>;
  }

  async batch(commands: Record<string, BatchCommand> | BatchCommand[], options: BatchOptions = {}): Promise<Record<string, BatchItemResult>> {
    const halt = options.halt ?? false;
    const list = normalizeCommands(commands);
    const seen = new Set<string>();
    for (const c of list) {
      if (seen.has(c.key)) throw new B24RulesError('BATCH_INVALID', `batch command key '${c.key}' appears twice`, { kind: 'user' });
      seen.add(c.key);
      checkMethod(c.method);
      if (c.method.toLowerCase() === 'batch') throw new B24RulesError('BATCH_INVALID', `batch command '${c.key}' is itself a batch; the portal forbids nesting`, { kind: 'user' });
      if (this.#readOnly && callKind(c.method, c.params) === 'write') throw new WriteRefusedError(c.method, c.key);
    }
    const progress = startBatch();
    for (const group of chunk(list, MAX_BATCH)) {
      const toSend = chunkToSend(group, seen, halt, progress);
      if (toSend.length === 0) continue;
      const cmd = encodeBatchCommands(toSend, this.#connector);
      // Spare slots carry ride-along commands; a halting batch takes none (a failure before them would stop them).
      const riders = halt ? [] : this.#rideAlong.take(MAX_BATCH - toSend.length, seen);
      let chunkResults: Record<string, BatchItemResult>;
      try {
        chunkResults =
          riders.length === 0
            ? await this.#sendBatch(cmd, toSend, halt, options.onEvent)
            : await this.#sendBatch({ ...cmd, ...encodeBatchCommands(riders, this.#connector) }, [...toSend, ...riders], halt, options.onEvent);
      } catch (err) {
        for (const r of riders) r.fail(err);
        if (err instanceof OutcomeUnknownError) {
          throw new OutcomeUnknownError('batch', { halt: halt ? 1 : 0, cmd }, {
            cause: err.cause,
            completed: { ...progress.results },
            commands: toSend.map(({ key, method, params }) => ({ key, method, params })),
          });
        }
        throw withCompleted(err, progress.results);
      }
      this.#telemetry.stats.rideAlong += riders.length;
      for (const r of riders) r.settle(chunkResults[r.key]);
      recordChunk(toSend, chunkResults, halt, progress);
    }
    const ordered: Record<string, BatchItemResult> = {};
    for (const c of list) ordered[c.key] = progress.results[c.key] as BatchItemResult;
    return ordered;
  }

  /**
   * One REST 3.0 call (`/rest/api/{method}`, JSON body) as the portal takes it; `idempotencyKey` goes as the
   * `Idempotency-Key` header. A write whose answer was lost is not re-sent here even with a key (two sends with one
   * key that overlap may both run, rest-v3.md): OutcomeUnknownError, and the caller sends it again once the first
   * cannot be running any more.
   */
  async callV3<T = unknown>(method: string, params: Params = {}, options: V3CallOptions = {}): Promise<B24Envelope<T>> {
    checkMethod(method);
    if (method.trim().toLowerCase() === 'batch') throw new B24RulesError('BATCH_INVALID', 'a REST 3.0 batch goes through batchV3 (a JSON array of {method, query})', { kind: 'user' });
    if (this.#readOnly && callKind(method, params) === 'write') throw new WriteRefusedError(method);
    const key = options.idempotencyKey === undefined ? undefined : idempotencyKey(options.idempotencyKey);
    return this.#sender.send(method, withV3Filter(params), { idempotent: this.#isIdempotent(method, params), budgetMethods: [method], onEvent: options.onEvent, v3: { idempotencyKey: key } }) as Promise<B24Envelope<T>>;
  }

  /**
   * A REST 3.0 batch: the calls as a JSON array in one request, the outcome of each by index (key `0`, `1` ...).
   * At most 50 calls. Webhook auth only: the docs put an app's token in a JSON object body, and a batch's body
   * is an array.
   */
  async batchV3(calls: V3BatchCall[], options: CallOptions = {}): Promise<BatchItemResult[]> {
    if (this.#config.auth.mode === 'oauth') {
      throw new B24RulesError('BATCH_INVALID', "a REST 3.0 batch cannot carry an app's token (its body is a JSON array; the docs put `auth` in a JSON object): send the calls one by one with callV3, or use a webhook", { kind: 'user' });
    }
    if (calls.length > MAX_BATCH) throw new B24RulesError('BATCH_INVALID', `a REST 3.0 batch takes at most ${MAX_BATCH} calls; got ${calls.length}`, { kind: 'user' });
    for (const c of calls) {
      checkMethod(c.method);
      if (c.method.trim().toLowerCase() === 'batch') throw new B24RulesError('BATCH_INVALID', 'a REST 3.0 batch cannot hold a batch', { kind: 'user' });
      if (this.#readOnly && callKind(c.method, c.query ?? {}) === 'write') throw new WriteRefusedError(c.method);
    }
    const body = encodeV3Batch(calls.map((c) => ({ method: c.method, query: withV3Filter(c.query ?? {}) })));
    const idempotent = calls.every((c) => this.#isIdempotent(c.method, c.query ?? {}));
    const env = await this.#sender.send('batch', {}, { idempotent, budgetMethods: [...new Set(calls.map((c) => c.method))], onEvent: options.onEvent, v3: { body } });
    const { stats } = this.#telemetry;
    stats.batches++;
    stats.commands += calls.length;
    this.#telemetry.emit({ type: 'batch', commands: calls.length }, options.onEvent);
    return readV3Batch(env.result, calls.length);
  }

  routesV3(method: string, params: Params): boolean {
    return v3Route(method, params, this.#restV3) !== undefined;
  }

  async callRoutedV3(method: string, params: Params, key: string, options: CallOptions = {}): Promise<B24Envelope> {
    checkMethod(method);
    const route = v3Route(method, params, this.#restV3);
    if (!route) throw new B24RulesError('UNEXPECTED', `${method} with these params does not go through REST 3.0 (routesV3 says no)`, { kind: 'bug' });
    let sendParams = route.params;
    if (route.needsCreator) {
      const fields = (route.params.fields ?? {}) as Record<string, unknown>;
      sendParams = { ...route.params, fields: { ...fields, creatorId: await this.#userId() } };
    }
    const env = await this.callV3(route.method, sendParams, { idempotencyKey: key, onEvent: options.onEvent });
    return { ...env, result: route.result(env.result) };
  }

  /** The user the client calls as: the webhook's, or the token's (user.current, asked once). */
  #userId(): Promise<number> {
    const auth = this.#config.auth;
    if (auth.mode === 'webhook') return Promise.resolve(Number(auth.userId));
    this.#callingUser ??= this.call<{ ID?: unknown }>('user.current').then(
      (env) => {
        const id = Number(env.result?.ID);
        if (!Number.isSafeInteger(id) || id <= 0) throw new B24RulesError('B24_BAD_RESPONSE', `user.current answered no user ID (${JSON.stringify(env.result)})`, { kind: 'operational' });
        return id;
      },
      (err: unknown) => {
        this.#callingUser = undefined;
        throw err;
      },
    );
    return this.#callingUser;
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

  #listContext(onEvent: EventListener | undefined): ListContext {
    return {
      call: (method, params) => this.call(method, params, { onEvent }),
      rawBatch: async (cmd, methods) => {
        for (const m of methods) if (this.#readOnly && methodKind(m) === 'write') throw new WriteRefusedError(m);
        const keyed = Object.keys(cmd).map((key) => ({ key, method: methods[0] as string, params: {} }));
        return this.#sendBatch(cmd, keyed, false, onEvent);
      },
    };
  }


  /** Ride-along commands sent without a batch to join: one plain call for one, a batch request for several (at most MAX_BATCH). */
  async #sendAlone(riders: KeyedCommand[]): Promise<Record<string, BatchItemResult>> {
    const [only] = riders;
    if (riders.length === 1 && only) {
      try {
        const env = await this.call(only.method, only.params);
        return { [only.key]: { key: only.key, ok: true, result: env.result } };
      } catch (err) {
        // The portal refused the command itself: its answer, as a batch would carry it. Anything else fails the request.
        if (err instanceof B24ApiError && err.code === 'B24_API_ERROR') return { [only.key]: { key: only.key, ok: false, error: { error: err.error, error_description: err.errorDescription } } };
        throw err;
      }
    }
    return this.#sendBatch(encodeBatchCommands(riders, this.#connector), riders, false, undefined);
  }

  /** Send one batch request of already-encoded commands; per-key outcomes, each command's time fed to its method's budget. */
  async #sendBatch(cmd: Record<string, string>, commands: KeyedCommand[], halt: boolean, onEvent: EventListener | undefined): Promise<Record<string, BatchItemResult>> {
    const methods = [...new Set(commands.map((c) => c.method))];
    const idempotent = commands.every((c) => this.#isIdempotent(c.method, c.params));
    const env = await this.#sender.send('batch', { halt: halt ? 1 : 0, cmd }, { idempotent, budgetMethods: methods, onEvent });
    const { stats } = this.#telemetry;
    stats.batches++;
    stats.commands += commands.length;
    this.#telemetry.emit({ type: 'batch', commands: commands.length }, onEvent);
    const budget = this.#sender.budget;
    for (const c of commands) budget.observe(c.method, commandTime(env.result, c.key) as Partial<B24Time> | undefined);
    const results = readBatchResult(env.result, commands.map((c) => c.key), halt);
    for (const c of commands) {
      // A command refused for its method's budget: hold the method, so the caller's next attempt waits for the reset.
      if (results[c.key]?.error?.error === 'OPERATION_TIME_LIMIT') {
        stats.operatingLimitRefusals++;
        budget.block(c.method);
      }
    }
    return results;
  }

  /** `call('batch', {cmd, halt})` with command strings as the portal takes them: guarded and passed through. */
  async #rawBatchCall(params: Params, onEvent: EventListener | undefined): Promise<B24Envelope> {
    const raw = readRawBatch(params);
    const out: Record<string, string> = {};
    const methods: string[] = [];
    let idempotent = true;
    for (const [key, value] of raw.entries) {
      const { command, method, query } = readRawCommand(key, value);
      checkMethod(method);
      const kind = callKind(method, query);
      if (this.#readOnly && kind === 'write') throw new WriteRefusedError(method, key);
      if (!this.#isIdempotent(method, query)) idempotent = false;
      methods.push(method);
      out[key] = commandWithConnector(this.#connector, method, kind, command);
    }
    const sendCmd = raw.isArray ? Object.values(out) : out;
    const env = await this.#sender.send('batch', { halt: raw.halt, cmd: sendCmd }, { idempotent, budgetMethods: [...new Set(methods)], onEvent });
    const { stats } = this.#telemetry;
    stats.batches++;
    stats.commands += raw.entries.length;
    this.#telemetry.emit({ type: 'batch', commands: raw.entries.length }, onEvent);
    return env;
  }
}

/**
 * A refusal of a later request of batch() carries the results of the earlier
 * ones (`completed`), so provedNotRun() does not take it for proof that none
 * of the call ran.
 */
function withCompleted(err: unknown, completed: Record<string, BatchItemResult>): unknown {
  if (Object.keys(completed).length === 0) return err;
  if (err instanceof RateLimitError) {
    return new RateLimitError(err.code as 'RATE_LIMITED' | 'OPERATION_TIME_LIMIT' | 'OVERLOAD_LIMIT', {
      method: err.method,
      status: err.status,
      error: err.error,
      errorDescription: err.errorDescription,
      resetAt: err.resetAt,
      completed: { ...completed },
      cause: err,
    });
  }
  if (err instanceof LeaseLostError) return new LeaseLostError(err.method, { completed: { ...completed }, cause: err });
  if (err instanceof NetworkError) return new NetworkError(err.method, err.errno, err.sent, { timeout: err.code === 'NETWORK_TIMEOUT', completed: { ...completed }, cause: err });
  return err;
}

/** REST 3.0 params with `filter` in its array form (a REST 1 filter object is turned into it; v3-filter.ts). */
function withV3Filter(params: Params): Params {
  return params.filter === undefined ? params : { ...params, filter: v3Filter(params.filter) };
}

function checkMethod(method: string): void {
  if (typeof method !== 'string' || !METHOD_NAME.test(method.trim())) {
    throw new B24RulesError('INVALID_METHOD', `'${String(method)}' is not a REST method name (letters, digits, '_' and '.', e.g. crm.lead.get)`, { kind: 'user' });
  }
}

/** Create a client for one portal. */
export function createClient(config: ClientConfig, options: ClientOptions = {}): B24Client {
  return new B24Client(config, options);
}
