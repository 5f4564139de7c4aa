/**
 * The schema overlay (`.rules/schema.json`) `rules portal pull` writes beside
 * the snapshot: the rule schema (by `$ref`) plus the portal's own field codes,
 * stage IDs, pipelines, list values and users as `enum`s with their human
 * names (`markdownEnumDescriptions`), so an editor with yaml-language-server
 * completes them. A rule file points at it with
 * `# yaml-language-server: $schema=<path>/.rules/schema.json`. Templates and
 * names stay allowed wherever an ID is enumerated.
 */
import { dirname, join, relative, sep } from 'node:path';
import { SCHEMAS_DIR } from '../paths.js';
import { PortalModel } from './model.js';
import type { PortalSnapshot } from './snapshot.js';

type Schema = Record<string, unknown>;

/** A template or a name stand where an enumerated ID does. */
const TEMPLATE: Schema = { type: 'string', pattern: '\\{\\{' };
const NAME_REF: Schema = { type: 'object', properties: { name: { type: 'string' }, pipeline: { type: ['string', 'integer'] } }, required: ['name'], additionalProperties: false };

interface Choice {
  value: string | number;
  text: string;
}

function choices(list: Choice[], description: string): Schema {
  const seen = new Map<string | number, string[]>();
  for (const c of list) seen.set(c.value, [...(seen.get(c.value) ?? []), c.text]);
  const values = [...seen.keys()];
  return {
    description,
    anyOf: [{ enum: values, markdownEnumDescriptions: values.map((v) => [...new Set(seen.get(v))].join('; ')) }, TEMPLATE, NAME_REF],
  };
}

/** The overlay for `snapshot`, to be written at `overlayFile` (the `$ref` to the rule schema is relative to it). */
export function buildOverlay(snapshot: PortalSnapshot, overlayFile: string): Schema {
  const model = new PortalModel(snapshot, '');
  const ruleSchema = relative(dirname(overlayFile), join(SCHEMAS_DIR, 'rule.schema.json')).split(sep).join('/');
  const users: Choice[] = snapshot.users.map((u) => ({ value: Number(u.id), text: `${u.name}${u.position ? `, ${u.position}` : ''}` }));
  // Every user-type field shares one list of users (a portal may have thousands).
  const userSchema: Schema = { $ref: '#/definitions/users' };

  // Per field code, across the entities that have it: its description and the values it takes.
  const descriptions = new Map<string, string[]>();
  const values = new Map<string, Choice[]>();
  const userFields = new Set<string>();
  for (const key of Object.keys(snapshot.entities).sort()) {
    const entity = model.entity(key.startsWith('dynamic_') ? { entity: 'item', entityTypeId: Number(key.slice(8)) } : key === 'smart_invoice' ? { entity: 'item', entityTypeId: 31 } : { entity: key })!;
    for (const f of Object.values(entity.model.fields)) {
      descriptions.set(f.code, [...(descriptions.get(f.code) ?? []), `${entity.model.title}: ${f.label} (${f.type}${f.multiple ? ', multiple' : ''})`]);
      const kind = model.valueKind(entity, f);
      const add = (list: Choice[]): void => void values.set(f.code, [...(values.get(f.code) ?? []), ...list]);
      if (kind.kind === 'stage') add(entity.model.pipelines.flatMap((p) => p.stages.map((s) => ({ value: s.id, text: entity.key === 'lead' ? s.name : `${p.name} / ${s.name}` }))));
      else if (kind.kind === 'pipeline') add(entity.model.pipelines.map((p) => ({ value: p.id, text: p.name })));
      else if (kind.kind === 'user') userFields.add(f.code);
      else if (kind.kind === 'list') add(kind.values.map((v) => ({ value: v.id, text: v.name })));
    }
  }
  const codes = [...descriptions.keys()].sort();
  const fieldValue = (code: string): Schema => {
    const list = values.get(code);
    const description = descriptions.get(code)!.join('; ');
    if (userFields.has(code) && !list) return { description, ...userSchema };
    return list ? choices(list, description) : { description };
  };
  const fields: Schema = { properties: Object.fromEntries(codes.map((c) => [c, fieldValue(c)])) };
  const changed: Schema = {
    properties: Object.fromEntries(codes.map((c) => [c, { description: descriptions.get(c)!.join('; '), properties: { from: orList(fieldValue(c)), to: orList(fieldValue(c)) } }])),
  };
  const fieldCode: Schema = { anyOf: [{ enum: codes, markdownEnumDescriptions: codes.map((c) => descriptions.get(c)!.join('; ')) }, { type: 'string' }] };
  const read: Schema = { properties: { filter: { properties: Object.fromEntries(codes.map((c) => [c, { description: descriptions.get(c)!.join('; ') }])) }, select: { items: fieldCode } } };
  const action: Schema = {
    properties: {
      update: { properties: { fields } },
      create: { properties: { fields } },
      notify: { properties: { user: userSchema } },
      task: { properties: { responsible: userSchema } },
      todo: { properties: { responsible: userSchema } },
      round_robin: { properties: { users: { items: userSchema } } },
    },
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: `b24-rules rule on ${snapshot.portal}`,
    description: `The rule schema with the field codes, stages, pipelines, list values and users of ${snapshot.portal}, pulled at ${snapshot.pulledAt}. Generated by 'rules portal pull': do not edit, pull again.`,
    allOf: [{ $ref: ruleSchema }],
    properties: {
      trigger: { properties: { changed } },
      foreach: read,
      load: { additionalProperties: read },
      actions: { items: action },
    },
    definitions: { users: choices(users, 'A user of the portal: the ID, a template, or { name: First Last }.') },
  };
}

/** A value, or a list of values (changed: from/to take either). */
function orList(value: Schema): Schema {
  if (value.$ref) return { description: value.description, anyOf: [{ $ref: value.$ref }, { type: 'array', items: { $ref: value.$ref } }] };
  if (!value.anyOf) return value;
  return { description: value.description, anyOf: [...(value.anyOf as Schema[]), { type: 'array', items: { anyOf: value.anyOf } }] };
}
