/**
 * Items added to a portal's inbox from outside the engine serving it: a worker's webhook receivers
 * store an event for any portal of the deployment, whether or not that worker holds the portal's
 * lease (engine/worker/webhook-receivers.ts). One INSERT on a connection of the control plane's
 * pool, committed when it resolves, so the receiver answers 200 only for a stored event.
 *
 * Safe beside the lease holder, whose engine has the portal's store open exclusively (a session
 * advisory lock, which an INSERT does not take): its engine keeps nothing of the inbox in memory
 * and reads the ready rows by query at every tick; the (source, key) unique key makes a repeated
 * delivery a duplicate, whoever stored the first; ids come from the identity column, shared by every
 * session. A `wait_for` started at the same moment may count the row as an event from before it (its
 * id at most the wait's last id and received before the wait), as it would an event received a
 * moment earlier. A second full store would do more than this needs; this writes one table only.
 */
import type pg from 'pg';
import { toJson } from '../json.js';
import type { InboxItemInput } from '../types.js';
import type { PgBridge } from './bridge.js';
import { openPgStateStore, portalSchema } from './open.js';

/** Where the rows go: the pool the INSERT runs on, and how to create the portal's schema when it has none yet. */
export interface PortalInboxTarget {
  pool: pg.Pool;
  url: string;
  /** The connection the schema is created and migrated on (the worker's shared bridge), when the portal was never served. */
  bridge: () => PgBridge;
}

/** PostgreSQL's "schema does not exist" and "relation does not exist". */
const MISSING = new Set(['3F000', '42P01']);

/** Add `items` to the inbox of portal `memberId`; duplicates (same source and key) are skipped. Resolves once committed. */
export async function addToPortalInbox(target: PortalInboxTarget, memberId: string, items: readonly InboxItemInput[]): Promise<{ inserted: number; duplicates: number }> {
  if (items.length === 0) return { inserted: 0, duplicates: 0 };
  const schema = portalSchema(memberId);
  const values: unknown[] = [];
  const rows = items.map((it) => {
    const at = values.length;
    values.push(it.source, it.key, it.event, it.ruleId, toJson(it.payload), it.processId ?? null, it.messageId ?? null, it.receivedAt);
    return `(${Array.from({ length: 8 }, (_, i) => `$${at + i + 1}`).join(', ')}, 0)`;
  });
  const sql = `INSERT INTO "${schema}".inbox (source, key, event, rule_id, payload, process_id, message_id, received_at, next_attempt_at)
    VALUES ${rows.join(', ')} ON CONFLICT (source, key) DO NOTHING RETURNING id`;
  let result: pg.QueryResult;
  try {
    result = await target.pool.query(sql, values);
  } catch (err) {
    if (!MISSING.has((err as { code?: string }).code ?? '')) throw err;
    // A portal no worker has served yet: create its schema as an engine would (migrations under their lock), then insert.
    openPgStateStore({ url: target.url, portal: memberId, bridge: target.bridge() }).close();
    result = await target.pool.query(sql, values);
  }
  const inserted = result.rowCount ?? 0;
  return { inserted, duplicates: items.length - inserted };
}
