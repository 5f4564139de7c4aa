/**
 * The emulated portal's records: one table per entity (`lead`, `deal`,
 * `contact`, `company`, `user`, `department`, `status`, `category`,
 * `userfield`, `task`, `timeline_comment`, `activity`, `notification`,
 * `workflow`), rows as the portal returns them, ids as strings.
 * Reads hand out copies, so a caller cannot change a record behind the
 * emulator's back. List queries read through a table's index (table-index.ts),
 * which every write keeps up to date once a query has built it.
 */
import { TableIndex } from './table-index.js';

export type Row = Record<string, unknown>;

/** Shapes a seeded row the way the portal would have stored it (fills defaults, formats values). */
export type SeedNormalizer = (entity: string, row: Row) => Row;

/** Which key carries the id: legacy records use `ID`, tasks and categories `id`. */
function idKeyOf(row: Row): 'ID' | 'id' {
  return 'ID' in row || !('id' in row) ? 'ID' : 'id';
}

export class Store {
  readonly #tables = new Map<string, Map<string, Row>>();
  readonly #seq = new Map<string, number>();
  readonly #indexes = new Map<string, TableIndex>();
  readonly #versions = new Map<string, number>();
  #normalize: SeedNormalizer = (_e, r) => r;

  /** @internal set by the emulator so seeded rows get the same shape as written ones. */
  setNormalizer(fn: SeedNormalizer): void {
    this.#normalize = fn;
  }

  #table(entity: string): Map<string, Row> {
    let t = this.#tables.get(entity);
    if (!t) {
      t = new Map();
      this.#tables.set(entity, t);
    }
    return t;
  }

  /** Add rows as they are (keeping their ids; rows without one get the next). Returns their ids. */
  seed(entity: string, rows: Row[]): string[] {
    return rows.map((raw) => {
      const key = idKeyOf(raw);
      const given = raw[key];
      const id = given === undefined || given === null || given === '' ? String(this.nextId(entity)) : String(given);
      const row = this.#normalize(entity, { ...structuredClone(raw), [key]: id });
      this.#store(entity, id, row);
      if (/^\d+$/.test(id)) this.#seq.set(entity, Math.max(this.#seq.get(entity) ?? 0, Number(id)));
      return id;
    });
  }

  /** A copy of one record, or undefined. */
  get(entity: string, id: string | number): Row | undefined {
    const row = this.#table(entity).get(String(id));
    return row === undefined ? undefined : structuredClone(row);
  }

  /** Copies of all records of an entity, by ascending numeric id. */
  all(entity: string): Row[] {
    return [...this.#table(entity).entries()].sort(([a], [b]) => Number(a) - Number(b) || a.localeCompare(b)).map(([, r]) => structuredClone(r));
  }

  /** @internal The live records of an entity, unsorted and not copied: for read-only scans inside the emulator. */
  scan(entity: string): readonly Row[] {
    return [...this.#table(entity).values()];
  }

  /**
   * @internal The index of an entity's table, built on first use and kept up to date by every write; check
   * `valid` before trusting it (an invalid one is dropped at the next write).
   */
  index(entity: string): TableIndex {
    let index = this.#indexes.get(entity);
    if (!index) {
      index = new TableIndex(this.#table(entity));
      this.#indexes.set(entity, index);
    }
    return index;
  }

  /** @internal A number that changes with every write of an entity's table (seed, put, delete). */
  version(entity: string): number {
    return this.#versions.get(entity) ?? 0;
  }

  /** Number of records of an entity. */
  count(entity: string): number {
    return this.#table(entity).size;
  }

  /** Reserve the next numeric id of an entity (also used for multifield value ids). */
  nextId(entity: string): number {
    const n = (this.#seq.get(entity) ?? 0) + 1;
    this.#seq.set(entity, n);
    return n;
  }

  /** Insert or replace a record under `id`. */
  put(entity: string, id: string | number, row: Row): void {
    this.#store(entity, String(id), structuredClone(row));
    if (/^\d+$/.test(String(id))) this.#seq.set(entity, Math.max(this.#seq.get(entity) ?? 0, Number(id)));
  }

  /** Delete a record; false when there was none. */
  delete(entity: string, id: string | number): boolean {
    const table = this.#table(entity);
    const key = String(id);
    const before = table.get(key);
    if (before === undefined) return false;
    table.delete(key);
    this.#versions.set(entity, this.version(entity) + 1);
    this.#indexFor(entity)?.onDelete(key, before);
    return true;
  }

  #store(entity: string, id: string, row: Row): void {
    const table = this.#table(entity);
    const before = table.get(id);
    table.set(id, row);
    this.#versions.set(entity, this.version(entity) + 1);
    this.#indexFor(entity)?.onPut(id, before, row);
  }

  /** The index to keep up to date, if any: an invalid one is dropped, to be rebuilt by the next query. */
  #indexFor(entity: string): TableIndex | undefined {
    const index = this.#indexes.get(entity);
    if (index && !index.valid) {
      this.#indexes.delete(entity);
      return undefined;
    }
    return index;
  }

  /** Entity names that have a table. */
  entities(): string[] {
    return [...this.#tables.keys()].sort();
  }
}
