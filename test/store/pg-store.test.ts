/**
 * What only the PostgreSQL store has (the contract both stores share is tested by forEachStore in the other
 * files): a schema per portal, its own migrations, the synchronous bridge (one connection in a worker
 * thread: shared by portals, timeouts that fail instead of hanging, a lost connection reopened), a
 * transaction PostgreSQL aborted is never committed as if nothing failed, the exclusive hold of a portal's
 * state, dropping a portal's state, and no password in any message or path.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  dropPortalState,
  openPgStateStore,
  openStateStoreFor,
  PgBridge,
  portalKey,
  portalSchema,
  StateStoreError,
  type InboxItemInput,
  type PgBridgeOptions,
  type StateStore,
} from '../../engine/store/index.js';
import { connect, freshDatabase, pgUrl } from '../helpers/pg.js';

function item(key: string): InboxItemInput {
  return { source: 'offline', key, event: 'ONCRMDEALUPDATE', ruleId: null, payload: { FIELDS: { ID: key } }, processId: 'p', messageId: key, receivedAt: 1 };
}

/** A URL with a password (trust auth ignores it): it must show nowhere. */
function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

describe('portal keys', () => {
  it('a member_id of letters and digits is its own key (lowercased); anything else is 32 hex digits of its sha256', () => {
    expect(portalKey('A1B2c3')).toBe('a1b2c3');
    expect(portalSchema('0123456789abcdef0123456789abcdef')).toBe('portal_0123456789abcdef0123456789abcdef');
    expect(portalKey('webhook:ab/cd')).toMatch(/^[0-9a-f]{32}$/);
    expect(portalKey('x'.repeat(41))).toMatch(/^[0-9a-f]{32}$/);
    expect(portalKey('webhook:ab/cd')).not.toBe(portalKey('webhook:ab/ce'));
  });
});

