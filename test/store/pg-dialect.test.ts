/**
 * The store's SQL as PostgreSQL takes it (engine/store/pg/dialect.ts), run on the throwaway server through a
 * PgDatabase: placeholders become `$n` outside literals, quoted identifiers and comments (a `?` in a block or
 * line comment is text, not a parameter).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgBridge } from '../../engine/store/index.js';
import { PgDatabase } from '../../engine/store/pg/database.js';
import { toPg } from '../../engine/store/pg/dialect.js';
import { freshDatabase, pgUrl } from '../helpers/pg.js';

describe('the PostgreSQL dialect of the store', () => {
  it('leaves a ? inside comments, literals and quoted identifiers alone', () => {
    expect(toPg('SELECT /* why? because */ ? AS a, \'?\' AS b -- and? this\n, ? AS "c?"').text).toBe('SELECT /* why? because */ $1 AS a, \'?\' AS b -- and? this\n, $2 AS "c?"');
    expect(toPg('SELECT /* ?? unterminated').text).toBe('SELECT /* ?? unterminated');
  });
});

describe.skipIf(!pgUrl())('the PostgreSQL dialect on a server', () => {
  let bridge: PgBridge;
  beforeAll(async () => {
    bridge = PgBridge.open(await freshDatabase('pg_dialect'));
  });
  afterAll(() => bridge?.close());

  it('runs a statement with a ? in a block comment with the right parameters', () => {
    const db = new PgDatabase(bridge, 'public', false);
    expect(db.prepare('SELECT /* the id? the name? */ ?::int AS id, ?::text AS name').get(7, 'x')).toEqual({ id: 7, name: 'x' });
  });
});
