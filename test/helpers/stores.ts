/**
 * The same state store contract tests on both stores: `forEachStore((stores) => { ...tests... })` runs the
 * tests once on SQLite and once on PostgreSQL (when a test server is there: test/helpers/pg.ts), each test
 * on a place of its own (a temp file, or a fresh portal schema in the test file's database).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { openStateStore, type StateStore } from '../../engine/store/index.js';
import { openPgStateStore } from '../../engine/store/pg/open.js';
import { freshDatabase, pgUrl } from './pg.js';

export type StoreKind = 'sqlite' | 'postgres';

/** Opens stores of one kind for the tests inside forEachStore. */
export interface StoreFactory {
  readonly kind: StoreKind;
  /** A new, empty place for a store: a temp file path (SQLite), a new portal's member_id (PostgreSQL). */
  place(): string;
  /** Opens the store at `place` (a new place when absent); it is closed after the test. */
  open(options?: { place?: string; now?: () => number }): StateStore;
  /** The database URL (PostgreSQL), null for SQLite. */
  readonly url: string | null;
}

/** Runs `body` in a describe per store kind: SQLite always, PostgreSQL when pgUrl() is set. */
export function forEachStore(body: (stores: StoreFactory) => void): void {
  describe('on SQLite', () => body(sqliteStores()));
  describe.skipIf(!pgUrl())('on PostgreSQL', () => body(pgStores()));
}

function sqliteStores(): StoreFactory {
  const dirs: string[] = [];
  const open: StateStore[] = [];
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const place = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'b24-store-'));
    dirs.push(dir);
    return join(dir, 'state', 'engine.db');
  };
  return {
    kind: 'sqlite',
    url: null,
    place,
    open(options = {}) {
      const s = openStateStore(options.place ?? ':memory:', { now: options.now ?? (() => 1_000) });
      open.push(s);
      return s;
    },
  };
}

function pgStores(): StoreFactory {
  let url: string | null = null;
  const open: StateStore[] = [];
  beforeAll(async () => {
    url = await freshDatabase('store_contract');
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });
  afterAll(() => {
    for (const s of open.splice(0)) s.close();
  });
  const place = (): string => `t${randomBytes(6).toString('hex')}`;
  return {
    kind: 'postgres',
    get url() {
      return url;
    },
    place,
    open(options = {}) {
      if (url === null) throw new Error('the PostgreSQL test database is not ready (beforeAll)');
      const s = openPgStateStore({ url, portal: options.place ?? place(), now: options.now ?? (() => 1_000) });
      open.push(s);
      return s;
    },
  };
}

/**
 * Where the engine tests' harness (test/e2e-engine/harness.ts) keeps a test's state: the SQLite file `path`, or,
 * with B24_TEST_STORE=postgres, a fresh portal's schema in one database of the test server per test file
 * (the same engine tests run once on PostgreSQL to find what only SQLite takes). `open` opens it again after a
 * close, as a restarted process does.
 */
export async function engineTestState(path: string): Promise<{ kind: StoreKind; open(now: () => number): StateStore }> {
  if (process.env.B24_TEST_STORE !== 'postgres') return { kind: 'sqlite', open: (now) => openStateStore(path, { now }) };
  if (!pgUrl()) throw new Error('B24_TEST_STORE=postgres needs a PostgreSQL test server (install postgresql, or set B24_TEST_DATABASE_URL)');
  engineDatabase ??= freshDatabase('engine').catch((err: unknown) => {
    engineDatabase = null;
    throw err;
  });
  const url = await engineDatabase;
  const portal = `e${randomBytes(6).toString('hex')}`;
  return { kind: 'postgres', open: (now) => openPgStateStore({ url, portal, now }) };
}

let engineDatabase: Promise<string> | null = null;
