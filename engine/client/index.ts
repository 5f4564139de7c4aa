/**
 * The Bitrix24 REST client: createClient(config, options), its errors, the one
 * method classifier (read/write, safe to re-send) and the one batch limit and
 * chunker. The clock is engine/clock.ts.
 */
export { B24Client, createClient } from './client.js';
export { DEFAULTS, type ClientOptions } from './options.js';
export { loadConfig } from '../config.js';
export { methodKind, verbKind, callKind, isCreateMethod, isIdempotentMethod, isIdempotentCall, isKnownMethod, methodApi, type MethodApi } from './method-kind.js';
export { idempotencyKey, V3_PREFIX, type V3BatchCall } from './v3.js';
export { v3Filter, V3_OPERATORS, type V3Condition, type V3Operator } from './v3-filter.js';
export { v3Route, type V3Route } from './v3-routes.js';
export {
  B24ApiError,
  RateLimitError,
  AuthError,
  NetworkError,
  OutcomeUnknownError,
  WriteRefusedError,
  UntrustedCertificateError,
  LeaseLostError,
  provedNotRun,
  PORTAL_LIMIT_CODES,
  errorText,
  type B24ApiErrorDetails,
} from './errors.js';
export { encodeParams, encodeCommand, commandMethod } from './query-string.js';
export { LeakyBucket, type LeakyBucketOptions } from './leaky-bucket.js';
export { OperatingBudget, type OperatingBudgetOptions, type LearnedLimit } from './operating-budget.js';
export { listShape, PAGE_SIZE, type ListAllOptions, type ListAllBatchedOptions, type ListPagedOptions } from './lists.js';
export { MAX_BATCH, chunk, referencedKeys } from './batch.js';
export { readTokens, writeTokens, type StoredTokens, type TokenPersistence } from './token-store.js';
export { requestsCutShort } from './transport.js';
export type { ClientStats, ClientEvent } from './stats.js';
export type {
  Params,
  B24Envelope,
  B24Time,
  BatchCommand,
  BatchItemResult,
  BatchOptions,
  CallOptions,
  ListOptions,
  ListShapeOptions,
  MethodKind,
  RideAlongOptions,
  V3CallOptions,
  B24ClientApi,
  ClientConfig,
  PortalPlan,
  WebhookAuthConfig,
  OAuthAuthConfig,
  TlsConfig,
} from './types.js';
