/**
 * The public surface of the Bitrix24 REST client (engine/client/). Everything
 * the engine, the CLI and dry-run send goes through an object of this shape.
 */
import type { ClientEvent } from './stats.js';
import type { B24Envelope, B24ErrorBody } from '../wire/index.js';
import type { TokenPersistence } from './token-store.js';

/** Parameters of a REST call: a JSON-like object (nested objects and arrays allowed). */
export type Params = Record<string, unknown>;

/** The success envelope and its `time` object (API-FACTS §1.3, §1.4) are wire types: engine/wire/, shared with the emulator. */
export type { B24Envelope, B24Time } from '../wire/index.js';

/** One command of a batch: a method and its params (encoded by the client into query-string form). */
export interface BatchCommand {
  method: string;
  params?: Params;
}

/** Result of one batch command: either `result` or `error` is set; never both. */
export interface BatchItemResult<T = unknown> {
  key: string;
  ok: boolean;
  result?: T;
  total?: number;
  next?: number;
  /** Present when the command failed: the Bitrix24 error code and description. */
  error?: B24ErrorBody;
}

/**
 * Options every call takes. `onEvent` hears the ClientEvents of this one call
 * as they happen (its HTTP requests, retries, waits, batches, failure): the
 * way a caller counts what its reads cost without redoing the client's
 * chunking. The client's own `onEvent` option still hears every call.
 */
export interface CallOptions {
  /** Called for each event of this call; an error it throws is logged and ignored. @default undefined */
  onEvent?: (event: ClientEvent) => void;
}

export interface BatchOptions extends CallOptions {
  /** Stop at the first failing command. @default false */
  halt?: boolean;
}

export interface ListOptions extends CallOptions {
  filter?: Params;
  select?: string[];
  /** Extra params merged into each page request (e.g. `entityTypeId` for crm.item.list). */
  params?: Params;
  /** Stop after this many rows. @default Infinity */
  limit?: number;
}

/** Options of a ride-along command (B24ClientApi.rideAlong). */
export interface RideAlongOptions {
  /** Longest the command waits for a batch request to join before it is sent alone (ms). @default ClientOptions.rideAlongDeadlineMs */
  deadlineMs?: number;
}

/** How the client decides whether a method writes (for dry-run's write guard and for retry safety). */
export type MethodKind = 'read' | 'write';

export interface B24ClientApi {
  /** Call one method. Resolves to the whole envelope; rejects with a B24ApiError (or a subclass). */
  call<T = unknown>(method: string, params?: Params, options?: CallOptions): Promise<B24Envelope<T>>;
  /**
   * Send commands as `batch` requests of at most 50 commands each. Keys are kept;
   * `$result[key]` references between commands must stay within one chunk (the
   * client keeps a command with the one it references when splitting).
   */
  batch(commands: Record<string, BatchCommand> | BatchCommand[], options?: BatchOptions): Promise<Record<string, BatchItemResult>>;
  /** Every row of a list method, fast `start=-1` + `>ID` paging. */
  listAll<T = Record<string, unknown>>(method: string, options?: ListOptions): AsyncIterable<T>;
  /**
   * Send an idempotent command in the spare slots of the next `batch` request
   * (or alone after a deadline): resolves with its own result. Optional: a
   * caller without it sends the command itself.
   */
  rideAlong?(command: BatchCommand, options?: RideAlongOptions): Promise<BatchItemResult>;
  /** Send the waiting ride-along commands now; resolves once they are answered. */
  flushRideAlong?(): Promise<void>;
  /**
   * Whether this client sends `method` with these REST 1 params through REST 3.0 (v3-routes.ts): a REST 3.0-only
   * method, or a call REST 3.0 offers with an `Idempotency-Key` (tasks.task.add) while `restV3` is on. Optional:
   * a caller without it sends everything through REST 1.
   */
  routesV3?(method: string, params: Params): boolean;
  /**
   * Send a call routesV3 accepts through REST 3.0 with `idempotencyKey` (the same key for every send of the same
   * call: the portal answers a repeat from its first success without running it again); params and result in
   * their REST 1 shape.
   */
  callRoutedV3?(method: string, params: Params, idempotencyKey: string, options?: CallOptions): Promise<B24Envelope>;
}

