/**
 * `startEmulatorFleet()`: many emulated portals with one app installed on
 * each, as a Bitrix24 Marketplace app sees them. Every portal is a whole
 * emulator (its own HTTP server and port, so its own domain `127.0.0.1:<port>`,
 * member_id, webhook, leaky bucket, `operating` budgets, offline queues and
 * data); ONE token server (the stand-in for oauth.bitrix.info) refreshes any
 * portal's tokens. `install()`/`uninstall()` POST the documented
 * ONAPPINSTALL/ONAPPUNINSTALL bodies to an app's handler, and every request is
 * recorded with the worker its user agent names, so a test can check that no
 * portal ever served two workers at once (`overlaps()`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { silentLogger, type Logger } from '../engine/logger.js';
import { ConfigError } from '../engine/errors.js';
import { installEvent, postEvent, uninstallEvent, type AppEventPortal, type HandlerAnswer } from './app-events.js';
import type { EmulatorApp } from './app-lifecycle.js';
import { allScopes } from './catalog.js';
import { DEFAULTS, startEmulator, type Emulator, type EmulatorOptions } from './emulator.js';
import { FleetRecorder, type Hold, type Overlap, type RequestSpan, type WorkerRun } from './fleet-record.js';
import { loadPortalData, type PortalData } from './portal-data.js';
import { startTokenServer, type TokenRequest, type TokenServer } from './token-server.js';

export interface FleetOptions extends Pick<EmulatorOptions, 'host' | 'plan' | 'limits' | 'faults' | 'tokenTtlSeconds' | 'now' | 'appScopes' | 'eventFetch'> {
  /** How many portals. */
  portals: number;
  /** Seed of the portals' member_ids (the same seed gives the same ids). @default 1 */
  seed?: number;
  /** Whether the app starts installed on every portal; when not, a portal's app tokens work after `install()`. @default true */
  installed?: boolean;
  /** The app's client_id. @default made up */
  clientId?: string;
  /** The app's client_secret. @default made up */
  clientSecret?: string;
  /** The app's `status` in tokens and events: `F` free Marketplace app, `S` paid, `L` local. @default 'F' */
  appStatus?: string;
  /** Each portal's data: one file or object for all (each portal gets its own copy), or one per portal index. @default the demo portal */
  data?: string | PortalData | ((index: number) => string | PortalData);
  /** Requests kept per portal in the record (the oldest go first). @default 5000 */
  keepRequests?: number;
  /** @default silentLogger */
  logger?: Logger;
}

/** One portal of the fleet. */
export interface FleetPortal {
  readonly index: number;
  /** The whole emulator (store, calls, events, setFaults...). */
  readonly emulator: Emulator;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `127.0.0.1:<port>` */
  readonly domain: string;
  readonly memberId: string;
  /** Incoming webhook of user 1 with every scope. */
  readonly webhookUrl: string;
  /** The app on this portal: its current pair ('' while not installed), application_token, the fleet's oauth_url. */
  readonly app: EmulatorApp;
}

export interface InstallOptions {
  /**
   * Send a forged ONAPPINSTALL and change nothing on the portal: `true` makes up the application_token and
   * both tokens; an object replaces just those `auth` fields (e.g. `{ application_token: 'x' }`).
   */
  forge?: true | Partial<Record<'application_token' | 'access_token' | 'refresh_token' | 'member_id' | 'domain', string>>;
  /** A reinstall as a new installation, with a new application_token. @default false (it keeps its token) */
  newApplicationToken?: boolean;
  /** @default 'en' */
  languageId?: string;
  /** `data[VERSION]`. @default '1' */
  version?: string;
}

export interface UninstallOptions {
  /** `data[CLEAN]`: the user asked to delete the app's data. @default false */
  clean?: boolean;
  /** Send a forged ONAPPUNINSTALL and change nothing: `true` makes up the application_token; a string is the one sent. */
  forge?: true | string;
  /** @default 'en' */
  languageId?: string;
}

