/**
 * The send path: one REST request to the portal, with its waits, auth and
 * retries. An attempt waits for the methods' execution budget, takes one of
 * the `connections` request slots, then a slot of the client-side leaky
 * bucket, gets a fresh OAuth token (webhooks need none), POSTs the params as
 * JSON and reads the answer (answer-errors.ts). `expired_token`/`invalid_token`
 * trigger one single-flight refresh and a re-send. Failed attempts are retried
 * by retry.ts. A request written to the socket that then got no answer is
 * OutcomeUnknownError for a call that is not idempotent, so the effect ledger
 * can look for the record by its ORIGIN_ID before sending again.
 */
import type { Dispatcher } from 'undici';
import type { Clock } from '../clock.js';
import { B24RulesError } from '../errors.js';
import type { Logger } from '../logger.js';
import { registerSecret } from '../redact.js';
import { answerError, isExpiredToken, readAnswer, type PortalLimits } from './answer-errors.js';
import { errorText, LeaseLostError, NetworkError, OutcomeUnknownError, UntrustedCertificateError } from './errors.js';
import { LeakyBucket } from './leaky-bucket.js';
import { TokenManager } from './oauth.js';
import { OperatingBudget } from './operating-budget.js';
import { DEFAULTS, type ClientOptions } from './options.js';
import { withRetries, type RetryPolicy } from './retry.js';
import { Semaphore } from './semaphore.js';
import type { EventListener, Telemetry } from './stats.js';
import { createAgent, isUntrustedCertificate, send, TransportError, type HttpResponse } from './transport.js';
import type { B24Envelope, ClientConfig, Params } from './types.js';
import { V3_PREFIX } from './v3.js';

/** What the send path needs to know about one request beyond method and params. */
export interface SendMeta {
  /** Whether the request may be re-sent when its outcome is unknown. */
  idempotent: boolean;
  /** Methods whose execution budget this request spends (a batch: its commands' methods). */
  budgetMethods: string[];
  /** The calling operation's own listener (CallOptions.onEvent). */
  onEvent?: EventListener | undefined;
  /** REST 3.0 (`/rest/api/`, v3.ts) instead of REST 1. */
  v3?: {
    /** Sent as the `Idempotency-Key` header. */
    idempotencyKey?: string | undefined;
    /** The JSON body instead of `params` (a REST 3.0 batch's array; OAuth cannot put its token in it). */
    body?: unknown[];
  };
}

/** Sends the requests of one client to one portal; owns its sockets, limiters and tokens. */
export class Sender {
  readonly #config: ClientConfig;
  readonly #base: URL;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #telemetry: Telemetry;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #bucket?: LeakyBucket;
  /**
   * At most `connections` requests in flight. The bucket slot is reserved only
   * once a request holds one of them: reserving first and then queueing for a
   * socket let well-spaced requests leave together and trip the portal's bucket.
   */
  readonly #inFlight: Semaphore;
  /** The per-method execution budget (the client also feeds it from batch answers). */
  readonly budget: OperatingBudget;
  readonly #tokens?: TokenManager;
  readonly #timeouts: { headersTimeoutMs: number; bodyTimeoutMs: number };
  readonly #userAgent: string;
  readonly #retry: RetryPolicy;
  readonly #canSend: () => boolean;
  readonly #signal: AbortSignal | undefined;