/** Options of a REST 3.0 call (B24Client.callV3). */
export interface V3CallOptions extends CallOptions {
  /** Sent as the `Idempotency-Key` header (1–255 printable ASCII characters; a longer or other key is sent as its digest). @default none */
  idempotencyKey?: string;
}

/** Rate-limit profile of the portal's plan (API-FACTS §2.1): standard = burst 50, 2 req/s; enterprise = burst 250, 5 req/s. */
export type PortalPlan = 'standard' | 'enterprise';

/** Incoming-webhook credentials: `{base}/rest/{userId}/{code}/{method}.json`. `code` is a secret. */
export interface WebhookAuthConfig {
  mode: 'webhook';
  userId: string;
  code: string;
}

/** OAuth application credentials: `{base}/rest/{method}.json` with the `auth` token. Tokens and the client secret are secrets. */
export interface OAuthAuthConfig {
  mode: 'oauth';
  accessToken?: string;
  refreshToken?: string;
  clientId?: string;
  clientSecret?: string;
  /** Token server. @default 'https://oauth.bitrix.info' */
  oauthUrl: string;
  /** Where refreshed tokens are persisted (mode 0600), absolute. Not used when `tokenPersistence` is given. */
  tokenFile: string;
  /**
   * Where the token pair is read at first use and every rotated pair is committed before it is used, instead of
   * the token file (a worker's portals keep theirs in PostgreSQL). Its pair is taken as it is: the token file's
   * portal and grant checks do not apply. A write that throws fails the refresh. @default the token file
   */
  tokenPersistence?: TokenPersistence;
  /** When the configured access token expires (ms since epoch), if known. */
  accessTokenExpiresAt?: number;
}

/** Where the portal is and how to authenticate: what `loadConfig()` (engine/config.ts) returns. */
export interface ClientConfig {
  /** Scheme, host, optional port and path prefix, no trailing slash: `https://portal.bitrix24.com`, `http://127.0.0.1:8080`. */
  baseUrl: string;
  plan: PortalPlan;
  auth: WebhookAuthConfig | OAuthAuthConfig;
  /** Certificate authorities to trust besides Node's bundled ones, for the portal and the token server (B24_CA_FILE). */
  tls?: TlsConfig;
  /**
   * B24_REST_V3 (`on`/`off`): whether the calls REST 3.0 offers with an `Idempotency-Key` (tasks.task.add) go
   * through `/rest/api/` (v3-routes.ts); REST 3.0-only methods go there either way. Unset: ClientOptions.restV3
   * decides (the daemon: on). @default undefined
   */
  restV3?: boolean;
}

/** Extra trusted certificate authorities: a portal or proxy with a private CA, or `rules emulator --tls`. */
export interface TlsConfig {
  /** Where they were read from (named in errors). */
  caFile: string;
  /** The certificates, PEM (B24_CA_FILE, plus NODE_EXTRA_CA_CERTS when that is set too: an explicit CA list makes Node ignore it). */
  ca: string;
}

/**
 * Where a list method keeps its rows and its ID (additive to ListOptions; the
 * client knows crm.item.list = `result.items`/`id` and tasks.task.list =
 * `result.tasks`/`id` filtered by `ID`).
 */
export interface ListShapeOptions {
  /** Key of `result` holding the rows (`items`, `tasks`); null = `result` is the array. */
  itemsKey?: string | null;
  /** ID field as it appears in each row (`ID`, `id`). */
  idKey?: string;
  /** ID field as the method takes it in `order` and `filter` (`ID` for tasks.task.list even though rows carry `id`). */
  cursorKey?: string;
}
