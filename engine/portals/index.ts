/**
 * The control plane of a deployment on PostgreSQL (schema `b24rules`): the
 * portals as data, the leases that give each portal to one worker at a time,
 * the install endpoint for ONAPPINSTALL/ONAPPUNINSTALL, and each OAuth
 * portal's token pair, written only by the lease holder. Async on `pg.Pool`;
 * the engine's own state lives in the state store (engine/store/).
 */
export { openControlPlane, type ControlPlane, type ControlPlaneOptions } from './control-plane.js';
export { MIGRATIONS as CONTROL_PLANE_MIGRATIONS, CONTROL_PLANE_VERSION, type Migration } from './migrations.js';
export { PortalRegistry, type AddWebhookPortal, type AddOAuthPortal, type InstallRecord, type InstallOutcome, type PortalConnection } from './registry.js';
export type { Portal, PortalListing, LeaseInfo, PortalAuthMode } from './portal-rows.js';
export { LeaseManager, LEASE_DEFAULTS, REVOKED_WORKER, localValidUntil, fairShare, type Lease, type LeaseManagerOptions } from './leases.js';
export { pgTokenPersistence, type PgTokenPersistenceOptions } from './token-persistence.js';
export { createInstallHandler, INSTALL_DEFAULTS, type InstallHandlerOptions } from './install.js';
export { checkRefreshToken, type AppCredentials, type GrantCheck, type VerifiedGrant } from './token-server.js';
export { portalClientConfig, type PortalClientConfigOptions } from './client-config.js';
export { parseWebhookUrl, maskWebhookUrl, webhookPortalKey, domainOf, checkMemberId, checkRuleSet, type WebhookParts } from './portal-key.js';
export { PortalsError, PortalNotFoundError, type PortalsErrorCode } from './errors.js';
export { findPortal, findPortalAt, type PortalQueryable } from './find-portal.js';