export interface EmulatorFleet {
  readonly portals: readonly FleetPortal[];
  /** The token server's base URL. */
  readonly tokenServerUrl: string;
  /** `{tokenServerUrl}/oauth/token/`: the B24_OAUTH_URL of every portal. */
  readonly oauthUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Portal `index`; a RangeError outside the fleet. */
  portal(index: number): FleetPortal;
  /** The portal with this member_id or domain. */
  find(memberIdOrDomain: string): FleetPortal | undefined;
  /** Install the app on portal `index` (a fresh pair) and POST ONAPPINSTALL to `handlerUrl`; resolves with the handler's answer. */
  install(index: number, handlerUrl: string, options?: InstallOptions): Promise<HandlerAnswer>;
  /** Uninstall the app from portal `index` (its tokens stop working, its queue stops filling) and POST ONAPPUNINSTALL. */
  uninstall(index: number, handlerUrl: string, options?: UninstallOptions): Promise<HandlerAnswer>;
  /** The requests portal `index` answered (the last `keepRequests`), with worker, method and [start, end]. */
  requests(index: number): readonly RequestSpan[];
  /** Pairs of requests of two different workers to one portal whose spans intersect; empty = never two at once. */
  overlaps(): readonly Overlap[];
  /** How many overlaps there were in all (`overlaps()` keeps the first 1,000). */
  readonly overlapCount: number;
  /** The workers that served portal `index`, one entry per change of worker. */
  workersSeen(index: number): readonly WorkerRun[];
  /** Requests the token server answered, with the portal whose token they carried (they count in `overlaps()` of that portal). */
  tokenRequests(): readonly TokenRequest[];
  /**
   * Every secret the fleet handed out so far: the app's client_secret, each portal's webhook code and
   * application_token, and every access and refresh token issued (at the start, by installs, by the token server).
   * Tests look for them in what a process printed: none may appear.
   */
  secrets(): string[];
  /** Hold portal `index`'s requests until `release()` (tests make requests concurrent without sleeping). */
  hold(index: number): Hold;
  close(): Promise<void>;
}

/** The deterministic member_id of portal `index` for `seed`: 32 hex. */
export function fleetMemberId(seed: number, index: number): string {
  return createHash('sha256').update(`b24-rules emulator fleet ${seed}/${index}`).digest('hex').slice(0, 32);
}

const made = (bytes: number): string => randomBytes(bytes).toString('hex');