describe.skipIf(!pgUrl())('the state store on PostgreSQL', () => {
  let url = '';
  const stores: StateStore[] = [];
  const bridges: PgBridge[] = [];
  const open = (portal: string, extra: Partial<Parameters<typeof openPgStateStore>[0]> = {}): StateStore => {
    const s = openPgStateStore({ url, portal, now: () => 1_000, ...extra });
    stores.push(s);
    return s;
  };
  const bridge = (options: PgBridgeOptions = {}): PgBridge => {
    const b = PgBridge.open(url, options);
    bridges.push(b);
    return b;
  };
  /** Ends the connections of this test database named `applicationName` (as a killed process's end) and waits until they are gone. */
  const terminate = (applicationName: string): void => {
    const admin = bridge();
    const mine = `application_name = $1 AND datname = current_database()`;
    admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE ${mine}`, [applicationName], { schema: null, inTransaction: false });
    while (Number(admin.query(`SELECT COUNT(*) AS n FROM pg_stat_activity WHERE ${mine}`, [applicationName], { schema: null, inTransaction: false }).rows[0]?.n) > 0);
  };
  beforeAll(async () => {
    url = await freshDatabase('pg_store');
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    for (const b of bridges.splice(0)) b.close();
  });

  it("keeps each portal's state in its own schema: one portal's engine never sees another's rows", async () => {
    const a = open('portalA');
    const b = open('portalB');
    a.inbox.add([item('1'), item('2')]);
    b.inbox.add([item('1')]);
    expect(a.inbox.depth()).toBe(2);
    expect(b.inbox.depth()).toBe(1);
    // The same key on two portals is two items: (source, key) is unique per portal only.
    expect(b.inbox.ready(10).map((i) => i.key)).toEqual(['1']);
    const client = await connect(url);
    try {
      const schemas = await client.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'portal\\_%' ORDER BY 1`);
      expect(schemas.rows.map((r) => r.nspname)).toEqual(['portal_portala', 'portal_portalb']);
      const counts = await client.query(`SELECT (SELECT COUNT(*) FROM portal_portala.inbox) AS a, (SELECT COUNT(*) FROM portal_portalb.inbox) AS b`);
      expect(counts.rows[0]).toEqual({ a: '2', b: '1' });
      const meta = await client.query(`SELECT version FROM portal_portala.schema_meta`);
      expect(meta.rows).toEqual([{ version: a.schemaVersion }]);
    } finally {
      await client.end();
    }
  });

  it('stores of several portals share one bridge (one connection), each statement in its own schema, across a rollback', () => {
    const shared = bridge();
    const a = open('sharedA', { bridge: shared });
    const b = open('sharedB', { bridge: shared });
    a.inbox.add([item('a1')]);
    expect(() =>
      b.transaction(() => {
        b.inbox.add([item('b1')]);
        throw new Error('changed my mind');
      }),
    ).toThrow('changed my mind');
    a.inbox.add([item('a2')]);
    b.inbox.add([item('b2')]);
    expect(a.inbox.ready(10).map((i) => i.key)).toEqual(['a1', 'a2']);
    expect(b.inbox.ready(10).map((i) => i.key)).toEqual(['b2']);
    // Closing a store leaves the shared bridge open for the others.
    a.close();
    expect(b.inbox.depth()).toBe(1);
    expect(shared.closed).toBe(false);
  });

  it('nested transactions are savepoints: an inner failure undoes only the inner part', () => {
    const s = open('nested');
    s.transaction(() => {
      s.inbox.add([item('outer')]);
      expect(() =>
        s.transaction(() => {
          s.inbox.add([item('inner')]);
          throw new Error('inner fails');
        }),
      ).toThrow('inner fails');
    });
    expect(s.inbox.ready(10).map((i) => i.key)).toEqual(['outer']);
  });

  it('a transaction in which a statement failed is not committed as if nothing had happened (PostgreSQL aborted it)', () => {
    const s = open('aborted');
    s.inbox.add([item('before')]);
    const [before] = s.inbox.ready(1);
    expect(() =>
      s.transaction(() => {
        s.inbox.add([item('lost')]);
        try {
          // A run of an item that does not exist: the foreign key refuses it, and the closure swallows the error.
          s.runs.create({ itemId: 999_999, ruleId: 'r', ruleHash: 'h', triggerKey: 't', recordKey: '' });
        } catch {
          // SQLite would go on with the transaction; PostgreSQL has aborted it.
        }
      }),
    ).toThrow(/aborted it; nothing of it was committed/);
    expect(s.inbox.ready(10).map((i) => i.key)).toEqual(['before']);
    // The store works on after it.
    s.inbox.finish(before!.id, 'done');
    expect(s.inbox.countByStatus().done).toBe(1);
  });

  it('a write inside a transaction fails the transaction even when nobody reads its result (writes there do not wait)', () => {
    const s = open('unread');
    s.inbox.add([item('1')]);
    const [it1] = s.inbox.ready(1);
    const runId = s.runs.create({ itemId: it1!.id, ruleId: 'r', ruleHash: 'h', triggerKey: 't', recordKey: '' });
    const { effect } = s.effects.record({ effectKey: 'k', runId, seq: 0, actionIndex: 0, kind: 'comment', method: 'm', params: {}, recovery: 'resend' });
    s.effects.markFailed(effect.id, { code: 'X', message: 'x' });
    expect(() =>
      s.transaction(() => {
        s.inbox.finish(it1!.id, 'done');
        // The run does not exist: the foreign key refuses the update, and adopt() reads no result.
        s.effects.adopt(effect.id, 999_999, 0);
        s.inbox.markAcknowledged([it1!.id]);
      }),
    ).toThrow(/foreign key/);
    expect(s.inbox.get(it1!.id)).toMatchObject({ status: 'pending' });
    expect(s.effects.byId(effect.id)).toMatchObject({ state: 'failed', runId });
    // A nested one: the failure is found by the outer COMMIT even after the inner part released its savepoint.
    expect(() =>
      s.transaction(() => {
        s.transaction(() => s.effects.adopt(effect.id, 999_999, 0));
        s.inbox.finish(it1!.id, 'done');
      }),
    ).toThrow(StateStoreError);
    expect(s.inbox.get(it1!.id)).toMatchObject({ status: 'pending' });
    // A write's changes, read inside its transaction, are its own.
    s.transaction(() => {
      expect(s.effects.resetFailed(runId)).toBe(1);
      expect(s.effects.resetFailed(runId)).toBe(0);
    });
  });

  it('refuses a portal schema of a newer version, as the SQLite store refuses a newer file', async () => {
    open('newer').close();
    const client = await connect(url);
    try {
      await client.query(`UPDATE portal_newer.schema_meta SET version = 99`);
    } finally {
      await client.end();
    }
    expect(() => open('newer')).toThrow(expect.objectContaining({ code: 'STATE_FILE_TOO_NEW' }));
  });

  it("holds a portal's state exclusively when asked: a second exclusive open fails with STATE_PORTAL_BUSY until the first closes; readers open beside it", () => {
    const first = open('exclusive', { exclusive: true });
    first.inbox.add([item('1')]);
    let busy: unknown;
    try {
      open('exclusive', { exclusive: true });
    } catch (err) {
      busy = err;
    }
    expect(busy).toBeInstanceOf(StateStoreError);
    expect(busy).toMatchObject({ code: 'STATE_PORTAL_BUSY', kind: 'operational' });
    const reader = open('exclusive');
    expect(reader.inbox.depth()).toBe(1);
    // Another portal is not held.
    open('exclusive2', { exclusive: true });
    first.close();
    const second = open('exclusive', { exclusive: true });
    expect(second.inbox.depth()).toBe(1);
  });

  it('the lock of an exclusive holder whose connection ends (a killed process) is released with it', () => {
    const holder = open('killed', { exclusive: true, applicationName: 'b24-rules-killed' });
    terminate('b24-rules-killed');
    const next = open('killed', { exclusive: true });
    next.inbox.add([item('1')]);
    expect(next.inbox.depth()).toBe(1);
    holder.close();
  });

  it('reopens a lost connection outside a transaction; inside one, the transaction fails whole', () => {
    const s = open('reconnect', { applicationName: 'b24-rules-reconnect' });
    s.inbox.add([item('1')]);
    terminate('b24-rules-reconnect');
    expect(s.inbox.depth()).toBe(1);
    expect(() =>
      s.transaction(() => {
        s.inbox.add([item('2')]);
        terminate('b24-rules-reconnect');
        s.inbox.add([item('3')]);
      }),
    ).toThrow(StateStoreError);
    expect(s.inbox.ready(10).map((i) => i.key)).toEqual(['1']);
  });

  it('a statement that gets no answer in time fails with a StateStoreError instead of hanging', () => {
    const holder = bridge();
    holder.query('CREATE TABLE IF NOT EXISTS public.held (id INT)', [], { schema: null, inTransaction: false });
    holder.query('BEGIN', [], { schema: null, inTransaction: false });
    holder.query('LOCK TABLE public.held IN ACCESS EXCLUSIVE MODE', [], { schema: null, inTransaction: true });
    const waiter = bridge({ queryTimeoutMs: 300 });
    expect(() => waiter.query('SELECT * FROM public.held', [], { schema: null, inTransaction: false })).toThrow(/canceling statement due to statement timeout/);
    holder.query('ROLLBACK', [], { schema: null, inTransaction: true });
    // The bridge works on after a timed-out statement.
    expect(waiter.query('SELECT 2 AS two', [], { schema: null, inTransaction: false }).rows).toEqual([{ two: 2 }]);
  });

  it("a statement the server does not cancel (the client's query timeout fires) drops its connection: the next runs on a new one, not behind it", () => {
    const b = bridge({ queryTimeoutMs: 300, connectTimeoutMs: 1000, applicationName: 'b24-rules-slow' });
    const opts = { schema: null, inTransaction: false };
    const first = Number(b.query('SELECT pg_backend_pid() AS pid', [], opts).rows[0]?.pid);
    // statement_timeout off on this session: only the client's query timeout (300 + 1000 ms) ends the wait.
    b.query(`SELECT set_config('statement_timeout', '0', false)`, [], opts);
    expect(() => b.query('SELECT pg_sleep(8)', [], opts)).toThrow(/Query read timeout/);
    // Before: this waited behind the sleep past the bridge's wait (6.3 s) and the bridge closed for good.
    const next = b.query('SELECT pg_backend_pid() AS pid, current_setting($1) AS timeout', ['statement_timeout'], opts).rows[0];
    expect(Number(next?.pid)).not.toBe(first);
    expect(next?.timeout).toBe('300ms');
    expect(b.closed).toBe(false);
  });

  it('a connection lost inside a transaction fails every later statement of it (none runs autocommitted on a new connection); the next transaction reconnects', () => {
    const s = open('lostintx', { applicationName: 'b24-rules-lostintx' });
    expect(() =>
      s.transaction(() => {
        s.inbox.add([item('1')]);
        expect(s.inbox.depth()).toBe(1);
        terminate('b24-rules-lostintx');
        s.inbox.add([item('2')]);
        s.inbox.add([item('3')]);
      }),
    ).toThrow(StateStoreError);
    expect(s.inbox.depth()).toBe(0);
    s.transaction(() => s.inbox.add([item('4')]));
    expect(s.inbox.ready(10).map((i) => i.key)).toEqual(['4']);
  });

  describe('a server that accepts and never answers', () => {
    let silent: Server;
    const sockets: Socket[] = [];
    let port = 0;
    beforeAll(async () => {
      silent = createServer((socket) => {
        sockets.push(socket);
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      port = (silent.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('fails to open within the connect timeout, naming the server and the database but never the password', () => {
      const secretUrl = `postgres://engine:S3cretPassw0rd@127.0.0.1:${port}/rules`;
      let error: unknown;
      try {
        openPgStateStore({ url: secretUrl, portal: 'p', connectTimeoutMs: 300, queryTimeoutMs: 300 });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(StateStoreError);
      const message = (error as Error).message;
      expect(message).toContain(`postgres://engine@127.0.0.1:${port}/rules`);
      expect(message).not.toContain('S3cretPassw0rd');
      expect(JSON.stringify(error)).not.toContain('S3cretPassw0rd');
    });
  });

  it('shows no password in its path or in a refused statement', () => {
    const secret = 'An0therS3cret';
    const s = openPgStateStore({ url: withPassword(url, secret), portal: 'redacted' });
    stores.push(s);
    expect(s.path).toBe(`${new URL(url).protocol}//postgres@${new URL(url).host}${new URL(url).pathname}#portal_redacted`);
    expect(s.path).not.toContain(secret);
    let error: unknown;
    try {
      s.runs.create({ itemId: 12345, ruleId: 'r', ruleHash: 'h', triggerKey: 't', recordKey: '' });
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).toMatch(/foreign key/);
    expect((error as Error).message).not.toContain(secret);
  });

  it('openStateStoreFor opens a portal of a postgres:// URL, and asks for the portal when none is named', () => {
    const s = openStateStoreFor(url, { portal: 'viaFor', now: () => 7 });
    stores.push(s);
    s.inbox.add([item('1')]);
    expect(s.path.endsWith('#portal_viafor')).toBe(true);
    expect(s.now()).toBe(7);
    expect(() => openStateStoreFor(url)).toThrow(/name the portal/);
    const file = openStateStoreFor(':memory:');
    stores.push(file);
    expect(file.path).toBe(':memory:');
  });

  it("dropPortalState drops a portal's whole state; the portal starts empty when opened again", async () => {
    const s = open('dropme');
    s.inbox.add([item('1')]);
    s.close();
    expect(await dropPortalState(url, 'dropme')).toBe(true);
    expect(await dropPortalState(url, 'dropme')).toBe(false);
    expect(open('dropme').inbox.depth()).toBe(0);
    // With the control plane's own client.
    const client = await connect(url);
    try {
      expect(await dropPortalState(client, 'dropme')).toBe(true);
    } finally {
      await client.end();
    }
  });
});
