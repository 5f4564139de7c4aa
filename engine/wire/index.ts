/**
 * The Bitrix24 REST wire format (REST v1): the shapes a portal answers with,
 * as documented in API-FACTS (the `§` references below). Types only, and this
 * module imports nothing: the client (engine/client/) reads these shapes and
 * the emulator (emulator/) writes them, and neither takes them from the other,
 * so the emulator checks the client against the documented format rather than
 * against the client's own idea of it.
 */

/**
 * The `time` object of an answer (§1.4): seconds as floats, the dates in the
 * portal's UTC offset. `operating` and `operating_reset_at` are cloud-only
 * (§2.3) and absent on batch commands' `result_time` entries (§3.2).
 */
export interface B24Time {
  /** Unix time the request started (fractional seconds). */
  start: number;
  /** Unix time it finished. */
  finish: number;
  /** `finish - start`, seconds. */
  duration: number;
  /** Processing time, seconds. */
  processing: number;
  /** ISO datetime of `start`, e.g. `2026-05-14T10:26:32+02:00`. */
  date_start: string;
  /** ISO datetime of `finish`. */
  date_finish: string;
  /** Execution seconds this method used for this app or webhook in the current window. */
  operating?: number;
  /** Unix time the oldest one-minute bucket of the operating counter expires. */
  operating_reset_at?: number;
}

/** The success envelope, HTTP 200 (§1.3): `total` and `next` on list methods only, `next` only when another page exists. */
export interface B24Envelope<T = unknown> {
  result: T;
  total?: number;
  next?: number;
  time?: B24Time;
}

/**
 * The error body, HTTP 4xx/5xx (§1.5), also one entry of a batch's
 * `result_error` (§3.2). `error` may be empty on legacy CRM methods, which put
 * the meaning in `error_description` (§1.6).
 */
export interface B24ErrorBody {
  error: string;
  error_description: string;
}

/** A PHP associative array as the portal encodes it (§1.3): `[]` when empty, a list when its keys are 0..n-1, else an object. */
export type PhpMap<T> = Record<string, T> | T[];

/** The `result` of a `batch` call (§3.2): per command key, only the containers that apply to it. */
export interface B24BatchResult {
  /** Results of the commands that succeeded. */
  result: PhpMap<unknown>;
  /** Errors of the commands that failed. */
  result_error: PhpMap<B24ErrorBody>;
  /** `total` of list commands. */
  result_total: PhpMap<number>;
  /** `next` of list commands that have another page. */
  result_next: PhpMap<number>;
  /** Each command's `time`, without `operating`/`operating_reset_at`. */
  result_time: PhpMap<B24Time>;
}
