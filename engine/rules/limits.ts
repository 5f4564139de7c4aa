/** Limits that keep hostile or broken rule files from hanging or crashing the loader. */
export const DEFAULTS = {
  /** Largest rule file read, in bytes; bigger files get FILE_TOO_LARGE. @default 1048576 (1 MiB) */
  maxFileBytes: 1024 * 1024,
  /** Most YAML alias expansions per document (billion-laughs guard). @default 100 */
  maxAliasCount: 100,
  /** Deepest nesting of YAML collections in a rule. @default 64 */
  maxDepth: 64,
  /** Most rule documents per file. @default 1000 */
  maxDocuments: 1000,
  /** Default `limit` of a list load. @default 50 */
  listLimit: 50,
  /** Default `max_records` of a foreach. @default 500 */
  maxRecords: 500,
  /** Default `on_error.retries`. @default 3 */
  retries: 3,
  /** Default schedule time zone. @default 'UTC' */
  timezone: 'UTC',
} as const;
