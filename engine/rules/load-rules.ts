/**
 * The rule loader: files or directories → compiled rules and diagnostics.
 * Validation runs in stages (bytes and encoding, YAML, schema, semantic checks
 * and compilation, duplicate ids across files); each file and each rule keeps
 * its own status, and one bad file or rule never stops the others.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { findSnapshotFile, loadPortalModel, SnapshotError, type PortalModel } from '../portal-model/index.js';
import type { CalendarDefinition } from '../time/index.js';
import { calendarSetOf, isCalendarFile, loadCalendarsOf, NO_CALENDARS, type CalendarSet } from './calendars.js';
import { defaultCatalog, indexCatalog, type CatalogIndex, type MethodCatalog } from './catalog.js';
import { checkGroups, type GroupMember } from './check-groups.js';
import { compileRule } from './compile-rule.js';
import { checkAgainstPortal, resolvePortalNames } from './portal-step.js';
import { DEFAULTS } from './limits.js';
import type { RawRule } from './raw.js';
import { translateSchemaErrors } from './schema-errors.js';
import { validateRuleDocument } from './schema.js';
import { decodeUtf8, parseSource } from './source.js';
import type { CompiledRule, Diagnostic, LoadResult } from './types.js';

export interface LoadOptions {
  /** Environment to check each rule's `env:` names against (missing ones are warnings). Default: not checked. */
  env?: Record<string, string | undefined>;
  /** Method catalog (and event list) to check names against. Default: catalog/methods.json and catalog/events.txt. */
  catalog?: MethodCatalog;
  /** Business calendars for `within:`, instead of the folder's calendars.yaml (loadRuleSource has no folder: none by default). */
  calendars?: Record<string, CalendarDefinition>;
  /**
   * The portal snapshot names resolve from and IDs are checked against: a file, or false for none.
   * @default `.rules/portal.json` in each rule folder or the nearest folder above it, if there is one
   */
  portalSnapshot?: string | false;
  /** A snapshot already read, for every rule (loadRuleSource has no folder: none by default). */
  portal?: PortalModel;
}

interface DocOutcome {
  id?: string;
  line: number;
  col: number;
  rule?: CompiledRule;
  /** Where a JSON pointer of the document is (the checks across rules report at it). */
  locate?: (pointer: string) => { line: number; col: number };
}

interface FileOutcome {
  file: string;
  diagnostics: Diagnostic[];
  docs: DocOutcome[];
}

function catalogOf(options: LoadOptions): CatalogIndex {
  return options.catalog ? indexCatalog(options.catalog) : defaultCatalog();
}

function loadText(text: string, file: string, catalog: CatalogIndex, options: LoadOptions, calendars: CalendarSet, portal: PortalModel | undefined): FileOutcome {
  const { documents, diagnostics } = parseSource(text, file);
  const docs: DocOutcome[] = [];
  for (const doc of documents) {
    const value = doc.value;
    const id = value !== null && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string' ? (value as { id: string }).id : undefined;
    const outcome: DocOutcome = { line: doc.line, col: doc.col };
    if (id !== undefined) outcome.id = id;
    docs.push(outcome);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      diagnostics.push({ severity: 'error', code: 'SCHEMA', message: `a rule must be a mapping of keys (id, trigger, actions, ...), got ${Array.isArray(value) ? 'a list' : typeof value}`, file, line: doc.line, col: doc.col, hint: 'start the document with id: my-rule' });
      continue;
    }
    const errors = validateRuleDocument(value);
    if (errors.length > 0) {
      diagnostics.push(...translateSchemaErrors(errors, doc, file, id));
      continue;
    }
    try {
      const names = resolvePortalNames(value as Record<string, unknown>, doc, file, id, portal);
      diagnostics.push(...names.diagnostics);
      if (names.failed) continue;
      const { rule, diagnostics: more } = compileRule(value as RawRule, doc, { file, catalog, calendars, ...(options.env ? { env: options.env } : {}) });
      diagnostics.push(...more);
      const checked = rule && portal ? checkAgainstPortal(value as Record<string, unknown>, doc, file, rule.id, portal) : [];
      diagnostics.push(...checked);
      if (rule && !checked.some((d) => d.severity === 'error')) {
        if (names.names.length > 0) rule.names = names.names;
        outcome.rule = rule;
        outcome.locate = (pointer) => doc.locate(pointer);
      }
    } catch (err) {
      // A bug in a check must not take the other rules down with it.
      const d: Diagnostic = { severity: 'error', code: 'INTERNAL', message: `the loader failed on this rule: ${err instanceof Error ? err.message : String(err)}`, file, line: doc.line, col: doc.col, hint: 'this is a bug in b24-rules; please report it with the rule file' };
      if (id !== undefined) d.ruleId = id;
      diagnostics.push(d);
    }
  }
  return { file, diagnostics, docs };
}

