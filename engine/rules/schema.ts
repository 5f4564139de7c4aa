/**
 * The rule JSON Schemas (schemas/*.json, draft 2020-12), compiled once with
 * ajv in strict mode. Schema files carry no $id (so editors resolve their
 * relative $refs from the file); ajv gets each under a base URI mirroring its
 * path instead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { SCHEMAS_DIR } from '../paths.js';

const BASE = 'https://b24-rules.local/schemas/';
/** The entry schema of one rule document. */
export const RULE_SCHEMA = 'rule.schema.json';
/** Schema files that are not part of the rule format (other documents) and are not loaded here. */
const SKIP = new Set(['rule-test.schema.json']);

let cached: ValidateFunction | undefined;
let cachedSchemas: Map<string, unknown> | undefined;

function listSchemaFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return listSchemaFiles(p);
    return e.name.endsWith('.schema.json') ? [p] : [];
  });
}

/** Every rule schema by its path relative to schemas/ (forward slashes). */
export function ruleSchemas(): Map<string, unknown> {
  if (cachedSchemas) return cachedSchemas;
  const out = new Map<string, unknown>();
  for (const file of listSchemaFiles(SCHEMAS_DIR)) {
    const rel = relative(SCHEMAS_DIR, file).split(sep).join('/');
    if (SKIP.has(rel)) continue;
    out.set(rel, JSON.parse(readFileSync(file, 'utf8')) as unknown);
  }
  cachedSchemas = out;
  return out;
}

let cachedAjv: Ajv2020 | undefined;

function ajvInstance(): Ajv2020 {
  if (cachedAjv) return cachedAjv;
  // ajv-formats is CommonJS: under NodeNext its default export may arrive wrapped once more.
  const mod = addFormatsModule as unknown as { default?: unknown };
  const addFormats = (mod.default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;
  // strictRequired is off only because the oneOf branches ({ required: [event] }) name keys declared by the parent's properties, which ajv does not look up.
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true, verbose: true, allowUnionTypes: true });
  addFormats(ajv);
  for (const [rel, schema] of ruleSchemas()) ajv.addSchema(schema as object, BASE + rel);
  cachedAjv = ajv;
  return ajv;
}

/** The compiled validator of one schema file (path relative to schemas/), compiled on first use and cached. */
export function schemaValidator(rel: string): ValidateFunction {
  const validate = ajvInstance().getSchema(BASE + rel);
  if (!validate) throw new Error(`schemas/${rel} is missing`);
  return validate;
}

/** The compiled validator of one rule document (compiled on first use, then cached). */
export function ruleValidator(): ValidateFunction {
  cached ??= schemaValidator(RULE_SCHEMA);
  return cached;
}

/** Validate one rule document; the ajv errors (empty when valid). */
export function validateRuleDocument(doc: unknown): ErrorObject[] {
  const validate = ruleValidator();
  return validate(doc) ? [] : [...(validate.errors ?? [])];
}

