/**
 * `startEmulator()`: a stand-in Bitrix24 portal over real HTTP(S) on
 * 127.0.0.1, seeded with data, with one working incoming webhook (user 1, all
 * scopes) and one installed app with a token pair. REST 1 at `/rest/`, and
 * REST 3.0 at `/rest/api/` for the methods it uses (rest-v3.ts).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { B24RulesError, ConfigError } from '../engine/errors.js';
import { silentLogger, type Logger } from '../engine/logger.js';
import { PACKAGE_ROOT } from '../engine/paths.js';
import { registerSecret } from '../engine/redact.js';
import { appLifecycle, type EmulatorApp } from './app-lifecycle.js';
import { AuthState, type AppIdentity, type TokenResponse } from './auth.js';
import { CallLog } from './calls.js';
import { allScopes } from './catalog.js';
import { parseOffset } from './clock.js';
import { smartTypeIds } from './crm/smart-types.js';
import { Dispatcher } from './dispatch.js';
import { createEventHub, type EventHub } from './events/index.js';
import { FaultInjector, type FaultOptions } from './faults.js';
import type { Hold } from './fleet-record.js';
import { LeakyBucket, OperatingBudget } from './limits.js';
import { registerEventMethods } from './methods/event.js';
import { isAdmin, registerCoreMethods } from './methods/index.js';
import { registerTasksV3 } from './methods/tasks-v3.js';
import { EmulatorDataError, loadPortalData, type PortalData } from './portal-data.js';
import { Registry } from './registry.js';
import { runV3Batch } from './rest-v3.js';
import { seedNormalizer, seedPortal } from './seed.js';
import { createHandler } from './server.js';
import type { EmulatorState, Plan } from './state.js';
import type { Store } from './store.js';
import { Store as StoreImpl } from './store.js';
import type { EmittedEvent } from './types.js';
import { WorkGate, type HoldMatch } from './work-gate.js';

/** Limits; unset ones follow the plan (API-FACTS §2). */
export interface LimitOptions {
  /** Leaky-bucket threshold. @default 50 (enterprise 250) */
  burst?: number;
  /** Leaky-bucket drain, requests per second. @default 2 (enterprise 5) */
  drainPerSec?: number;
  /** Operating budget per method and credential over 10 minutes, seconds. @default 480 */
  operatingBudgetSec?: number;
  /** Simulated cost of a call of a method that declares none, seconds. @default 0.01 */
  callCostSec?: number;
  /** Simulated cost per method name (lowercase), overriding the method's own. @default {} */
  costs?: Record<string, number>;
}

export interface EmulatorOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Seed data: a YAML/JSON file path or an object. @default the demo portal (emulator/data/demo-portal.yaml) */
  data?: string | PortalData;
  /** @default 'standard' */
  plan?: Plan;
  /** Access-token lifetime. @default 3600 */
  tokenTtlSeconds?: number;
  /** Serve HTTPS with a self-signed certificate generated at start. @default false */
  tls?: boolean;
  /**
   * With `tls`: where to write that certificate (PEM, mode 0600), for clients to trust (B24_CA_FILE).
   * @default `ca.pem` in a new private temp directory, removed on close()
   */
  caFile?: string;
  /** Clock (ms since epoch) for tokens, limits, dates, events. @default Date.now */
  now?: () => number;
  limits?: LimitOptions;
  faults?: FaultOptions;
  /** @default silentLogger */
  logger?: Logger;
  /** Scopes of the installed app. @default every scope */
  appScopes?: string[];
  /**
   * The plan's features (feature.get's rest_offline_extended and rest_auth_connector): one turned off answers `N` to
   * feature.get, and the offline methods that need it answer 403 WRONG_LICENSE. @default both on
   */
  features?: { offlineExtended?: boolean; authConnector?: boolean };
  /** How the event hub POSTs to handlers (tests). @default globalThis.fetch */
  eventFetch?: typeof globalThis.fetch;
  /** The portal's member_id (32 hex). @default the data's `portal.memberId`, else random */
  memberId?: string;
  /** The installed app's identity (a fleet installs one app on many portals). @default made up at start, status `L` */
  app?: AppIdentity;
  /** Whether the app starts installed; when not, no app token works until `installApp()`. @default true */
  appInstalled?: boolean;
  /**
   * Base URL of a token server shared by many portals (a fleet's stand-in for oauth.bitrix.info): token
   * answers and handler `auth` then name `{tokenServerUrl}/rest/` as `server_endpoint`, and `app.oauth_url`
   * is `{tokenServerUrl}/oauth/token/`. @default this portal's own `/oauth/`
   */
  tokenServerUrl?: string;
  /**
   * Sees every HTTP request before the portal handles it (a fleet records who sent what when); a promise
   * it returns holds the request until it settles (a rejected one drops the connection).
   */
  onRequest?: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
}