  constructor(config: ClientConfig, options: ClientOptions, deps: { clock: Clock; logger: Logger; telemetry: Telemetry }) {
    this.#config = config;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#telemetry = deps.telemetry;
    this.#timeouts = {
      headersTimeoutMs: options.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs,
      bodyTimeoutMs: options.bodyTimeoutMs ?? DEFAULTS.bodyTimeoutMs,
    };
    this.#userAgent = options.userAgent ?? DEFAULTS.userAgent;
    this.#canSend = options.canSend ?? (() => true);
    this.#signal = options.signal;
    this.#retry = {
      retries: options.retries ?? DEFAULTS.retries,
      backoffBaseMs: options.backoffBaseMs ?? DEFAULTS.backoffBaseMs,
      backoffMaxMs: options.backoffMaxMs ?? DEFAULTS.backoffMaxMs,
      random: options.random ?? Math.random,
      clock: this.#clock,
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
        ...this.#timeouts,
        keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? DEFAULTS.keepAliveTimeoutMs,
        connections: options.connections ?? DEFAULTS.connections,
        ...(config.tls ? { extraCa: config.tls.ca } : {}),
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
    this.budget = new OperatingBudget({ ...DEFAULTS.operating, ...stripUndefined(options.operating ?? {}) }, this.#clock);
    if (config.auth.mode === 'webhook') {
      registerSecret(config.auth.code);
    } else {
      this.#tokens = new TokenManager({
        auth: config.auth,
        portal: config.baseUrl,
        clock: this.#clock,
        dispatcher: this.#dispatcher,
        timeouts: this.#timeouts,
        caFile: config.tls?.caFile,
        logger: this.#logger,
        refreshSkewMs: options.refreshSkewMs ?? DEFAULTS.refreshSkewMs,
        refreshSkewShare: options.refreshSkewShare ?? DEFAULTS.refreshSkewShare,
        minTokenAgeMs: options.minTokenAgeMs ?? DEFAULTS.minTokenAgeMs,
        attempts: DEFAULTS.refreshAttempts,
        canSend: this.#canSend,
        userAgent: this.#userAgent,
        onRefresh: () => {
          this.#telemetry.stats.refreshes++;
          this.#telemetry.emit({ type: 'refresh' });
        },
      });
    }
  }

  /** Close the keep-alive sockets (only those of the sender's own Agent). */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  /** Send one request, retrying what retry.ts allows; the envelope, or the last attempt's typed error. */
  async send(method: string, params: Params, meta: SendMeta): Promise<B24Envelope> {
    const { stats } = this.#telemetry;
    try {
      return await withRetries(() => this.#attempt(method, params, meta), this.#retry, (error, attempt, delayMs) => {
        const code = (error as B24RulesError).code ?? 'UNKNOWN';
        stats.retries++;
        this.#telemetry.emit({ type: 'retry', method, attempt, delayMs, code }, meta.onEvent);
        this.#logger.warn({ method, attempt, delayMs, code, error: errorText(error) }, 'REST call failed; retrying');
      });
    } catch (err) {
      const code = err instanceof B24RulesError ? err.code : 'UNEXPECTED';
      if (err instanceof OutcomeUnknownError) stats.outcomeUnknown++;
      stats.errors++;
      this.#telemetry.emit({ type: 'error', method, code }, meta.onEvent);
      throw err;
    }
  }

  async #attempt(method: string, params: Params, meta: SendMeta): Promise<B24Envelope> {
    const { stats } = this.#telemetry;
    const budgetWait = Math.max(0, ...meta.budgetMethods.map((m) => this.budget.waitMs(m)));
    if (budgetWait > 0) {
      stats.operatingWaits++;
      stats.operatingWaitMs += budgetWait;
      this.#telemetry.emit({ type: 'operating-wait', method, ms: budgetWait }, meta.onEvent);
      this.#logger.debug({ method, ms: budgetWait }, 'holding the method for its execution budget');
      await this.#clock.sleep(budgetWait);
    }
    for (let authTry = 0; ; authTry++) {
      // Before the token too: a refresh rotates the portal's refresh token, which only the lease holder may do.
      this.#guard(method);
      const token = this.#tokens ? await this.#tokens.accessToken() : undefined;
      const release = await this.#inFlight.acquire();
      let started = this.#clock.now();
      let res: HttpResponse;
      try {
        const wait = this.#bucket?.reserve() ?? 0;
        if (wait > 0) {
          stats.rateLimitWaits++;
          stats.rateLimitWaitMs += wait;
          this.#telemetry.emit({ type: 'rate-limit-wait', method, ms: wait }, meta.onEvent);
          await this.#clock.sleep(wait);
          started = this.#clock.now();
        }
        // The waits above may have outlived the lease: ask again right before the request leaves.
        this.#guard(method);
        res = await send(this.#dispatcher, this.#request(method, params, token, meta.v3), this.#timeouts, this.#signal);
      } catch (err) {
        if (err instanceof LeaseLostError) throw err;
        const te = err instanceof TransportError ? err : new TransportError('UNKNOWN', true, false, { cause: err });
        if (isUntrustedCertificate(te.errno)) throw new UntrustedCertificateError(method, te.errno, { caFile: this.#config.tls?.caFile, cause: err });
        const net = new NetworkError(method, te.errno, te.sent, { cause: err, timeout: te.timeout });
        if (te.sent && !meta.idempotent) throw new OutcomeUnknownError(method, params, { cause: net });
        throw net;
      } finally {
        release();
      }
      stats.requests++;
      const ms = this.#clock.now() - started;
      this.#telemetry.emit({ type: 'request', method, status: res.status, ms }, meta.onEvent);
      this.#logger.debug({ method, status: res.status, ms }, 'REST call');
      const answer = readAnswer(res);
      if (answer.ok) {
        this.budget.observe(method, answer.envelope.time);
        return answer.envelope;
      }
      if (this.#tokens && token !== undefined && authTry === 0 && isExpiredToken(answer.error)) {
        await this.#tokens.refresh(token);
        continue;
      }
      throw answerError(res, answer, { method, params, idempotent: meta.idempotent, base: this.#base, limits: this.#limits(meta.budgetMethods) });
    }
  }

  /** Refuse to send once the caller's guard (a worker's lease on the portal) says no. */
  #guard(method: string): void {
    if (!this.#canSend()) throw new LeaseLostError(method);
  }

  /** The client's reactions to the portal's load refusals of a request that spent `methods`' budgets. */
  #limits(methods: string[]): PortalLimits {
    const { stats } = this.#telemetry;
    return {
      queryLimit: () => {
        stats.queryLimitRefusals++;
        this.#bucket?.saturate();
      },
      operatingLimit: () => {
        stats.operatingLimitRefusals++;
        return Math.max(...methods.map((m) => this.budget.block(m)));
      },
    };
  }

  #request(method: string, params: Params, token: string | undefined, v3: SendMeta['v3']): { url: URL; method: 'POST'; headers: Record<string, string>; body: string } {
    const auth = this.#config.auth;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': this.#userAgent };
    if (v3) {
      // REST 3.0: no `.json` suffix, JSON only (api-reference/rest-v3.md).
      const path = auth.mode === 'webhook' ? `${V3_PREFIX}${auth.userId}/${auth.code}/${method}` : `${V3_PREFIX}${method}`;
      if (v3.idempotencyKey !== undefined) headers['idempotency-key'] = v3.idempotencyKey;
      const body = v3.body ?? (token === undefined ? params : { ...params, auth: token });
      return { url: new URL(path, this.#base), method: 'POST', headers, body: JSON.stringify(body) };
    }
    const path = auth.mode === 'webhook' ? `rest/${auth.userId}/${auth.code}/${method}.json` : `rest/${method}.json`;
    return { url: new URL(path, this.#base), method: 'POST', headers, body: JSON.stringify(token === undefined ? params : { ...params, auth: token }) };
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
