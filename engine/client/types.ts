/**
 * The public surface of the Bitrix24 REST client (engine/client/). Everything
 * the engine, the CLI and dry-run send goes through an object of this shape.
 */

/** Parameters of a REST call: a JSON-like object (nested objects and arrays allowed). */
export type Params = Record<string, unknown>;

/** The success envelope a portal returns (see API-FACTS §1.3, §1.4). */
export interface B24Envelope<T = unknown> {
  result: T;
  total?: number;
  next?: number;
  time?: B24Time;
}

export interface B24Time {
  start: number;
  finish: number;
  duration: number;
  processing: number;
  date_start: string;
  date_finish: string;
  operating?: number;
  operating_reset_at?: number;
}

/** One command of a batch: a method and its params (encoded by the client into query-string form). */
export interface BatchCommand {
  method: string;
  params?: Params;
}

/** Result of one batch command: either `result` or `error` is set; never both. */
export interface BatchItemResult<T = unknown> {
  key: string;
  ok: boolean;
  result?: T;
  total?: number;
  next?: number;
  /** Present when the command failed: the Bitrix24 error code and description. */
  error?: { error: string; error_description: string };
}

export interface BatchOptions {
  /** Stop at the first failing command. @default false */
  halt?: boolean;
}

export interface ListOptions {
  filter?: Params;
  select?: string[];
  /** Extra params merged into each page request (e.g. `entityTypeId` for crm.item.list). */
  params?: Params;
  /** Stop after this many rows. @default Infinity */
  limit?: number;
}

/** How the client decides whether a method writes (for dry-run's write guard and for retry safety). */
export type MethodKind = 'read' | 'write';

export interface B24ClientApi {
  /** Call one method. Resolves to the whole envelope; rejects with a B24ApiError (or a subclass). */
  call<T = unknown>(method: string, params?: Params): Promise<B24Envelope<T>>;
  /**
   * Send commands as `batch` requests of at most 50 commands each. Keys are kept;
   * `$result[key]` references between commands must stay within one chunk (the
   * client keeps a command with the one it references when splitting).
   */
  batch(commands: Record<string, BatchCommand> | BatchCommand[], options?: BatchOptions): Promise<Record<string, BatchItemResult>>;
  /** Every row of a list method, fast `start=-1` + `>ID` paging. */
  listAll<T = Record<string, unknown>>(method: string, options?: ListOptions): AsyncIterable<T>;
}
