/**
 * Business calendars of a rules folder: `calendars.yaml` beside the rule files
 * (schemas/calendars.schema.json), compiled by engine/time. Rules name one with
 * `within: NAME`; the loader reads the folder's file before its rules, so a
 * rule's `within:` is checked when it compiles. Problems are diagnostics at the
 * file's line and column, like a rule's.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CalendarError, compileCalendar, type BusinessCalendar, type CalendarDefinition } from '../time/index.js';
import { DEFAULTS } from './limits.js';
import { translateSchemaErrors } from './schema-errors.js';
import { schemaValidator } from './schema.js';
import { decodeUtf8, parseSource, type SourceDocument } from './source.js';
import type { Diagnostic } from './types.js';

/** The file names a rules folder's calendars are read from (the first that exists). */
export const CALENDAR_FILES = ['calendars.yaml', 'calendars.yml'] as const;

/** Whether a file in a rules folder is its calendars file (not a rule file). */
export function isCalendarFile(path: string): boolean {
  return (CALENDAR_FILES as readonly string[]).includes(basename(path).toLowerCase());
}

/** The calendars rules of one folder may name. */
export interface CalendarSet {
  /** The calendars file, when the folder has one. */
  file?: string;
  /** Compiled calendars by name. */
  calendars: ReadonlyMap<string, BusinessCalendar>;
  /** Names defined but refused (a diagnostic says why): a rule naming one is told so, not "unknown". */
  broken: ReadonlySet<string>;
  diagnostics: Diagnostic[];
}

/** No calendars at all. */
export const NO_CALENDARS: CalendarSet = { calendars: new Map(), broken: new Set(), diagnostics: [] };

/** Compile calendars given in code (`LoadOptions.calendars`, tests); throws CalendarError on a bad one. */
export function calendarSetOf(defs: Record<string, CalendarDefinition>): CalendarSet {
  return { calendars: new Map(Object.entries(defs).map(([name, def]) => [name, compileCalendar(name, def)])), broken: new Set(), diagnostics: [] };
}

/** Read the calendars file of the folder `dir` (none there: no calendars). */
export async function loadCalendarsOf(dir: string): Promise<CalendarSet> {
  for (const name of CALENDAR_FILES) {
    const file = join(dir, name);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') continue;
      return failed(file, 'FILE_UNREADABLE', `cannot read the file: ${code ?? (err as Error).message}`, 'check the path and permissions');
    }
    if (bytes.length > DEFAULTS.maxFileBytes) return failed(file, 'FILE_TOO_LARGE', `the file is ${bytes.length} bytes; at most ${DEFAULTS.maxFileBytes} are read`, 'keep calendars.yaml small');
    const { text, diagnostic } = decodeUtf8(bytes, file);
    if (text === undefined) return { ...NO_CALENDARS, file, diagnostics: diagnostic ? [diagnostic] : [] };
    return parseCalendars(text, file);
  }
  return NO_CALENDARS;
}

/** The calendars a rule file (or a folder) sees: those of its folder. */
export function calendarsDirOf(path: string, isDirectory: boolean): string {
  return isDirectory ? path : dirname(path);
}

/** Parse, validate and compile one calendars file's text. */
export function parseCalendars(text: string, file: string): CalendarSet {
  const { documents, diagnostics } = parseSource(text, file);
  const calendars = new Map<string, BusinessCalendar>();
  const broken = new Set<string>();
  const doc = documents[0];
  if (documents.length > 1) diagnostics.push(at(documents[1]!, file, '', 'CALENDAR_INVALID', 'calendars.yaml holds one YAML document; this one is ignored', 'put every calendar under the one calendars: key'));
  if (!doc) return { file, calendars, broken, diagnostics };
  const validate = schemaValidator('calendars.schema.json');
  if (!validate(doc.value)) {
    diagnostics.push(...translateSchemaErrors([...(validate.errors ?? [])], doc, file, undefined));
    const names = doc.value && typeof doc.value === 'object' ? Object.keys(((doc.value as { calendars?: object }).calendars ?? {}) as object) : [];
    for (const n of names) broken.add(n);
    return { file, calendars, broken, diagnostics };
  }
  const defs = (doc.value as { calendars: Record<string, CalendarDefinition> }).calendars;
  for (const [name, def] of Object.entries(defs)) {
    try {
      calendars.set(name, compileCalendar(name, def));
    } catch (err) {
      if (!(err instanceof CalendarError)) throw err;
      broken.add(name);
      diagnostics.push(at(doc, file, pointerOf(name, err.path), 'CALENDAR_INVALID', err.message, hintOf(err.path)));
    }
  }
  return { file, calendars, broken, diagnostics };
}

function at(doc: SourceDocument, file: string, pointer: string, code: string, message: string, hint: string): Diagnostic {
  const { line, col } = doc.locate(pointer);
  return { severity: 'error', code, message, file, line, col, path: pointer, hint };
}

function failed(file: string, code: string, message: string, hint: string): CalendarSet {
  return { ...NO_CALENDARS, file, diagnostics: [{ severity: 'error', code, message, file, line: 1, col: 1, hint }] };
}

/** `hours.Mon-Fri` / `holidays[2]` / `time_zone` → a JSON pointer under the calendar. */
function pointerOf(name: string, path: string): string {
  const esc = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
  const segs = [name];
  const m = /^(\w+)(?:\.(.+)|\[(\d+)\])?$/.exec(path);
  if (m) {
    segs.push(m[1]!);
    if (m[2] !== undefined) segs.push(m[2]);
    if (m[3] !== undefined) segs.push(m[3]);
  }
  return `/calendars/${segs.map(esc).join('/')}`;
}

function hintOf(path: string): string {
  if (path.startsWith('time_zone')) return 'an IANA name such as Europe/Moscow, Europe/Berlin, UTC';
  if (path.startsWith('holidays')) return 'dates as YYYY-MM-DD, e.g. holidays: [2027-01-01, 2027-05-01]';
  return 'weekdays Mon..Sun (ranges Mon-Fri, lists Mon,Wed) to HH:MM-HH:MM, e.g. hours: { Mon-Fri: "09:00-18:00" }';
}
