/**
 * The state file and its WAL companions are owner-only (issue 13, item 4): the
 * WAL holds stored payloads (people's e-mails and phones) and the ledger's
 * request params. With umask 022 SQLite used to create `-wal` and `-shm` 0644
 * beside a main file that was chmod'ed to 0600 only after they existed.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStateStore, type InboxItemInput, type StateStore } from '../../engine/store/index.js';
import { SQLITE_DRIVER } from '../../engine/store/sqlite.js';

const dirs: string[] = [];
const stores: StateStore[] = [];
let umask: number;
beforeEach(() => {
  umask = process.umask(0o022);
});
afterEach(() => {
  process.umask(umask);
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'b24-modes-'));
  dirs.push(dir);
  return join(dir, 'state', 'state.db');
}

const item = (n: number): InboxItemInput => ({ source: 'form', key: `k${n}`, event: null, ruleId: 'r', payload: { email: `person${n}@example.com` }, receivedAt: 1 });
const modes = (path: string) => [path, `${path}-wal`, `${path}-shm`].map((p) => (existsSync(p) ? (statSync(p).mode & 0o777).toString(8) : 'missing'));

describe(`state file modes (${SQLITE_DRIVER}, umask 022)`, () => {
  it('a new state file, its -wal and its -shm are 0600 after the first write', () => {
    const path = tempPath();
    const store = openStateStore(path);
    stores.push(store);
    store.inbox.add([item(1)]);
    expect(modes(path)).toEqual(['600', '600', '600']);
  });

  it('reopening keeps them 0600, and companions left looser by an earlier version are tightened to the main file', () => {
    const path = tempPath();
    const first = openStateStore(path);
    first.inbox.add([item(1)]);
    // What a crashed daemon of an earlier version left behind.
    chmodSync(`${path}-wal`, 0o644);
    chmodSync(`${path}-shm`, 0o644);
    const second = openStateStore(path);
    stores.push(first, second);
    second.inbox.add([item(2)]);
    expect(modes(path)).toEqual(['600', '600', '600']);
  });
});
