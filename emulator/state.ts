/** What method groups share: the store, the portal's settings, the registry, credentials and the clock. */
import type { AuthState } from './auth.js';
import type { Registry } from './registry.js';
import type { Store } from './store.js';

export type Plan = 'standard' | 'enterprise';

export interface PortalConfig {
  /** Host name the portal answers as (`host:port` of the emulator). */
  domain: string;
  memberId: string;
  /** Portal time zone as minutes from UTC (dates are written with this offset). */
  offsetMinutes: number;
  /** Currency of new records. */
  currency: string;
  plan: Plan;
  /** Base URL (`http://127.0.0.1:PORT`), set once listening. */
  baseUrl: string;
  /** The token server's REST endpoint (`server_endpoint` in token answers and handler `auth`), set once listening. */
  serverEndpoint: string;
  /** What `feature.get` answers per CODE (lower case): `Y` for true. @default rest_offline_extended and rest_auth_connector on */
  features?: Record<string, boolean>;
}

export interface EmulatorState {
  store: Store;
  portal: PortalConfig;
  registry: Registry;
  auth: AuthState;
  now(): number;
}
