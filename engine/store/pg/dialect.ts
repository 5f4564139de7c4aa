/**
 * The store's SQL, written for SQLite, as PostgreSQL takes it. The table classes keep one text
 * for both stores; what differs only in spelling is translated here, once per statement:
 * - `?` placeholders become `$1, $2, ...`; named ones (`@name`, `:name`, `$name`, with one object
 *   for the parameters) become positional too, in the order they appear;
 * - `INSERT OR IGNORE INTO ...` becomes `INSERT INTO ... ON CONFLICT DO NOTHING`;
 * - an INSERT into a table with an `id` column returns it (`RETURNING id`): SQLite's lastInsertRowid.
 * What has no spelling in the other dialect (SQLite's two-argument MAX, ...) is written portably
 * in the table file instead.
 */

/** Tables whose rows have an `id` primary key (an INSERT into them returns it). */
const ID_TABLES = new Set(['inbox', 'runs', 'effects', 'dlq', 'timers']);

/** One statement, translated. */
export interface PgStatementText {
  /** The PostgreSQL text. */
  text: string;
  /** The parameter names in `$n` order when the statement uses named parameters, else null (positional). */
  names: string[] | null;
  /** Whether the statement returns the inserted row's id. */
  returnsId: boolean;
}

/** Translates one SQLite statement of the store into PostgreSQL (see the module comment). */
export function toPg(sql: string): PgStatementText {
  const { text: placed, names } = placeholders(sql);
  let text = placed.trim().replace(/;\s*$/, '');
  const insert = /^INSERT\s+(OR\s+IGNORE\s+)?INTO\s+("?)(\w+)\2/i.exec(text);
  if (insert) {
    if (insert[1]) text = `${text.replace(/^INSERT\s+OR\s+IGNORE\s+INTO/i, 'INSERT INTO')} ON CONFLICT DO NOTHING`;
    const table = (insert[3] as string).toLowerCase();
    const returnsId = ID_TABLES.has(table) && !/\bRETURNING\b/i.test(text);
    if (returnsId) text = `${text} RETURNING id`;
    return { text, names, returnsId };
  }
  return { text, names, returnsId: false };
}

/** Rewrites placeholders outside string literals, quoted identifiers and comments. */
function placeholders(sql: string): { text: string; names: string[] | null } {
  let out = '';
  let n = 0;
  const names: string[] = [];
  let named = false;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i] as string;
    if (c === "'" || c === '"') {
      const end = closing(sql, i, c);
      out += sql.slice(i, end + 1);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length - 1 : end;
      out += sql.slice(i, stop + 1);
      i = stop;
    } else if (c === '/' && sql[i + 1] === '*') {
      // A block comment (PostgreSQL's nest; the store's never do): copied as it is, a `?` in it is no placeholder.
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? sql.length - 1 : end + 1;
      out += sql.slice(i, stop + 1);
      i = stop;
    } else if (c === '?') {
      out += `$${++n}`;
    } else if ((c === '@' || c === ':' || c === '$') && /[A-Za-z_]/.test(sql[i + 1] ?? '') && !(c === ':' && sql[i - 1] === ':')) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1)) as RegExpExecArray;
      named = true;
      let at = names.indexOf(m[0]);
      if (at === -1) at = names.push(m[0]) - 1;
      out += `$${at + 1}`;
      i += m[0].length;
    } else {
      out += c;
    }
  }
  if (named && n > 0) throw new Error(`a statement mixes named and positional parameters: ${sql.slice(0, 80)}`);
  return { text: out, names: named ? names : null };
}

/** Index of the quote that closes the literal opened at `start` (a doubled quote is an escaped one). */
function closing(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i;
    } else i++;
  }
  return sql.length - 1;
}

/** The positional parameters of a call: named ones are taken from the single object given, in `names` order. */
export function bindParams(statement: PgStatementText, params: unknown[]): unknown[] {
  if (statement.names === null) return params;
  const source = (params[0] ?? {}) as Record<string, unknown>;
  return statement.names.map((name) => source[name] ?? null);
}