function finish(outcomes: FileOutcome[]): LoadResult {
  const byId = new Map<string, Array<{ file: string; doc: DocOutcome }>>();
  for (const o of outcomes) for (const doc of o.docs) if (doc.id !== undefined) byId.set(doc.id, [...(byId.get(doc.id) ?? []), { file: o.file, doc }]);
  for (const [id, copies] of byId) {
    if (copies.length < 2) continue;
    for (const c of copies) {
      const others = copies.filter((x) => x !== c).map((x) => `${x.file}:${x.doc.line}:${x.doc.col}`);
      const outcome = outcomes.find((o) => o.file === c.file)!;
      outcome.diagnostics.push({
        severity: 'error',
        code: 'DUPLICATE_ID',
        message: `rule id '${id}' is also used at ${others.join(', ')}`,
        file: c.file,
        line: c.doc.line,
        col: c.doc.col,
        ruleId: id,
        path: '/id',
        hint: 'rule ids must be unique across all rule files; rename one of them',
      });
      delete c.doc.rule;
    }
  }
  checkGroupsOf(outcomes);
  const result: LoadResult = { rules: [], diagnostics: [], files: [] };
  for (const o of outcomes) {
    const rules = o.docs.filter((d) => d.rule).map((d) => d.rule!);
    result.rules.push(...rules);
    result.diagnostics.push(...o.diagnostics.sort((a, b) => a.line - b.line || a.col - b.col));
    result.files.push({
      file: o.file,
      ok: !o.diagnostics.some((d) => d.severity === 'error'),
      ruleIds: rules.map((r) => r.id),
      rules: o.docs.map((d) => ({ id: d.id ?? '', ok: d.rule !== undefined, line: d.line })),
    });
  }
  return result;
}

/** The groups' checks across files (check-groups.ts): each problem in its member's file, and the member does not load. */
function checkGroupsOf(outcomes: FileOutcome[]): void {
  const members: Array<GroupMember & { outcome: FileOutcome; doc: DocOutcome }> = [];
  for (const o of outcomes) {
    for (const doc of o.docs) {
      if (!doc.rule?.group || !doc.locate) continue;
      const locate = doc.locate;
      members.push({ rule: doc.rule, locate: (pointer) => ({ file: o.file, ...locate(pointer) }), outcome: o, doc });
    }
  }
  if (members.length === 0) return;
  const { diagnostics, failed } = checkGroups(members);
  for (const d of diagnostics) members.find((m) => m.rule.id === d.ruleId && m.outcome.file === d.file)?.outcome.diagnostics.push(d);
  for (const m of members) if (failed.has(m.rule)) delete m.doc.rule;
}

/** Load the rules in one text (a file's contents); `file` names it in diagnostics. */
export function loadRuleSource(text: string, file: string, options: LoadOptions = {}): LoadResult {
  if (Buffer.byteLength(text, 'utf8') > DEFAULTS.maxFileBytes) return finish([tooLarge(file, Buffer.byteLength(text, 'utf8'))]);
  return finish([loadText(text, file, catalogOf(options), options, options.calendars ? calendarSetOf(options.calendars) : NO_CALENDARS, options.portal)]);
}

