/** What a read of the tick gives back, and which refusals mean "no such record". */

export type ReadResult = { ok: true; result: unknown } | { ok: false; error: string; notFound: boolean };

/** Portal codes that say the record asked for does not exist. */
const NOT_FOUND_CODES: ReadonlySet<string> = new Set(['NOT_FOUND', 'ERROR_NOT_FOUND', 'OWNER_NOT_FOUND']);
/** Codes too general to tell: legacy CRM methods answer '' and tasks ERROR_CORE, and only the description says "not found". */
const UNSPECIFIC_CODES: ReadonlySet<string> = new Set(['', 'ERROR_CORE']);
const NOT_FOUND_TEXT = /not ?found|is not defined or invalid/i;

/** Whether a refused read means "no such record" (it then loads as null): by the portal's code, and by the description only when the code says nothing more. */
export function isNotFound(error: { error: string; error_description: string }): boolean {
  if (NOT_FOUND_CODES.has(error.error)) return true;
  return UNSPECIFIC_CODES.has(error.error) && NOT_FOUND_TEXT.test(error.error_description);
}
