import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase, SQLITE_DRIVER } from '../../engine/store/sqlite.js';

describe(`sqlite adapter (${SQLITE_DRIVER} on Node ${process.versions.node})`, () => {
  it('picks node:sqlite from Node 24 on (better-sqlite3 12 aborts there when a Statement is collected)', () => {
    const major = Number(process.versions.node.split('.')[0]);
    expect(SQLITE_DRIVER).toBe(major >= 24 ? 'node:sqlite' : 'better-sqlite3');
  });

  it('runs, reads rows and pragmas', () => {
    const db = openDatabase(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)');
    const r = db.prepare('INSERT INTO t (name) VALUES (@name)').run({ name: 'a' });
    expect(r).toMatchObject({ changes: 1, lastInsertRowid: 1 });
    expect({ ...(db.prepare('SELECT * FROM t WHERE id = ?').get(1) as object) }).toEqual({ id: 1, name: 'a' });
    expect(db.prepare('SELECT * FROM t WHERE id = ?').get(2)).toBeUndefined();
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    db.pragma('user_version = 7');
    expect(db.pragma('user_version', { simple: true })).toBe(7);
    db.close();
    expect(db.open).toBe(false);
  });

  it('transactions commit, roll back on a throw, and nest as savepoints', () => {
    const db = openDatabase(':memory:');
    db.exec('CREATE TABLE t (v INTEGER)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const count = () => (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
    db.transaction(() => insert.run(1))();
    expect(count()).toBe(1);
    expect(() =>
      db.transaction(() => {
        insert.run(2);
        throw new Error('boom');
      })(),
    ).toThrow('boom');
    expect(count()).toBe(1);
    db.transaction(() => {
      insert.run(3);
      expect(() =>
        db.transaction(() => {
          insert.run(4);
          throw new Error('inner');
        })(),
      ).toThrow('inner');
    })();
    expect((db.prepare('SELECT v FROM t ORDER BY v').all() as Array<{ v: number }>).map((r) => r.v)).toEqual([1, 3]);
    db.close();
  });

  it('a read-only connection copies a WAL database with VACUUM INTO, and fileMustExist refuses a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sqlite-adapter-'));
    const src = join(dir, 'src.db');
    const db = openDatabase(src);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (42)');
    const ro = openDatabase(src, { readonly: true, fileMustExist: true });
    ro.exec(`VACUUM INTO '${join(dir, 'copy.db')}'`);
    ro.close();
    db.close();
    const copy = openDatabase(join(dir, 'copy.db'));
    expect((copy.prepare('SELECT v FROM t').get() as { v: number }).v).toBe(42);
    copy.close();
    expect(() => openDatabase(join(dir, 'missing.db'), { fileMustExist: true })).toThrow();
  });
});