function tooLarge(file: string, size: number): FileOutcome {
  return {
    file,
    docs: [],
    diagnostics: [
      { severity: 'error', code: 'FILE_TOO_LARGE', message: `the file is ${size} bytes; rule files may be at most ${DEFAULTS.maxFileBytes} bytes`, file, line: 1, col: 1, hint: 'split the rules over several files' },
    ],
  };
}

function readError(file: string, code: string, message: string, hint: string): FileOutcome {
  return { file, docs: [], diagnostics: [{ severity: 'error', code, message, file, line: 1, col: 1, hint }] };
}

/** Rule files directly in a directory (not its subdirectories): *.yaml and *.yml, not *.test.yaml / *.test.yml nor calendars.yaml, sorted. */
export async function listRuleFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name) && !/\.test\.ya?ml$/i.test(e.name) && !isCalendarFile(e.name))
    .map((e) => join(dir, e.name))
    .sort();
}

async function loadFile(file: string, catalog: CatalogIndex, options: LoadOptions, calendars: CalendarSet, portal: PortalModel | undefined): Promise<FileOutcome> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    return readError(file, 'FILE_UNREADABLE', `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the path and permissions');
  }
  if (size > DEFAULTS.maxFileBytes) return tooLarge(file, size);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    return readError(file, 'FILE_UNREADABLE', `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the path and permissions');
  }
  if (bytes.length > DEFAULTS.maxFileBytes) return tooLarge(file, bytes.length);
  const { text, diagnostic } = decodeUtf8(bytes, file);
  if (text === undefined) return { file, docs: [], diagnostics: diagnostic ? [diagnostic] : [] };
  return loadText(text, file, catalog, options, calendars, portal);
}

/**
 * Load rule files. `paths` are files or directories (see listRuleFiles).
 * Never throws for bad rules: every problem is a diagnostic, and every good
 * rule is returned.
 */
export async function loadRules(paths: string[], options: LoadOptions = {}): Promise<LoadResult> {
  const catalog = catalogOf(options);
  const outcomes: FileOutcome[] = [];
  const seen = new Set<string>();
  const calendarsByDir = new Map<string, CalendarSet>();
  /** The calendars of a folder, read once; a file with problems is reported once, as a file of its own. */
  const calendarsOf = async (dir: string): Promise<CalendarSet> => {
    if (options.calendars) return calendarSetOf(options.calendars);
    let set = calendarsByDir.get(dir);
    if (!set) {
      set = await loadCalendarsOf(dir);
      calendarsByDir.set(dir, set);
      if (set.file && set.diagnostics.length) outcomes.push({ file: set.file, diagnostics: set.diagnostics, docs: [] });
    }
    return set;
  };
  const models = new Map<string, PortalModel | undefined>();
  /** The snapshot of the rules in a folder, read once per file; one that cannot be used is reported once, as a file of its own. */
  const portalOf = (dir: string): PortalModel | undefined => {
    if (options.portal) return options.portal;
    const file = options.portalSnapshot === false ? undefined : (options.portalSnapshot ?? findSnapshotFile(dir));
    if (file === undefined) return undefined;
    if (!models.has(file)) {
      try {
        models.set(file, loadPortalModel(file));
      } catch (err) {
        if (!(err instanceof SnapshotError)) throw err;
        models.set(file, undefined);
        outcomes.push(readError(file, 'PORTAL_SNAPSHOT_INVALID', err.message, "run 'rules portal pull' to write it again"));
      }
    }
    return models.get(file);
  };
  for (const p of paths) {
    let files: string[];
    let dir: string;
    try {
      const isDir = (await stat(p)).isDirectory();
      files = isDir ? await listRuleFiles(p) : isCalendarFile(p) ? [] : [p];
      dir = isDir ? p : dirname(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      outcomes.push(readError(p, code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${code ?? (err as Error).message}`, 'pass rule files or directories that exist'));
      continue;
    }
    const calendars = await calendarsOf(dir);
    const portal = files.length > 0 ? portalOf(dir) : undefined;
    for (const f of files) {
      if (seen.has(f)) continue;
      seen.add(f);
      outcomes.push(await loadFile(f, catalog, options, calendars, portal));
    }
  }
  return finish(outcomes);
}
