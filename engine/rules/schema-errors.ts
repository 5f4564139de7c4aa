/**
 * ajv errors → human diagnostics: unknown keys get a "did you mean", enums
 * list their allowed values, the "exactly one of" choices (trigger kinds,
 * action kinds) say which kinds exist instead of a dozen "must have required
 * property" lines, and every message carries the YAML position.
 */
import type { ErrorObject } from 'ajv';
import { closest } from '../suggest.js';
import type { SourceDocument } from './source.js';
import { pointerSegments } from './source.js';
import type { Diagnostic } from './types.js';

type Schema = Record<string, unknown>;

/** `actions[0].comment.entity` for `/actions/0/comment/entity`. */
export function displayPath(pointer: string): string {
  let out = '';
  for (const seg of pointerSegments(pointer)) {
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out || 'the rule';
}

function what(pointer: string): string {
  const segs = pointerSegments(pointer);
  if (segs.length === 0) return 'the rule';
  if (segs.length === 1 && segs[0] === 'trigger') return 'the trigger';
  if (segs.length === 2 && segs[0] === 'actions') return `action ${Number(segs[1]) + 1} (${displayPath(pointer)})`;
  if (segs.length === 2 && segs[0] === 'load') return `load '${segs[1]}'`;
  return displayPath(pointer);
}

const show = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 59)}…` : s;
};

function exampleHint(schema: unknown): string | undefined {
  if (!schema || typeof schema !== 'object') return undefined;
  const s = schema as Schema;
  const ex = Array.isArray(s.examples) ? s.examples.slice(0, 2) : [];
  const exText = ex.length ? `e.g. ${ex.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join(' or ')}` : '';
  const desc = typeof s.description === 'string' ? s.description : '';
  return [desc, exText].filter(Boolean).join(' — ') || undefined;
}

/** The keys of a oneOf made only of `{ required: [key] }` branches, or undefined. */
function choiceKeys(e: ErrorObject): string[] | undefined {
  if (e.keyword !== 'oneOf' || !Array.isArray(e.schema)) return undefined;
  const keys: string[] = [];
  for (const branch of e.schema as unknown[]) {
    const b = branch as Schema;
    const req = b.required;
    if (!Array.isArray(req) || req.length !== 1 || Object.keys(b).length !== 1) return undefined;
    keys.push(String(req[0]));
  }
  return keys;
}

const CHOICE_HINTS: Record<string, string> = {
  trigger: 'event: ONCRMDEALUPDATE | schedule: { cron: "0 9 * * 1-5" } | webhook: { path: /forms/contact-us } | manual: {}',
};

/** Translate ajv errors for one document into diagnostics. */
export function translateSchemaErrors(errors: ErrorObject[], doc: SourceDocument, file: string, ruleId: string | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const suppressedPrefixes: Array<{ instancePath: string; schemaPath: string }> = [];
  const unknownKeyAt = new Set(errors.filter((e) => e.keyword === 'additionalProperties').map((e) => e.instancePath));
  for (const e of errors) if (choiceKeys(e)) suppressedPrefixes.push({ instancePath: e.instancePath, schemaPath: `${e.schemaPath}/` });

  const push = (pointer: string, message: string, hint: string | undefined, key?: string) => {
    const sig = `${pointer}|${message}`;
    if (seen.has(sig)) return;
    seen.add(sig);
    const { line, col } = doc.locate(pointer, key);
    const d: Diagnostic = { severity: 'error', code: 'SCHEMA', message, file, line, col, path: key === undefined ? pointer : `${pointer}/${key}` };
    if (ruleId !== undefined) d.ruleId = ruleId;
    if (hint) d.hint = hint;
    out.push(d);
  };

  for (const e of errors) {
    if (suppressedPrefixes.some((s) => e.instancePath === s.instancePath && e.schemaPath.startsWith(s.schemaPath))) continue;
    // Errors inside propertyNames come again as one propertyNames error, reported below.
    if ((e as { propertyName?: string }).propertyName !== undefined && e.keyword !== 'propertyNames') continue;
    const p = e.params as Record<string, unknown>;
    const at = e.instancePath;
    switch (e.keyword) {
      case 'if':
        break;
      case 'oneOf': {
        const keys = choiceKeys(e);
        if (!keys) {
          push(at, `${what(at)} must match exactly one of the allowed forms`, exampleHint(e.parentSchema));
          break;
        }
        const passing = p.passingSchemas;
        if (Array.isArray(passing)) {
          const found = passing.map((i) => keys[Number(i)]).filter(Boolean);
          push(at, `${what(at)} has ${found.map((k) => `'${k}'`).join(' and ')}; keep exactly one of: ${keys.join(', ')}`, CHOICE_HINTS[displayPath(at)] ?? exampleHint(e.parentSchema));
        } else if (!unknownKeyAt.has(at)) {
          push(at, `${what(at)} needs exactly one of: ${keys.join(', ')}`, CHOICE_HINTS[displayPath(at)] ?? exampleHint(e.parentSchema));
        }
        break;
      }
      case 'additionalProperties': {
        const key = String(p.additionalProperty);
        const props = Object.keys(((e.parentSchema as Schema | undefined)?.properties as Schema | undefined) ?? {});
        const guess = closest(key, props);
        const message = props.length
          ? `unknown key '${key}' in ${what(at)}${guess ? `; did you mean '${guess}'?` : ''}`
          : `unknown key '${key}' in ${what(at)}: no keys are allowed here`;
        push(at, message, props.length ? `allowed keys: ${props.join(', ')}` : undefined, key);
        break;
      }
      case 'required': {
        const key = String(p.missingProperty);
        const sub = ((e.parentSchema as Schema | undefined)?.properties as Schema | undefined)?.[key];
        push(at, `${what(at)} is missing the required key '${key}'`, exampleHint(sub) ?? exampleHint(e.parentSchema));
        break;
      }
      case 'enum': {
        const allowed = (p.allowedValues as unknown[]) ?? [];
        const guess = typeof e.data === 'string' ? closest(e.data, allowed.map(String)) : undefined;
        push(at, `${displayPath(at)} must be one of: ${allowed.map(String).join(', ')} (got ${show(e.data)})${guess ? `; did you mean '${guess}'?` : ''}`, exampleHint(e.parentSchema));
        break;
      }
      case 'const':
        push(at, `${displayPath(at)} must be ${show(p.allowedValue)} (got ${show(e.data)})`, exampleHint(e.parentSchema));
        break;
      case 'type': {
        const t = Array.isArray(p.type) ? (p.type as string[]).join(' or ') : String(p.type);
        push(at, `${displayPath(at)} must be ${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t} (got ${show(e.data)})`, exampleHint(e.parentSchema));
        break;
      }
      case 'pattern':
        push(at, `${displayPath(at)} has an invalid value ${show(e.data)}`, exampleHint(e.parentSchema) ?? `must match ${String(p.pattern)}`);
        break;
      case 'propertyNames': {
        const name = String(p.propertyName);
        push(at, `'${name}' is not a valid name in ${displayPath(at)}: use letters, digits and _, starting with a letter or _`, 'e.g. owner, days_idle', name);
        break;
      }
      case 'dependentRequired':
        push(at, `'${String(p.property)}' in ${what(at)} can only be used together with '${String(p.missingProperty)}'`, exampleHint(e.parentSchema));
        break;
      case 'minLength':
      case 'minItems':
      case 'minProperties': {
        const n = Number(p.limit);
        const what = e.keyword === 'minLength' ? 'character' : e.keyword === 'minItems' ? 'item' : 'key';
        push(at, n === 1 ? `${displayPath(at)} must not be empty` : `${displayPath(at)} needs at least ${n} ${what}s`, exampleHint(e.parentSchema));
        break;
      }
      case 'minimum':
      case 'maximum':
        push(at, `${displayPath(at)} must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${String(p.limit)} (got ${show(e.data)})`, exampleHint(e.parentSchema));
        break;
      default:
        push(at, `${displayPath(at)} ${e.message ?? 'is invalid'}`, exampleHint(e.parentSchema));
    }
  }
  return out;
}