export const DEFAULTS = {
  /** @default 0 */
  port: 0,
  /** @default '127.0.0.1' */
  host: '127.0.0.1',
  /** @default 'standard' */
  plan: 'standard' as Plan,
  /** @default 3600 */
  tokenTtlSeconds: 3600,
  /** @default '+03:00' */
  utcOffset: '+03:00',
  /** @default 'USD' */
  currency: 'USD',
  /** @default 480 */
  operatingBudgetSec: 480,
  /** @default 0.01 */
  callCostSec: 0.01,
  /** @default emulator/data/demo-portal.yaml */
  dataFile: join(PACKAGE_ROOT, 'emulator', 'data', 'demo-portal.yaml'),
} as const;

/** Raised events kept in `events.emitted` (the oldest go first). */
const EMITTED_KEPT = 10_000;

/** Leaky-bucket settings per plan (limits.md). */
export const PLAN_LIMITS: Record<Plan, { burst: number; drainPerSec: number }> = {
  standard: { burst: 50, drainPerSec: 2 },
  enterprise: { burst: 250, drainPerSec: 5 },
};

export type { EmulatorApp } from './app-lifecycle.js';

export interface Emulator {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Incoming webhook of user 1 with every scope, ending in `/`. */
  readonly webhookUrl: string;
  /** With `tls`: the file holding the self-signed certificate (PEM) a client must trust, e.g. as B24_CA_FILE. */
  readonly caFile?: string;
  readonly app: EmulatorApp;
  readonly store: Store;
  readonly calls: CallLog;
  readonly registry: Registry;
  readonly events: {
    /** The event hub (bindings, offline queues, deliveries). */
    readonly hub: EventHub;
    /** Events writes raised, in order (the last 10,000). */
    readonly emitted: readonly EmittedEvent[];
  };
  /** Change fault injection at run time. */
  setFaults(faults: FaultOptions): void;
  /**
   * Hold the requests `match` takes (all without it) after the portal has read them and before it does their
   * work, until `release()`: released, each does its work even if its sender has gone since (a real portal runs a
   * request it received to its end). Tests make work land late without sleeping.
   */
  hold(match?: HoldMatch): Hold;
  /** Create another incoming webhook; returns its URL (ending in `/`). */
  addWebhook(options?: { userId?: number; scopes?: string[] }): string;
  /** Issue a token pair for the app acting as `userId`. */
  issueTokens(userId: number): { access_token: string; refresh_token: string };
  /** Whether the app is installed (`appInstalled: false` starts without it). */
  readonly appInstalled: boolean;
  /** Install the app: a fresh pair for user 1 (also in `app`); `newApplicationToken` for a new installation's token. */
  installApp(options?: { newApplicationToken?: boolean }): EmulatorApp;
  /** Uninstall the app: its tokens stop working, its event bindings and offline records go. */
  uninstallApp(): void;
  /** Whether this portal issued `refreshToken` and it is still live (a fleet's token server routes by it). */
  ownsRefreshToken(refreshToken: string): boolean;
  /** What the token server answers to `params` for this portal; throws the token server's error (`OAuthError`). */
  grantToken(params: Record<string, unknown>): TokenResponse;
  close(): Promise<void>;
}

function portalOffset(text: unknown): number {
  try {
    return parseOffset(String(text));
  } catch (err) {
    throw new EmulatorDataError(`portal.utcOffset: ${(err as Error).message} (quote it in YAML: '+03:00')`, { cause: err });
  }
}

