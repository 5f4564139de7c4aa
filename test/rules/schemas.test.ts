import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT, SCHEMAS_DIR } from '../../engine/paths.js';
import { ruleSchemas, ruleValidator, schemaValidator } from '../../engine/rules/index.js';

type Schema = Record<string, unknown>;
const schemas = [...ruleSchemas()];

function walk(node: unknown, visit: (s: Schema, at: string) => void, at = '#'): void {
  if (Array.isArray(node)) return node.forEach((n, i) => walk(n, visit, `${at}/${i}`));
  if (node === null || typeof node !== 'object') return;
  visit(node as Schema, at);
  for (const [k, v] of Object.entries(node)) if (k !== 'examples' && k !== 'default' && k !== 'const' && k !== 'enum') walk(v, visit, `${at}/${k}`);
}

describe('rule schemas', () => {
  it('compile once under ajv strict mode, draft 2020-12', () => {
    const v = ruleValidator();
    expect(ruleValidator()).toBe(v);
    for (const [rel, s] of schemas) expect((s as Schema).$schema, rel).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('include one file per trigger kind and per action kind', () => {
    expect(schemas.map(([rel]) => rel).filter((r) => r.startsWith('triggers/')).sort()).toEqual(['triggers/changed.schema.json', 'triggers/event.schema.json', 'triggers/manual.schema.json', 'triggers/schedule.schema.json', 'triggers/webhook.schema.json']);
    expect(schemas.map(([rel]) => rel).filter((r) => r.startsWith('actions/')).length).toBe(11);
  });

  it('resolve every relative $ref to a file an editor can open', () => {
    for (const [rel, s] of schemas) {
      walk(s, (node, at) => {
        const ref = node.$ref;
        if (typeof ref !== 'string') return;
        const [path, fragment] = ref.split('#');
        const target = join(SCHEMAS_DIR, dirname(rel), path ?? '');
        expect(existsSync(target), `${rel}${at}: ${ref}`).toBe(true);
        if (fragment) {
          let cur: unknown = JSON.parse(readFileSync(target, 'utf8'));
          for (const seg of fragment.split('/').filter(Boolean)) cur = (cur as Schema)[seg];
          expect(cur, `${rel}${at}: ${ref}`).toBeDefined();
        }
      });
    }
  });

  it('describe every property, for editor completion', () => {
    for (const [rel, s] of schemas) {
      expect((s as Schema).description, rel).toBeTruthy();
      walk(s, (node, at) => {
        const props = node.properties as Record<string, Schema> | undefined;
        if (!props) return;
        for (const [name, p] of Object.entries(props)) expect(Boolean(p.description) || typeof p.$ref === 'string', `${rel}${at}/properties/${name}`).toBe(true);
      });
    }
  });

  it('accept their own examples', () => {
    let checked = 0;
    for (const [rel, s] of schemas) {
      if (rel === 'defs.schema.json') continue;
      const v = schemaValidator(rel);
      for (const ex of ((s as Schema).examples as unknown[] | undefined) ?? []) {
        expect(v(ex), `${rel}: ${JSON.stringify(ex)} ${JSON.stringify(v.errors)}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('are where the rule files point the YAML language server', () => {
    const rules = readdirSync(join(PACKAGE_ROOT, 'rules')).filter((f) => f.endsWith('.yaml'));
    for (const f of rules) {
      const first = readFileSync(join(PACKAGE_ROOT, 'rules', f), 'utf8').split('\n')[0] ?? '';
      const m = /^# yaml-language-server: \$schema=(.+)$/.exec(first);
      if (m) expect(existsSync(join(PACKAGE_ROOT, 'rules', m[1]!.trim())), f).toBe(true);
    }
    expect(existsSync(join(PACKAGE_ROOT, 'rules', '../schemas/rule.schema.json'))).toBe(true);
  });
});
