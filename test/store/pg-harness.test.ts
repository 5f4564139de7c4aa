import { describe, expect, it } from 'vitest';
import { connect, freshDatabase, pgUrl } from '../helpers/pg.js';

describe.skipIf(!pgUrl())('the PostgreSQL test server', () => {
  it('answers a query, and a fresh database is its own', async () => {
    const url = await freshDatabase('harness');
    expect(new URL(url).pathname).toMatch(/^\/harness_[0-9a-f]{8}$/);
    const client = await connect(url);
    try {
      const result = await client.query('SELECT 1 AS one, current_database() AS db');
      expect(result.rows[0]).toEqual({ one: 1, db: new URL(url).pathname.slice(1) });
    } finally {
      await client.end();
    }
  });
});
