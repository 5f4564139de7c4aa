/**
 * The emulator's event hub: takes every event a write raises and hands it to
 * the apps that bound it, online (a form POST to the handler URL, in the
 * background, no retry) or offline (a record in the app's queue for
 * `event.offline.get`). It also holds what the `event.*` methods read and
 * change: the handler table and the offline queues.
 *
 * Facts followed: /api-reference/events/index.md (delivery, payload),
 * offline-events.md and the event-offline-*.md pages (queue), event-bind.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../../engine/logger.js';
import { CATALOG_DIR } from '../../engine/paths.js';
import type { EmittedEvent, EventSink } from '../types.js';
import { BindingStore, type Binding } from './bindings.js';
import { Delivery, type DeliveryRecord } from './delivery.js';
import { encodeForm } from './form-encode.js';
import { OfflineQueue } from './offline-queue.js';

/** The portal as handlers see it in `auth[...]`. */
export interface PortalInfo {
  domain: string;
  member_id: string;
  /** The app's `application_token` (used for apps that did not bring their own). */
  application_token: string;
  /** The app (OAuth client) the emulator installs. */
  client_id: string;
  /** @default `https://${domain}/rest/` */
  client_endpoint?: string;
  /** @default 'https://oauth.bitrix.info/rest/' */
  server_endpoint?: string;
}

/** Tokens a handler call carries for a user (the emulator's OAuth layer issues them). */
export interface HandlerTokens {
  access_token: string;
  refresh_token?: string;
  /** Seconds. */
  expires_in: number;
  /** Comma-separated scopes. */
  scope: string;
  /** @default 'L' */
  status?: string;
}

/** Who made a change, and through which source key. */
export interface EmitMeta {
  /** 0 = no user (robot, agent): handlers then get no tokens. */
  userId: number;
  /** `auth_connector` of the call that made the change: that connector's offline queue does not get it. */
  authConnector?: string;
  /** Deliver only to this app's handlers (event.test). */
  onlyApp?: string;
}

export interface EventHubOptions {
  /** Emulator clock, ms. */
  now: () => number;
  portal: PortalInfo;
  /** How handler POSTs are sent. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** @default silentLogger */
  logger?: Logger;
  /** Tokens for handler calls; without it, handlers get no tokens (as for a robot's change). */
  issueAuth?: (appId: string, userId: number) => HandlerTokens | undefined;
  /** Whether a user is a portal administrator (offline events need one). @default every user is */
  isAdmin?: (userId: number) => boolean;
  /** Event codes `event.bind` accepts. @default catalog/events.txt */
  knownEvents?: Iterable<string>;
  /** Event codes the portal's data adds, asked at each check (a smart process's ONCRMDYNAMICITEMADD_147...). */
  portalEvents?: () => Iterable<string>;
  /** Portal UTC offset for TIMESTAMP_X. @default 180 */
  offsetMinutes?: number;
  /** Plan features; a missing one answers WRONG_LICENSE. @default both enabled */
  features?: { offlineExtended?: boolean; authConnector?: boolean };
  /** Handler POST timeout. @default 10000 */
  deliveryTimeoutMs?: number;
  /** Reserved offline records older than this are dropped. @default 2952000000 (the portal's PROCESS_ID_LIFETIME) */
  reservationLifetimeMs?: number;
}

export const DEFAULTS = {
  /** @default 180 (the sample portal's +03:00) */
  offsetMinutes: 180,
  /** @default 10000 */
  deliveryTimeoutMs: 10_000,
  /** @default 2952000000 */
  reservationLifetimeMs: 2_952_000_000,
  /** @default 'https://oauth.bitrix.info/rest/' */
  serverEndpoint: 'https://oauth.bitrix.info/rest/',
  /** Seconds between ONOFFLINEEVENT notifications when the binding sets no `minTimeout`. @default 1 */
  offlineNotifyTimeout: 1,
} as const;

/** Events whose handler calls carry a refresh_token (api-reference/events/index.md). */
const SENDS_REFRESH_TOKEN = new Set(['ONAPPINSTALL', 'ONOFFLINEEVENT']);

export interface EventHub extends EventSink {
  readonly portal: Required<PortalInfo>;
  readonly bindings: BindingStore;
  readonly queue: OfflineQueue;
  readonly features: { offlineExtended: boolean; authConnector: boolean };
  readonly offsetMinutes: number;
  /** Raise an event: online handlers get a POST, offline bindings a queue record. */
  emit(event: string, data: Record<string, unknown>, meta: EmitMeta): void;
  /** The core's EventSink entry point (CallContext.emit lands here). */
  publish(e: EmittedEvent): void;
  isAdmin(userId: number): boolean;
  isKnownEvent(event: string): boolean;
  /** Known event codes, sorted. */
  knownEvents(): string[];
  /** Remember the application_token an app's handlers are called with. */
  setApplicationToken(appId: string, token: string): void;
  /** Resolves when no handler call is in flight. */
  idle(): Promise<void>;
  /** Handler calls attempted so far. */
  deliveries(): readonly DeliveryRecord[];
}

/**
 * Numbers and booleans as strings, as a portal's queue stores EVENT_DATA
 * (event-offline-get.md shows `{"FIELDS":{"ID":"123"}}`), so `ID: 5` and
 * `ID: "5"` are one object with one MESSAGE_ID.
 */
