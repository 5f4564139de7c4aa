/**
 * The portals of a deployment as data (`b24rules.portals`): webhook portals
 * added by URL, OAuth portals added by tokens or by ONAPPINSTALL, enabled,
 * disabled, removed. Keyed by member_id. What it returns never carries a
 * token, a webhook code or an application_token; `connection()` gives the
 * one worker that serves a portal what it needs to call it, and registers
 * those secrets for redaction.
 */
import type pg from 'pg';
import type { PortalPlan } from '../client/index.js';
import { registerSecret, registerSecretSlot } from '../redact.js';
import { PortalNotFoundError, PortalsError } from './errors.js';
import { LEASE_DEFAULTS, revokeLeasesSql } from './leases.js';
import { baseUrlOfEndpoint, checkMemberId, checkRuleSet, domainOf, parseWebhookUrl, webhookPortalKey } from './portal-key.js';
import { ms, PORTAL_COLUMNS, toPortal, type Portal, type PortalListing, type PortalRow } from './portal-rows.js';

/** A webhook portal to add (`rules portals add --webhook URL`). */
export interface AddWebhookPortal {
  webhookUrl: string;
  /** The portal's member_id when known; else the key is derived from the URL (portal-key.ts). */
  memberId?: string;
  plan?: PortalPlan;
  ruleSet?: string | null;
  enabled?: boolean;
}

/** An OAuth portal to add by hand, with a token pair obtained elsewhere. */
export interface AddOAuthPortal {
  memberId: string;
  /** The portal's address (`your-portal.bitrix24.com`, or a URL with scheme and port). */
  domain: string;
  /** The REST endpoint; default `https://<domain>/rest/`. */
  clientEndpoint?: string;
  refreshToken: string;
  accessToken?: string;
  /** When the access token expires (ms since the epoch). */
  expiresAt?: number;
  plan?: PortalPlan;
  ruleSet?: string | null;
  enabled?: boolean;
}

/** What a verified ONAPPINSTALL records. */
export interface InstallRecord {
  memberId: string;
  domain: string;
  clientEndpoint: string;
  accessToken: string;
  refreshToken: string;
  expiresAt?: number;
  applicationToken: string;
}

/** What the worker serving a portal needs to call it (secrets registered for redaction). */
export interface PortalConnection {
  memberId: string;
  domain: string;
  /** Scheme, host, port and path prefix, no trailing slash. */
  baseUrl: string;
  plan: PortalPlan;
  ruleSet: string | null;
  enabled: boolean;
  auth: { mode: 'webhook'; userId: string; code: string } | { mode: 'oauth' };
}

/** How an install was recorded: a new portal, a re-install, or refused (a live install with another application_token). */
export type InstallOutcome = { status: 'added' | 'reinstalled'; portal: Portal } | { status: 'refused' };

const PLANS: readonly PortalPlan[] = ['standard', 'enterprise'];

function checkPlan(plan: PortalPlan | undefined): PortalPlan {
  if (plan === undefined) return 'standard';
  if (!PLANS.includes(plan)) throw new PortalsError('PORTAL_INVALID', `a plan is standard or enterprise; got '${String(plan)}'`, { kind: 'user' });
  return plan;
}

function endpointFor(domain: string): string {
  const withScheme = /^https?:\/\//i.test(domain) ? domain : `https://${domain}`;
  try {
    const u = new URL(withScheme);
    return `${u.origin}${u.pathname.replace(/\/+$/, '')}/rest/`;
  } catch {
    throw new PortalsError('PORTAL_INVALID', `the domain is not a portal address: '${domain}' (write your-portal.bitrix24.com)`, { kind: 'user' });
  }
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === '23505';
}

