/**
 * A portal named the way a person or a portal names it: by member_id, or by its domain (which can
 * change; the member_id does not). Read-only: `findPortalAt` opens one connection, reads and closes,
 * without migrating the control plane (a dry-run writes nothing).
 */
import pg from 'pg';
import { registerSecret } from '../redact.js';
import { redactDatabaseUrl } from '../store/index.js';
import { passwordOf } from './control-plane.js';
import { PortalNotFoundError, PortalsError } from './errors.js';
import { PORTAL_COLUMNS, toPortal, type Portal, type PortalRow } from './portal-rows.js';

/** Anything that runs a query: a `pg.Pool`, a `pg.Client`. */
export interface PortalQueryable {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * The portal whose member_id is `name`, else the one whose domain is `name` (case-insensitive);
 * undefined when none. Two portals on one domain (one re-added under another key) are refused:
 * name it by its member_id.
 */
export async function findPortal(db: PortalQueryable, name: string): Promise<Portal | undefined> {
  const { rows } = await db.query<PortalRow>(
    `SELECT ${PORTAL_COLUMNS} FROM b24rules.portals p WHERE p.member_id = $1 OR lower(p.domain) = lower($1) ORDER BY (p.member_id = $1) DESC, p.member_id LIMIT 2`,
    [name],
  );
  const [first, second] = rows;
  if (!first) return undefined;
  if (first.member_id !== name && second) {
    throw new PortalsError('PORTAL_INVALID', `two portals have the domain '${name}' (${first.member_id}, ${second.member_id}): name one by its member_id (see rules portals list)`, { kind: 'user' });
  }
  return toPortal(first);
}

/** findPortal on the database at `url`, over a connection of its own; PORTAL_NOT_FOUND when there is none. */
export async function findPortalAt(url: string, name: string): Promise<Portal> {
  const database = redactDatabaseUrl(url);
  registerSecret(passwordOf(url));
  const client = new pg.Client({ connectionString: url, application_name: 'b24-rules' });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw new PortalsError('CONTROL_PLANE_UNAVAILABLE', `cannot use the control plane at ${database}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const portal = await findPortal(client, name);
    if (!portal) throw new PortalNotFoundError(name);
    return portal;
  } catch (err) {
    if (err instanceof PortalsError) throw err;
    if ((err as { code?: string }).code === '42P01' || (err as { code?: string }).code === '3F000') {
      // A database without the control plane holds no portal: the user named the wrong database (not an outage).
      throw new PortalsError('PORTAL_NOT_FOUND', `no portal '${name}': ${database} has no portals (no schema b24rules); give the workers' database (rules portals list shows its portals)`, { cause: err });
    }
    throw new PortalsError('CONTROL_PLANE_UNAVAILABLE', `cannot use the control plane at ${database}: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.end().catch(() => undefined);
  }
}