function stringifyScalars(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stringifyScalars);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stringifyScalars(v)]));
  }
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? '1' : '';
  return value;
}

function loadKnownEvents(): string[] {
  return readFileSync(join(CATALOG_DIR, 'events.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** Create the hub of one emulated portal. */
export function createEventHub(options: EventHubOptions): EventHub {
  const now = options.now;
  const logger = options.logger ?? silentLogger;
  const offsetMinutes = options.offsetMinutes ?? DEFAULTS.offsetMinutes;
  const portal: Required<PortalInfo> = {
    client_endpoint: `https://${options.portal.domain}/rest/`,
    server_endpoint: DEFAULTS.serverEndpoint,
    ...options.portal,
  };
  const known = new Set([...(options.knownEvents ?? loadKnownEvents())].map((e) => e.toUpperCase()));
  const bindings = new BindingStore();
  const queue = new OfflineQueue({
    now,
    offsetMinutes,
    reservationLifetimeMs: options.reservationLifetimeMs ?? DEFAULTS.reservationLifetimeMs,
  });
  const delivery = new Delivery({
    fetch: options.fetch ?? globalThis.fetch,
    timeoutMs: options.deliveryTimeoutMs ?? DEFAULTS.deliveryTimeoutMs,
    logger,
    now,
  });
  const appTokens = new Map<string, string>();
  const lastNotified = new Map<number, number>();

  function authBlock(appId: string, userId: number, event: string): Record<string, unknown> {
    const tokens = userId > 0 ? options.issueAuth?.(appId, userId) : undefined;
    const common = {
      domain: portal.domain,
      server_endpoint: portal.server_endpoint,
      client_endpoint: portal.client_endpoint,
      member_id: portal.member_id,
    };
    const applicationToken = appTokens.get(appId) ?? portal.application_token;
    if (!tokens) return { ...common, application_token: applicationToken };
    return {
      access_token: tokens.access_token,
      expires: Math.floor(now() / 1000) + tokens.expires_in,
      expires_in: tokens.expires_in,
      scope: tokens.scope,
      domain: common.domain,
      server_endpoint: common.server_endpoint,
      status: tokens.status ?? 'L',
      client_endpoint: common.client_endpoint,
      member_id: common.member_id,
      user_id: userId,
      ...(SENDS_REFRESH_TOKEN.has(event) && tokens.refresh_token ? { refresh_token: tokens.refresh_token } : {}),
      application_token: applicationToken,
    };
  }

  function deliver(b: Binding, event: string, data: Record<string, unknown>, causedBy: number): void {
    const body = encodeForm({
      event,
      event_handler_id: b.id,
      data,
      ts: Math.floor(now() / 1000),
      auth: authBlock(b.appId, b.userId > 0 ? b.userId : causedBy, event),
    });
    delivery.send(b.handler, body, { handlerId: b.id, event });
  }

  /** ONOFFLINEEVENT: at most one per `minTimeout` seconds per handler (0 = every time); extra ones are dropped, as on a portal. */
  function notifyOffline(appId: string, causedBy: number): void {
    for (const b of bindings.forEvent('ONOFFLINEEVENT')) {
      if (b.offline || b.appId !== appId) continue;
      const timeout = Number(b.options['minTimeout'] ?? DEFAULTS.offlineNotifyTimeout);
      const last = lastNotified.get(b.id);
      if (timeout > 0 && last !== undefined && now() - last < timeout * 1000) continue;
      lastNotified.set(b.id, now());
      deliver(b, 'ONOFFLINEEVENT', {}, causedBy);
    }
  }

  const hub: EventHub = {
    portal,
    bindings,
    queue,
    features: { offlineExtended: options.features?.offlineExtended ?? true, authConnector: options.features?.authConnector ?? true },
    offsetMinutes,

    emit(rawEvent, data, meta) {
      const event = rawEvent.toUpperCase();
      const queued = new Set<string>();
      for (const b of bindings.forEvent(event)) {
        if (meta.onlyApp !== undefined && b.appId !== meta.onlyApp) continue;
        if (!b.offline) {
          deliver(b, event, data, meta.userId);
          continue;
        }
        // A change made with a source key is not queued back to that source's queue.
        if (b.connector !== '' && b.connector === meta.authConnector) continue;
        const key = `${b.appId}\u0000${b.connector}`;
        if (queued.has(key)) continue;
        queued.add(key);
        queue.record({ appId: b.appId, connector: b.connector }, event, stringifyScalars(data), meta.userId);
        notifyOffline(b.appId, meta.userId);
      }
    },

    publish(e) {
      hub.emit(e.event, e.data, { userId: e.auth.userId, ...(e.authConnector === undefined ? {} : { authConnector: e.authConnector }) });
    },

    isAdmin(userId) {
      return options.isAdmin ? options.isAdmin(userId) : true;
    },

    isKnownEvent(event) {
      const name = event.toUpperCase();
      return known.has(name) || [...(options.portalEvents?.() ?? [])].includes(name);
    },

    knownEvents() {
      return [...new Set([...known, ...(options.portalEvents?.() ?? [])])].sort();
    },

    setApplicationToken(appId, token) {
      appTokens.set(appId, token);
    },

    idle() {
      return delivery.idle();
    },

    deliveries() {
      return delivery.log();
    },
  };
  return hub;
}
