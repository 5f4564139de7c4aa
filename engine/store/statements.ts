/** Prepared statements, compiled once per connection and SQL text (preparing is the costly part of a small query). */
import type { SqlDatabase, SqlStatement } from './sqlite.js';

const caches = new WeakMap<SqlDatabase, Map<string, SqlStatement>>();

export function stmt(db: SqlDatabase, sql: string): SqlStatement {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  let s = cache.get(sql);
  if (!s) {
    s = db.prepare(sql);
    cache.set(sql, s);
  }
  return s;
}
