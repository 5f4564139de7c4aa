/**
 * Contracts inside the emulator, shared by its method groups (emulator/methods/*)
 * and its event hub (emulator/events/*). The HTTP layer (emulator/server.ts)
 * parses a request into (method, params, auth), finds the handler in the
 * registry and wraps what it returns in the portal's envelope.
 */

export type Params = Record<string, unknown>;

/** Who is calling: resolved by the HTTP layer from the webhook URL or the `auth` token. */
export interface CallerAuth {
  kind: 'webhook' | 'oauth';
  /** The portal user the call acts as. */
  userId: number;
  /** Scopes granted to the webhook or the app (`crm`, `task`, `im`, `user`, `bizproc`, `placement`...). */
  scopes: string[];
  /** OAuth only: the installed app. */
  clientId?: string;
  applicationToken?: string;
}

/** What a handler sees besides its params. */
export interface CallContext {
  auth: CallerAuth;
  /** The `auth_connector` param of this call, if any: changes it makes are not queued back to that connector. */
  authConnector?: string;
  /** The emulator's clock (ms since epoch); injectable for tests. */
  now(): number;
  /** Raise a portal event after a write (the hub decides who gets it: online handlers, offline queues). */
  emit(event: string, data: Record<string, unknown>): void;
}

/** A handler's answer: the `result`, and for list methods `total` and `next`. */
export interface HandlerResult {
  result: unknown;
  total?: number;
  next?: number;
}

export type MethodHandler = (params: Params, ctx: CallContext) => HandlerResult | Promise<HandlerResult>;

/** A method the emulator implements, with the scope it needs and whether only app (OAuth) auth may call it. */
export interface MethodDef {
  handler: MethodHandler;
  scope: string;
  /** `event.*` and a few others answer WRONG_AUTH_TYPE to webhooks. @default false */
  appOnly?: boolean;
  /** Simulated execution cost in seconds, counted against the per-method `operating` budget. @default 0.01 */
  cost?: number;
}

/** One field a REST 3.0 validation error names (`error.validation[]`, api-reference/rest-v3.md). */
export interface ValidationEntry {
  field: string;
  message: string;
}

/** An error answered in the portal's error envelope with the HTTP status a portal gives for it. */
export class PortalError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    /** REST 3.0 only: the fields at fault. */
    readonly validation?: ValidationEntry[],
  ) {
    super(`${error}: ${description}`);
    this.name = 'PortalError';
  }
}

/** Where method definitions live: each group under emulator/methods/ registers into it at start. Names are case-insensitive. */
export interface MethodRegistry {
  register(name: string, def: MethodDef): void;
  get(name: string): MethodDef | undefined;
  has(name: string): boolean;
  /** Registered names, lowercase, sorted. */
  names(): string[];
}

/** One portal event raised by a write, as `CallContext.emit` received it. */
export interface EmittedEvent {
  /** Uppercase event code, e.g. `ONCRMDEALUPDATE`. */
  event: string;
  data: Record<string, unknown>;
  /** Emulator clock (ms) when it was raised. */
  at: number;
  /** Who made the change. */
  auth: CallerAuth;
  /** `auth_connector` of the call that made the change, if any. */
  authConnector?: string;
}

/** What the emulator hands each raised event to (the event hub, once attached). */
export interface EventSink {
  publish(event: EmittedEvent): void;
}