/** Start an emulated portal. Resolves once it is listening. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const plan = options.plan ?? DEFAULTS.plan;
  if (plan !== 'standard' && plan !== 'enterprise') throw new ConfigError(`emulator plan must be 'standard' or 'enterprise'; got '${String(plan)}'`);
  const data = loadPortalData(options.data ?? DEFAULTS.dataFile);
  const host = options.host ?? DEFAULTS.host;
  const memberId = options.memberId ?? data.portal?.memberId ?? randomBytes(16).toString('hex');
  const scopes = allScopes();
  const auth = new AuthState(options.tokenTtlSeconds ?? DEFAULTS.tokenTtlSeconds, memberId, options.appScopes ?? scopes, options.app);
  const registry = new Registry();
  const store = new StoreImpl();
  const state: EmulatorState = {
    store,
    registry,
    auth,
    now,
    portal: {
      domain: host,
      memberId,
      offsetMinutes: portalOffset(data.portal?.utcOffset ?? DEFAULTS.utcOffset),
      currency: data.portal?.currency ?? DEFAULTS.currency,
      plan,
      baseUrl: '',
      serverEndpoint: '',
      features: { rest_offline_extended: options.features?.offlineExtended ?? true, rest_auth_connector: options.features?.authConnector ?? true },
    },
  };
  const records = registerCoreMethods(registry, state);
  store.setNormalizer(seedNormalizer(state, records));
  seedPortal(state, data);

  const planLimits = PLAN_LIMITS[plan];
  const limits = options.limits ?? {};
  const bucket = new LeakyBucket(limits.burst ?? planLimits.burst, limits.drainPerSec ?? planLimits.drainPerSec);
  const budget = new OperatingBudget(limits.operatingBudgetSec ?? DEFAULTS.operatingBudgetSec);
  const faults = new FaultInjector(options.faults);
  const calls = new CallLog();
  const emitted: EmittedEvent[] = [];
  // Set once listening (the hub needs the URL); calls before that cannot arrive.
  const late: { hub?: EventHub; handler?: ReturnType<typeof createHandler> } = {};
  const registryV3 = new Registry();
  registerTasksV3(registryV3, state);
  const dispatcher = new Dispatcher(state, {
    v3: registryV3,
    v3Batch: (inv, seq, run) => runV3Batch(inv, seq, run, state.portal.offsetMinutes, now()),
    budget,
    calls,
    costs: Object.fromEntries(Object.entries(limits.costs ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    defaultCost: limits.callCostSec ?? DEFAULTS.callCostSec,
    publish: (e) => {
      emitted.push(e);
      if (emitted.length > EMITTED_KEPT + EMITTED_KEPT / 10) emitted.splice(0, emitted.length - EMITTED_KEPT);
      late.hub?.publish(e);
    },
    onBug: (err, method) => logger.error({ err, method }, 'emulator: a method handler failed (answered 500)'),
  });

  const webhook = auth.addWebhook(1, scopes);
  const tokens = auth.issue(1, now());
  for (const s of [webhook.code, tokens.accessToken, tokens.refreshToken, auth.app.clientSecret, auth.app.applicationToken]) registerSecret(s);

  const listener: Parameters<typeof createHttpServer>[1] = (req, res) => {
    const handler = late.handler;
    if (!handler) {
      res.writeHead(503).end();
      return;
    }
    const held = options.onRequest?.(req, res);
    if (held) held.then(() => handler(req, res), () => req.socket.destroy());
    else handler(req, res);
  };
  let server: Server;
  let tlsFiles: { caFile: string; removeOnClose?: string } | undefined;
  if (options.tls) {
    const { generate } = await import('selfsigned');
    // A subject of its own per certificate: two emulators' certificates trusted together (B24_CA_FILE plus NODE_EXTRA_CA_CERTS) must not shadow each other.
    const pems = await generate([{ name: 'commonName', value: host }, { name: 'organizationName', value: `b24-rules emulator ${randomBytes(6).toString('hex')}` }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }, ...(host !== '127.0.0.1' && host !== 'localhost' ? [{ type: 2 as const, value: host }] : [])] }],
    });
    tlsFiles = await writeCertificate(pems.cert, options.caFile);
    server = createHttpsServer({ key: pems.private, cert: pems.cert }, listener) as unknown as Server;
  } else {
    server = createHttpServer(listener);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new B24RulesError('EMULATOR_LISTEN', `the emulator cannot listen on ${host}:${options.port ?? DEFAULTS.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use; pick another port, or 0 for a free one' : err.message}`, {
          kind: 'operational',
          cause: err,
        }),
      ),
    );
    server.listen(options.port ?? DEFAULTS.port, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  }).catch(async (err: unknown) => {
    if (tlsFiles?.removeOnClose) await rm(tlsFiles.removeOnClose, { recursive: true, force: true });
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  const displayHost = host.includes(':') ? `[${host}]` : host;
  const url = `${options.tls ? 'https' : 'http'}://${displayHost}:${port}`;
  state.portal.domain = `${displayHost}:${port}`;
  state.portal.baseUrl = url;
  const tokenServer = options.tokenServerUrl?.replace(/\/+$/, '');
  state.portal.serverEndpoint = tokenServer ? `${tokenServer}/rest/` : `${url}/oauth/`;

  const handlerTokens = new Map<number, { accessToken: string; refreshToken: string; expiresAt: number }>();
  const eventHub = createEventHub({
    now,
    logger,
    offsetMinutes: state.portal.offsetMinutes,
    portal: {
      domain: state.portal.domain,
      member_id: memberId,
      application_token: auth.app.applicationToken,
      client_id: auth.app.clientId,
      client_endpoint: `${url}/rest/`,
      server_endpoint: state.portal.serverEndpoint,
    },
    issueAuth: (_appId, userId) => {
      // One pair per user while it has a minute left: a portal does not mint tokens per event either.
      let t = handlerTokens.get(userId);
      if (!t || t.expiresAt - now() < 60_000) {
        t = auth.issue(userId, now());
        handlerTokens.set(userId, t);
      }
      return { access_token: t.accessToken, refresh_token: t.refreshToken, expires_in: Math.max(0, Math.floor((t.expiresAt - now()) / 1000)), scope: auth.app.scopes.join(','), status: auth.app.status };
    },
    isAdmin: (userId) => isAdmin(state, userId),
    features: { offlineExtended: options.features?.offlineExtended ?? true, authConnector: options.features?.authConnector ?? true },
    // api-reference/crm/universal/events/index.md: each smart process (and invoices) has its own ONCRMDYNAMICITEM*_{entityTypeId}.
    portalEvents: () => smartTypeIds(state.store).flatMap((t) => ['ADD', 'UPDATE', 'DELETE'].map((w) => `ONCRMDYNAMICITEM${w}_${t}`)),
    ...(options.eventFetch ? { fetch: options.eventFetch } : {}),
  });
  late.hub = eventHub;
  registerEventMethods(registry, eventHub);
  const gate = new WorkGate();
  late.handler = createHandler({ state, dispatcher, bucket, faults, calls, logger, gate });

  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const app: EmulatorApp = {
    client_id: auth.app.clientId,
    client_secret: auth.app.clientSecret,
    access_token: tokens.accessToken,
    refresh_token: tokens.refreshToken,
    application_token: auth.app.applicationToken,
    oauth_url: `${tokenServer ?? url}/oauth/token/`,
    member_id: memberId,
    domain: state.portal.domain,
  };
  const lifecycle = appLifecycle(state, eventHub, app, handlerTokens);
  if (options.appInstalled === false) lifecycle.uninstall();

  const emulator: Emulator = {
    url,
    webhookUrl: `${url}/rest/1/${webhook.code}/`,
    ...(tlsFiles ? { caFile: tlsFiles.caFile } : {}),
    app,
    store,
    calls,
    registry,
    events: { hub: eventHub, emitted },
    setFaults: (f) => faults.set(f),
    hold: (match) => gate.hold(match),
    addWebhook: (o = {}) => {
      const hook = auth.addWebhook(o.userId ?? 1, o.scopes ?? scopes);
      registerSecret(hook.code);
      return `${url}/rest/${hook.userId}/${hook.code}/`;
    },
    issueTokens: (userId) => {
      const t = auth.issue(userId, now());
      registerSecret(t.accessToken);
      registerSecret(t.refreshToken);
      return { access_token: t.accessToken, refresh_token: t.refreshToken };
    },
    get appInstalled() {
      return lifecycle.installed;
    },
    installApp: (o) => lifecycle.install(o),
    uninstallApp: () => lifecycle.uninstall(),
    ownsRefreshToken: (t) => lifecycle.ownsRefreshToken(t),
    grantToken: (params) => lifecycle.grant(params),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await eventHub.idle();
      if (tlsFiles?.removeOnClose) await rm(tlsFiles.removeOnClose, { recursive: true, force: true });
    },
  };
  logger.info({ url, plan, records: Object.fromEntries(store.entities().map((e) => [e, store.count(e)])) }, 'emulator: portal ready');
  return emulator;
}

/**
 * Write the self-signed certificate where clients can trust it: owner-only
 * (0600, in a 0700 directory when the emulator makes one), so no other local
 * user can swap it for their own.
 */
async function writeCertificate(pem: string, file: string | undefined): Promise<{ caFile: string; removeOnClose?: string }> {
  try {
    if (file !== undefined) {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await writeFile(file, pem, { mode: 0o600 });
      await chmod(file, 0o600);
      return { caFile: file };
    }
    const dir = await mkdtemp(join(tmpdir(), 'b24-emulator-tls-'));
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, pem, { mode: 0o600, flag: 'wx' });
    return { caFile, removeOnClose: dir };
  } catch (err) {
    throw new ConfigError(`the emulator cannot write its TLS certificate${file !== undefined ? ` to ${file}` : ''}: ${(err as Error).message}`, { cause: err });
  }
}