/** The portals table of one control plane. */
export class PortalRegistry {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Every portal with its lease, by member_id. */
  async list(): Promise<PortalListing[]> {
    type LeaseColumns = { l_worker: string | null; l_epoch: string | null; l_expires: Date | null; l_live: boolean | null; l_grace: number | null; l_free_from: Date | null; l_free: boolean | null };
    // A lease not renewed is free only once its grace has passed after its expiry (leases.ts): the row's grace, else the default.
    const { rows } = await this.#pool.query<PortalRow & LeaseColumns>(
      `SELECT ${PORTAL_COLUMNS}, l.worker_id AS l_worker, l.epoch AS l_epoch, l.expires_at AS l_expires, (l.expires_at > now()) AS l_live,
              COALESCE(l.grace_ms, $1::int) AS l_grace, l.expires_at + COALESCE(l.grace_ms, $1::int) * interval '1 millisecond' AS l_free_from,
              (l.expires_at + COALESCE(l.grace_ms, $1::int) * interval '1 millisecond' <= now()) AS l_free
         FROM b24rules.portals p LEFT JOIN b24rules.leases l ON l.member_id = p.member_id
        ORDER BY p.member_id`,
      [LEASE_DEFAULTS.graceMs],
    );
    return rows.map((r) => ({
      ...toPortal(r),
      lease:
        r.l_worker === null
          ? null
          : {
              workerId: r.l_worker,
              epoch: Number(r.l_epoch),
              expiresAt: ms(r.l_expires) ?? 0,
              live: r.l_live === true,
              graceMs: Number(r.l_grace),
              freeFrom: ms(r.l_free_from) ?? 0,
              free: r.l_free === true,
            },
    }));
  }

  /** One portal, or undefined. */
  async get(memberId: string): Promise<Portal | undefined> {
    const { rows } = await this.#pool.query<PortalRow>(`SELECT ${PORTAL_COLUMNS} FROM b24rules.portals p WHERE p.member_id = $1`, [memberId]);
    return rows[0] ? toPortal(rows[0]) : undefined;
  }

  /** One portal; PORTAL_NOT_FOUND when there is none. */
  async require(memberId: string): Promise<Portal> {
    const portal = await this.get(memberId);
    if (!portal) throw new PortalNotFoundError(memberId);
    return portal;
  }

  /** Add a webhook portal; PORTAL_EXISTS when its key is taken. */
  async addWebhook(input: AddWebhookPortal): Promise<Portal> {
    const parts = parseWebhookUrl(input.webhookUrl);
    registerSecret(parts.code);
    const memberId = input.memberId !== undefined ? checkMemberId(input.memberId) : webhookPortalKey(parts);
    const webhookUrl = `${parts.baseUrl}/rest/${parts.userId}/${parts.code}/`;
    return this.#insert(memberId, `INSERT INTO b24rules.portals (member_id, domain, auth_mode, webhook_url, plan, enabled, rule_set)
      VALUES ($1, $2, 'webhook', $3, $4, $5, $6) RETURNING member_id`, [
      memberId,
      domainOf(parts.baseUrl),
      webhookUrl,
      checkPlan(input.plan),
      input.enabled ?? true,
      input.ruleSet ? checkRuleSet(input.ruleSet) : null,
    ]);
  }

  /** Add an OAuth portal with a token pair; PORTAL_EXISTS when the member_id is taken. */
  async addOAuth(input: AddOAuthPortal): Promise<Portal> {
    const memberId = checkMemberId(input.memberId);
    if (!input.refreshToken) throw new PortalsError('PORTAL_INVALID', 'an OAuth portal needs a refresh token (B24_REFRESH_TOKEN)', { kind: 'user' });
    registerSecret(input.refreshToken);
    registerSecret(input.accessToken);
    const clientEndpoint = input.clientEndpoint ?? endpointFor(input.domain);
    return this.#insert(memberId, `INSERT INTO b24rules.portals
      (member_id, domain, auth_mode, client_endpoint, access_token, refresh_token, expires_at, token_version, plan, enabled, rule_set)
      VALUES ($1, $2, 'oauth', $3, $4, $5, $6, 1, $7, $8, $9) RETURNING member_id`, [
      memberId,
      domainOf(clientEndpoint),
      clientEndpoint,
      input.accessToken ?? null,
      input.refreshToken,
      input.expiresAt === undefined ? null : new Date(input.expiresAt),
      checkPlan(input.plan),
      input.enabled ?? true,
      input.ruleSet ? checkRuleSet(input.ruleSet) : null,
    ]);
  }

  async #insert(memberId: string, sql: string, params: unknown[]): Promise<Portal> {
    try {
      await this.#pool.query(sql, params);
    } catch (err) {
      if (isUniqueViolation(err)) throw new PortalsError('PORTAL_EXISTS', `portal '${memberId}' is already registered; see: rules portals list`, { kind: 'user' });
      throw err;
    }
    return this.require(memberId);
  }

  /** Enable or disable a portal. Disabling revokes its lease: the worker serving it stops at its next renewal. */
  async setEnabled(memberId: string, enabled: boolean): Promise<Portal> {
    return this.#update(memberId, 'enabled = $2', [enabled], !enabled);
  }

  /** Change a portal's plan or rule set (null: the shared rules only); its lease is revoked, so it restarts with them within the TTL. */
  async update(memberId: string, change: { plan?: PortalPlan; ruleSet?: string | null }): Promise<Portal> {
    const sets: string[] = [];
    const params: unknown[] = [];
    if (change.plan !== undefined) {
      params.push(checkPlan(change.plan));
      sets.push(`plan = $${params.length + 1}`);
    }
    if (change.ruleSet !== undefined) {
      params.push(change.ruleSet === null ? null : checkRuleSet(change.ruleSet));
      sets.push(`rule_set = $${params.length + 1}`);
    }
    if (sets.length === 0) return this.require(memberId);
    return this.#update(memberId, sets.join(', '), params, true);
  }

  /** Update one portal's row, and revoke its lease in the same statement when `revoke`. */
  async #update(memberId: string, set: string, params: unknown[], revoke: boolean): Promise<Portal> {
    const update = `UPDATE b24rules.portals SET ${set}, updated_at = now() WHERE member_id = $1 RETURNING member_id`;
    const sql = revoke ? `WITH p AS (${update}), r AS (${revokeLeasesSql('SELECT member_id FROM p')}) SELECT count(*)::int AS n FROM p` : `WITH p AS (${update}) SELECT count(*)::int AS n FROM p`;
    const { rows } = await this.#pool.query<{ n: number }>(sql, [memberId, ...params]);
    if (!rows[0]?.n) throw new PortalNotFoundError(memberId);
    return this.require(memberId);
  }

  /**
   * Remove a portal; its lease is revoked and stays until it expires, so the
   * portal added again cannot be taken while the old holder may still count
   * on it. Its state schema stays (the store drops it). PORTAL_NOT_FOUND when unknown.
   */
  async remove(memberId: string): Promise<void> {
    const { rows } = await this.#pool.query<{ n: number }>(
      `WITH p AS (DELETE FROM b24rules.portals WHERE member_id = $1 RETURNING member_id), r AS (${revokeLeasesSql('SELECT member_id FROM p')})
       SELECT count(*)::int AS n FROM p`,
      [memberId],
    );
    if (!rows[0]?.n) throw new PortalNotFoundError(memberId);
  }

  /**
   * The stored application_token of a portal, for the install endpoint's
   * check (registered as a secret): `live` is false once uninstalled.
   */
  async applicationToken(memberId: string): Promise<{ token: string | null; live: boolean } | undefined> {
    const { rows } = await this.#pool.query<{ application_token: string | null; uninstalled_at: Date | null }>(
      'SELECT application_token, uninstalled_at FROM b24rules.portals WHERE member_id = $1',
      [memberId],
    );
    const row = rows[0];
    if (!row) return undefined;
    registerSecretSlot(`app:${memberId}`, [row.application_token]);
    return { token: row.application_token, live: row.application_token !== null && row.uninstalled_at === null };
  }

  /**
   * Record a verified ONAPPINSTALL: a new portal, or a re-install (new token
   * pair, enabled again). One statement, so two installs racing cannot both
   * win: a portal installed and not uninstalled keeps its application_token,
   * and an install with another one is refused.
   */
  async recordInstall(data: InstallRecord): Promise<InstallOutcome> {
    // Slots, not the process-long set: a portal re-installed again and again keeps a bounded number of secrets.
    registerSecretSlot(`app:${data.memberId}`, [data.applicationToken]);
    registerSecretSlot(`stored:${data.memberId}`, [data.accessToken, data.refreshToken]);
    // A re-install replaces the pair a worker may hold in memory: its lease is revoked, so it restarts with the new one.
    const { rows } = await this.#pool.query<{ inserted: boolean }>(
      `WITH ins AS (INSERT INTO b24rules.portals AS p (member_id, domain, auth_mode, client_endpoint, access_token, refresh_token, expires_at, obtained_at,
         token_version, application_token, enabled, installed_at)
       VALUES ($1, $2, 'oauth', $3, $4, $5, $6, now(), 1, $7, true, now())
       ON CONFLICT (member_id) DO UPDATE SET domain = EXCLUDED.domain, auth_mode = 'oauth', client_endpoint = EXCLUDED.client_endpoint,
         access_token = EXCLUDED.access_token, refresh_token = EXCLUDED.refresh_token, expires_at = EXCLUDED.expires_at, obtained_at = now(),
         token_version = p.token_version + 1, application_token = EXCLUDED.application_token, enabled = true,
         installed_at = now(), uninstalled_at = NULL, updated_at = now()
       WHERE p.application_token IS NULL OR p.uninstalled_at IS NOT NULL OR p.application_token = EXCLUDED.application_token
       RETURNING p.member_id, (p.xmax = 0) AS inserted),
       r AS (${revokeLeasesSql('SELECT member_id FROM ins WHERE NOT inserted')})
       SELECT inserted FROM ins`,
      [data.memberId, data.domain, data.clientEndpoint, data.accessToken, data.refreshToken, data.expiresAt === undefined ? null : new Date(data.expiresAt), data.applicationToken],
    );
    const row = rows[0];
    if (!row) return { status: 'refused' };
    return { status: row.inserted ? 'added' : 'reinstalled', portal: await this.require(data.memberId) };
  }

  /**
   * Record ONAPPUNINSTALL: disabled, tokens cleared (token_version raised),
   * uninstalled_at set, the lease revoked (its worker's token writes and
   * renewals fail from now on).
   */
  async recordUninstall(memberId: string): Promise<Portal> {
    return this.#update(
      memberId,
      `enabled = false, access_token = NULL, refresh_token = NULL, expires_at = NULL, token_version = token_version + 1,
      uninstalled_at = COALESCE(uninstalled_at, now())`,
      [],
      true,
    );
  }

  /** What the worker needs to call the portal; PORTAL_NOT_FOUND when unknown. The webhook code is registered as a secret. */
  async connection(memberId: string): Promise<PortalConnection> {
    const { rows } = await this.#pool.query<{
      domain: string;
      auth_mode: 'oauth' | 'webhook';
      client_endpoint: string | null;
      webhook_url: string | null;
      plan: PortalPlan;
      rule_set: string | null;
      enabled: boolean;
    }>('SELECT domain, auth_mode, client_endpoint, webhook_url, plan, rule_set, enabled FROM b24rules.portals WHERE member_id = $1', [memberId]);
    const r = rows[0];
    if (!r) throw new PortalNotFoundError(memberId);
    const common = { memberId, domain: r.domain, plan: r.plan, ruleSet: r.rule_set, enabled: r.enabled };
    if (r.auth_mode === 'webhook') {
      const parts = parseWebhookUrl(r.webhook_url ?? '');
      registerSecret(parts.code);
      return { ...common, baseUrl: parts.baseUrl, auth: { mode: 'webhook', userId: parts.userId, code: parts.code } };
    }
    return { ...common, baseUrl: baseUrlOfEndpoint(r.client_endpoint ?? endpointFor(r.domain)), auth: { mode: 'oauth' } };
  }
}
