/** One door to a state store from a --state argument: a SQLite file path, or a PostgreSQL URL and a portal. */
import { StateStoreError } from './errors.js';
import { isPostgresUrl, openPgStateStore, type PgStateStoreOptions } from './pg/open.js';
import { openStateStore, type StateStore, type StateStoreOptions } from './state-store.js';

export interface OpenStateStoreForOptions extends StateStoreOptions, Omit<PgStateStoreOptions, 'url' | 'portal' | 'now'> {
  /** The portal's member_id: required with a PostgreSQL URL (its state is the portal's schema), ignored for a file. */
  portal?: string;
}

/**
 * Opens the state store `state` names: a `postgres://` or `postgresql://` URL opens the portal's
 * schema in that database (`portal` required); anything else is a SQLite file path (or `:memory:`).
 */
export function openStateStoreFor(state: string, options: OpenStateStoreForOptions = {}): StateStore {
  if (!isPostgresUrl(state)) return openStateStore(state, options);
  if (options.portal === undefined || options.portal === '') {
    throw new StateStoreError('a PostgreSQL state store holds many portals: name the portal (its member_id) whose state to open');
  }
  const { portal, now, synchronous: _s, busyTimeoutMs: _b, ...pg } = options;
  return openPgStateStore({ ...pg, url: state, portal, ...(now ? { now } : {}) });
}
