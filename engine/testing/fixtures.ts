/**
 * Portal fixtures: a snapshot of records per entity (`leads`, `deals`, `users`,
 * ...), as the emulator's data file takes them. Read from YAML or JSON, checked
 * for shape with file:line errors.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { InputFileError } from '../plan/index.js';
import type { FixtureData } from './types.js';
import { parseYamlSource } from './yaml-source.js';

/** Keys of a fixtures file that are not portal records (not passed to the emulator). */
export const NON_ENTITY_KEYS = new Set(['$schema', 'description', 'events', 'snapshots']);

/** Record lists the emulator seeds (emulator/portal-data.ts), with its aliases. */
export const ENTITY_KEYS = ['users', 'departments', 'leads', 'deals', 'contacts', 'companies', 'statuses', 'categories', 'userfields', 'tasks', 'smart_types', 'items', 'deal_categories', 'dealCategories', 'user_fields', 'userFields', 'smartTypes'];

const SHAPE_HINT = 'a fixtures file maps entity names to lists of records, e.g. `leads: [{ ID: "5", TITLE: "Order", STATUS_ID: NEW }]`';

/** Check fixture data; `lineOf` maps a JSON pointer to a line for messages. */
export function checkFixtures(value: unknown, file: string, lineOf: (pointer: string) => number | undefined = () => undefined): FixtureData {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputFileError('FIXTURES_INVALID', file, lineOf(''), `not a mapping; ${SHAPE_HINT}`);
  }
  const data = value as Record<string, unknown>;
  const entities = (data.entities && typeof data.entities === 'object' ? data.entities : data) as Record<string, unknown>;
  const base = entities === data ? '' : '/entities';
  for (const [entity, rows] of Object.entries(entities)) {
    if (entities === data && NON_ENTITY_KEYS.has(entity)) continue;
    if (entity === 'portal') {
      if (!rows || typeof rows !== 'object' || Array.isArray(rows)) throw new InputFileError('FIXTURES_INVALID', file, lineOf(`${base}/portal`), `'portal' must be a mapping (utcOffset, currency, memberId)`);
      continue;
    }
    // A smart process's items as `rules test --record` writes them: items_{entityTypeId}.
    if (!ENTITY_KEYS.includes(entity) && !/^items_\d+$/.test(entity)) {
      throw new InputFileError('FIXTURES_INVALID', file, lineOf(`${base}/${entity}`), `unknown key '${entity}'. Known: ${ENTITY_KEYS.slice(0, 12).join(', ')}, portal, events`);
    }
    if (!Array.isArray(rows)) throw new InputFileError('FIXTURES_INVALID', file, lineOf(`${base}/${entity}`), `'${entity}' must be a list of records; ${SHAPE_HINT}`);
    rows.forEach((row, i) => {
      if (!row || typeof row !== 'object' || Array.isArray(row)) {
        throw new InputFileError('FIXTURES_INVALID', file, lineOf(`${base}/${entity}/${i}`), `'${entity}' item ${i + 1} must be a record (a mapping of fields)`);
      }
    });
  }
  return data;
}

/** Read a fixtures file (YAML, or JSON for .json). */
export function readFixturesFile(file: string, display = file): FixtureData {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputFileError('FIXTURES_INVALID', display, undefined, `cannot read the fixtures file: ${(err as Error).message}`, { cause: err });
  }
  if (extname(file) === '.json') {
    try {
      return checkFixtures(JSON.parse(text), display);
    } catch (err) {
      if (err instanceof InputFileError) throw err;
      throw new InputFileError('FIXTURES_INVALID', display, undefined, `not JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  const src = parseYamlSource(text);
  const yamlErr = src.doc.errors[0];
  if (yamlErr) throw new InputFileError('FIXTURES_INVALID', display, src.lines.linePos(yamlErr.pos[0]).line, `YAML syntax: ${yamlErr.message.split('\n')[0] ?? ''}`);
  return checkFixtures(src.doc.toJS(), display, (p) => src.lineOf(p));
}

/** Fixture data as the emulator's seed data: without events, snapshots and comments. */
export function portalDataOf(data: FixtureData): Record<string, unknown> {
  const entities = (data.entities && typeof data.entities === 'object' ? data.entities : data) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entities)) {
    if (entities === data && NON_ENTITY_KEYS.has(k)) continue;
    out[k] = v;
  }
  if (entities !== data && data.portal) out.portal = data.portal;
  return out;
}

/** The `events:` of a fixtures file (offline records, as `rules record` writes them), if any. */
export function fixtureEvents(data: FixtureData): unknown[] {
  return Array.isArray(data.events) ? data.events : [];
}
