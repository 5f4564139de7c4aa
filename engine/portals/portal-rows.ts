/** The portal and lease rows of the control plane as the rest of the engine sees them (times in ms since the epoch, no secrets). */
import type { PortalPlan } from '../client/index.js';
import { maskWebhookUrl } from './portal-key.js';

/** How the engine authenticates to a portal. */
export type PortalAuthMode = 'oauth' | 'webhook';

/** One portal of the deployment, without its secrets. */
export interface Portal {
  memberId: string;
  /** Host (and port) of the portal; it can change, the member_id does not. */
  domain: string;
  authMode: PortalAuthMode;
  /** An OAuth portal's REST endpoint (`https://x.bitrix24.com/rest/`), if known. */
  clientEndpoint: string | null;
  /** A webhook portal's URL with the code masked. */
  webhookUrl: string | null;
  plan: PortalPlan;
  enabled: boolean;
  /** The sub-folder of `<rules dir>/portals/` whose rules this portal adds to the shared ones; null = the shared rules only. */
  ruleSet: string | null;
  /** Whether an OAuth portal has a refresh token (false after an uninstall). */
  hasTokens: boolean;
  /** Raised by every write of the token pair. */
  tokenVersion: number;
  /** Whether ONAPPINSTALL gave it an application_token (the value is never shown). */
  installed: boolean;
  installedAt: number | null;
  uninstalledAt: number | null;
  updatedAt: number;
}

/** Who holds a portal's lease, as the database says. */
export interface LeaseInfo {
  workerId: string;
  epoch: number;
  /** When it expires by the database's clock (ms since the epoch). */
  expiresAt: number;
  /** Whether it had not expired when read. */
  live: boolean;
  /** The grace its holder took it with (ms): another worker takes it only this long after its expiry. */
  graceMs: number;
  /** When another worker may take it if it is not renewed: the expiry plus the grace (ms since the epoch, the database's clock). */
  freeFrom: number;
  /** Whether that time had passed when read (the lease is free to take). */
  free: boolean;
}

/** A portal with its lease, for `rules portals list`. */
export interface PortalListing extends Portal {
  lease: LeaseInfo | null;
}

/** The columns of b24rules.portals that Portal is read from (no token). */
export const PORTAL_COLUMNS = `p.member_id, p.domain, p.auth_mode, p.client_endpoint, p.webhook_url, p.plan, p.enabled, p.rule_set,
  (p.refresh_token IS NOT NULL) AS has_tokens, p.token_version, (p.application_token IS NOT NULL AND p.uninstalled_at IS NULL) AS installed,
  p.installed_at, p.uninstalled_at, p.updated_at`;

/** A row of PORTAL_COLUMNS. */
export interface PortalRow {
  member_id: string;
  domain: string;
  auth_mode: PortalAuthMode;
  client_endpoint: string | null;
  webhook_url: string | null;
  plan: PortalPlan;
  enabled: boolean;
  rule_set: string | null;
  has_tokens: boolean;
  token_version: string | number;
  installed: boolean;
  installed_at: Date | null;
  uninstalled_at: Date | null;
  updated_at: Date;
}

/** ms since the epoch, or null. */
export function ms(value: Date | null | undefined): number | null {
  return value ? value.getTime() : null;
}

/** A Portal from its row; the webhook URL's code is masked here, once. */
export function toPortal(r: PortalRow): Portal {
  return {
    memberId: r.member_id,
    domain: r.domain,
    authMode: r.auth_mode,
    clientEndpoint: r.client_endpoint,
    webhookUrl: r.webhook_url === null ? null : maskWebhookUrl(r.webhook_url),
    plan: r.plan,
    enabled: r.enabled,
    ruleSet: r.rule_set,
    hasTokens: r.has_tokens,
    tokenVersion: Number(r.token_version),
    installed: r.installed,
    installedAt: ms(r.installed_at),
    uninstalledAt: ms(r.uninstalled_at),
    updatedAt: r.updated_at.getTime(),
  };
}