/** Start `options.portals` emulated portals and their token server. Resolves once all listen. */
export async function startEmulatorFleet(options: FleetOptions): Promise<EmulatorFleet> {
  const count = options.portals;
  if (!Number.isInteger(count) || count < 1) throw new ConfigError(`an emulator fleet needs portals >= 1 (a whole number); got ${String(count)}`);
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? DEFAULTS.host;
  const now = options.now ?? Date.now;
  const seed = options.seed ?? 1;
  const status = options.appStatus ?? 'F';
  const clientId = options.clientId ?? `app.${made(7)}`;
  const clientSecret = options.clientSecret ?? made(24);
  const scope = (options.appScopes ?? allScopes()).join(',');
  const shared = typeof options.data === 'function' ? undefined : loadPortalData(options.data ?? DEFAULTS.dataFile);
  const dataOf = (i: number): string | PortalData => (typeof options.data === 'function' ? options.data(i) : structuredClone(shared as PortalData));

  const emulators: Emulator[] = [];
  const recorder = new FleetRecorder(count, options.keepRequests);
  // A refresh is a request about the portal: in its record, so two workers refreshing (or one refreshing while
  // another calls) count as an overlap.
  const tokenServer: TokenServer = await startTokenServer({
    host,
    portals: () => emulators,
    logger,
    onPortalRequest: (index, worker, start) => {
      const span = recorder.open(index, worker, 'oauth/token', start, false);
      return () => recorder.close(index, span);
    },
  });
  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
      startEmulator({
        host,
        now,
        logger,
        data: dataOf(i),
        memberId: fleetMemberId(seed, i),
        app: { clientId, clientSecret, status },
        appInstalled: options.installed ?? true,
        tokenServerUrl: tokenServer.url,
        onRequest: recorder.observe(i),
        plan: options.plan,
        limits: options.limits,
        faults: options.faults,
        tokenTtlSeconds: options.tokenTtlSeconds,
        appScopes: options.appScopes,
        eventFetch: options.eventFetch,
      }),
    ),
  );
  for (const s of started) if (s.status === 'fulfilled') emulators.push(s.value);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all([...emulators.map((e) => e.close()), tokenServer.close()]);
    throw failed.reason;
  }

  const portals: FleetPortal[] = emulators.map((emu, index) => ({
    index,
    emulator: emu,
    url: emu.url,
    domain: emu.app.domain,
    memberId: emu.app.member_id,
    webhookUrl: emu.webhookUrl,
    app: emu.app,
  }));
  const portal = (index: number): FleetPortal => {
    const p = portals[index];
    if (!p) throw new RangeError(`no portal ${index} in a fleet of ${portals.length} (0..${portals.length - 1})`);
    return p;
  };
  const eventPortal = (p: FleetPortal): AppEventPortal => ({
    domain: p.domain,
    clientEndpoint: `${p.url}/rest/`,
    serverEndpoint: `${tokenServer.url}/rest/`,
    memberId: p.memberId,
    scope,
    status,
  });
  const handedOut = new Set<string>([clientSecret]);
  const note = (p: FleetPortal): void => {
    const hook = /\/rest\/\d+\/([^/]+)\/$/.exec(p.webhookUrl);
    for (const v of [p.app.access_token, p.app.refresh_token, p.app.application_token, hook?.[1]]) if (v) handedOut.add(v);
  };
  for (const p of portals) note(p);
  const fetchFn = options.eventFetch ?? globalThis.fetch;
  const expiresIn = options.tokenTtlSeconds ?? DEFAULTS.tokenTtlSeconds;

  logger.info({ portals: count, tokenServer: tokenServer.url }, 'emulator fleet: ready');
  return {
    portals,
    tokenServerUrl: tokenServer.url,
    oauthUrl: `${tokenServer.url}/oauth/token/`,
    clientId,
    clientSecret,
    portal,
    find: (key) => portals.find((p) => p.memberId === key || p.domain === key),
    install: async (index, handlerUrl, o = {}) => {
      const p = portal(index);
      const { forge } = o;
      let app: Pick<EmulatorApp, 'access_token' | 'refresh_token' | 'application_token'>;
      let target = eventPortal(p);
      if (forge === undefined) {
        app = p.emulator.installApp({ newApplicationToken: o.newApplicationToken ?? false });
        note(p);
      }
      else if (forge === true) app = { access_token: made(35), refresh_token: made(35), application_token: made(16) };
      else {
        app = { access_token: forge.access_token ?? p.app.access_token, refresh_token: forge.refresh_token ?? p.app.refresh_token, application_token: forge.application_token ?? p.app.application_token };
        target = { ...target, memberId: forge.member_id ?? target.memberId, domain: forge.domain ?? target.domain };
      }
      const event = installEvent(target, app, { expiresIn, nowMs: now(), languageId: o.languageId, version: o.version });
      return postEvent(fetchFn, handlerUrl, event);
    },
    uninstall: async (index, handlerUrl, o = {}) => {
      const p = portal(index);
      const token = o.forge === undefined ? p.app.application_token : o.forge === true ? made(16) : o.forge;
      if (o.forge === undefined) p.emulator.uninstallApp();
      const event = uninstallEvent(eventPortal(p), token, { clean: o.clean ?? false, nowMs: now(), languageId: o.languageId });
      return postEvent(fetchFn, handlerUrl, event);
    },
    requests: (index) => recorder.requests(index),
    overlaps: () => recorder.overlaps(),
    get overlapCount() {
      return recorder.overlapCount;
    },
    workersSeen: (index) => recorder.workersSeen(index),
    tokenRequests: () => tokenServer.requests,
    secrets: () => [...handedOut, ...tokenServer.issued],
    hold: (index) => recorder.hold(index),
    close: async () => {
      await Promise.all([...emulators.map((e) => e.close()), tokenServer.close()]);
    },
  };
}
