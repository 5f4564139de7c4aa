/** The web console of the daemon: pages and JSON for rules, runs and traces, dead letters, health (docs/console.md). */
import { createConsole, type Console, type ConsoleOptions } from './console.js';
import { daemonConsole, daemonPortal, tokenFileExpiry, type DaemonConsoleOptions, type DaemonPortal, type DaemonPortalOptions } from './daemon-portal.js';
import { escapeHtml, html, raw, SafeHtml } from './html.js';
import { DEFAULTS as HEALTH_RING_DEFAULTS, HealthRing, type HealthReaders } from './health-ring.js';
import { parseConsoleOrigins } from './request-checks.js';
import { checkConsoleListen, ConsoleTokenInvalidError, ConsoleTokenRequiredError, isLoopbackHost, readConsoleToken, SECURITY_HEADERS } from './security.js';
import type { ConsoleSource, HealthSample, HealthView, PortalView, RefusedReload } from './source.js';

export {
  createConsole,
  daemonPortal,
  daemonConsole,
  tokenFileExpiry,
  checkConsoleListen,
  readConsoleToken,
  parseConsoleOrigins,
  isLoopbackHost,
  ConsoleTokenRequiredError,
  ConsoleTokenInvalidError,
  SECURITY_HEADERS,
  HealthRing,
  HEALTH_RING_DEFAULTS,
  escapeHtml,
  html,
  raw,
  SafeHtml,
};
export type { Console, ConsoleOptions, ConsoleSource, PortalView, HealthView, HealthSample, RefusedReload, DaemonPortal, DaemonPortalOptions, DaemonConsoleOptions, HealthReaders };
