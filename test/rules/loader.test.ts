import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRules, loadRuleSource, listRuleFiles, ruleHash, LOADER_DEFAULTS } from '../../engine/rules/index.js';
import { rmSync } from 'node:fs';

const tmp = mkdtempSync(join(tmpdir(), 'b24-rules-loader-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string | Buffer) => {
  const p = join(tmp, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
};

const STALE = `
id: stale-deals
description: Escalate idle deals.
trigger:
  schedule: { cron: "0 9 * * 1-5", timezone: Europe/Berlin }
foreach:
  entity: deal
  as: deal
  filter: { STAGE_SEMANTIC_ID: P, "<DATE_MODIFY": "{{ now | add_days: -14 | iso }}" }
  select: [ID, TITLE, STAGE_ID, ASSIGNED_BY_ID, DATE_MODIFY]
  max_records: 200
load:
  owner: { entity: user, id: "{{ deal.ASSIGNED_BY_ID }}" }
  stages: { method: crm.status.list, params: { filter: { ENTITY_ID: DEAL_STAGE } } }
let:
  days_idle: { days_since: [{ var: deal.DATE_MODIFY }] }
condition:
  and:
    - ">": [{ var: days_idle }, 14]
    - "!=": [{ var: owner.ACTIVE }, false]
dedupe: "stale:{{ deal.ID }}:{{ deal.STAGE_ID }}"
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Idle for {{ days_idle }} days" }
  - round_robin: { users: [1, 2], as: picked }
  - notify: { user: "{{ picked }}", message: "Deal {{ deal.TITLE }}" }
    when: { ">": [{ var: days_idle }, 30] }
concurrency: { key: "{{ deal.ID }}", mode: skip }
on_error: { retries: 5, then: continue }
`;

describe('compiling a rule', () => {
  it('produces the CompiledRule the engine consumes', () => {
    const { rules, diagnostics, files } = loadRuleSource(STALE, 'stale.yaml');
    expect(diagnostics).toEqual([]);
    expect(files).toEqual([{ file: 'stale.yaml', ok: true, ruleIds: ['stale-deals'], rules: [{ id: 'stale-deals', ok: true, line: 2 }] }]);
    const r = rules[0]!;
    expect(r).toMatchObject({
      id: 'stale-deals',
      description: 'Escalate idle deals.',
      enabled: true,
      location: { file: 'stale.yaml', line: 2, col: 1 },
      trigger: { kind: 'schedule', cron: '0 9 * * 1-5', timezone: 'Europe/Berlin' },
      concurrency: { mode: 'skip' },
      onError: { retries: 5, then: 'continue' },
      env: [],
    });
    expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.foreach).toMatchObject({ as: 'deal', entity: 'deal', select: ['ID', 'TITLE', 'STAGE_ID', 'ASSIGNED_BY_ID', 'DATE_MODIFY'], maxRecords: 200 });
    expect(r.foreach?.filter?.render({ now: '2026-03-10T12:00:00.000Z' })).toEqual({ STAGE_SEMANTIC_ID: 'P', '<DATE_MODIFY': '2026-02-24T12:00:00.000Z' });
    expect(r.load.map((l) => [l.name, l.kind])).toEqual([
      ['owner', 'record'],
      ['stages', 'method'],
    ]);
    const owner = r.load[0]!;
    expect(owner.kind === 'record' && owner.id.render({ deal: { ASSIGNED_BY_ID: '7' } })).toBe('7');
    const facts: Record<string, unknown> = { now: '2026-03-10T12:00:00.000Z', deal: { ID: '5', TITLE: 'T', STAGE_ID: 'NEW', DATE_MODIFY: '2026-02-01T12:00:00Z' }, owner: { ACTIVE: true } };
    facts.days_idle = r.let[0]!.expr.evaluate(facts);
    expect(facts.days_idle).toBe(37);
    expect(r.condition?.evaluate(facts)).toEqual({ value: true });
    expect(r.condition?.evaluate({ ...facts, days_idle: 3 })).toEqual({ value: false, reason: 'days_idle (3) > 14 is false' });
    expect(r.dedupe?.render(facts)).toBe('stale:5:NEW');
    expect(r.concurrency.key?.render(facts)).toBe('5');
    expect(r.actions.map((a) => [a.kind, a.index, a.as ?? null, a.location.line])).toEqual([
      ['comment', 0, null, 23],
      ['round_robin', 1, 'picked', 24],
      ['notify', 2, null, 25],
    ]);
    expect(r.actions[0]!.config.render(facts)).toEqual({ entity: 'deal', id: '5', text: 'Idle for 37 days' });
    expect(r.actions[2]!.config.render({ ...facts, picked: 2 })).toEqual({ user: 2, message: 'Deal T' });
    expect(r.actions[2]!.when?.evaluate(facts)).toEqual({ value: true });
    expect(r.actions[0]!.raw).toEqual({ entity: 'deal', id: '{{ deal.ID }}', text: 'Idle for {{ days_idle }} days' });
  });

  it('an event trigger names its entity and loads the record first, as the entity name', () => {
    const { rules, diagnostics } = loadRuleSource(
      `id: won
trigger:
  event: onCrmDealUpdate
  changed: { STAGE_ID: { to: [WON, "C1:WON"] }, ASSIGNED_BY_ID: {} }
load:
  company: { entity: company, id: "{{ deal.COMPANY_ID }}" }
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "{{ changes.STAGE_ID.from }} -> {{ company.TITLE }}" }
`,
      'won.yaml',
    );
    expect(diagnostics).toEqual([]);
    const r = rules[0]!;
    expect(r.trigger).toEqual({ kind: 'event', event: 'ONCRMDEALUPDATE', entity: 'deal', changed: { STAGE_ID: { to: ['WON', 'C1:WON'] }, ASSIGNED_BY_ID: {} } });
    expect(r.load.map((l) => l.name)).toEqual(['deal', 'company']);
    const first = r.load[0]!;
    expect(first).toMatchObject({ name: 'deal', kind: 'record', entity: 'deal' });
    expect(first.kind === 'record' && first.id.source).toBe('{{ event.id }}');
    expect(first.kind === 'record' && first.id.render({ event: { id: '77' } })).toBe('77');
  });

  it.each([
    ['ONCRMLEADADD', 'lead', true],
    ['ONCRMCONTACTUPDATE', 'contact', true],
    ['ONCRMCOMPANYADD', 'company', true],
    ['ONTASKUPDATE', 'task', true],
    ['ONCRMDEALDELETE', 'deal', false],
    ['ONCRMDYNAMICITEMADD', 'item', false],
    ['ONCRMDEALUSERFIELDADD', undefined, false],
    ['ONAPPINSTALL', undefined, false],
  ])('event %s → entity %s, record loaded: %s', (event, entity, loaded) => {
    const { rules, diagnostics } = loadRuleSource(`id: e\ntrigger: { event: ${event} }\nactions:\n  - stop: {}\n`, 'e.yaml');
    expect(diagnostics).toEqual([]);
    const t = rules[0]!.trigger;
    expect(t.kind === 'event' ? t.entity : 'not an event').toBe(entity);
    expect(rules[0]!.load.length).toBe(loaded ? 1 : 0);
  });

  it('applies the defaults', () => {
    const { rules } = loadRuleSource(
      `id: d
trigger: { manual: }
load:
  recent: { entity: lead, filter: { STATUS_ID: NEW } }
actions:
  - stop:
`,
      'd.yaml',
    );
    const r = rules[0]!;
    expect(r).toMatchObject({ enabled: true, description: '', concurrency: { mode: 'serial' }, onError: { retries: 3, then: 'dead_letter' }, trigger: { kind: 'manual' } });
    expect(r.concurrency.key).toBeUndefined();
    expect(r.load[0]).toMatchObject({ kind: 'list', entity: 'lead', limit: LOADER_DEFAULTS.listLimit });
  });

  it('the hash is stable across key order and formatting, and changes with the content', () => {
    const a = loadRuleSource('id: h\ntrigger: { manual: {} }\nactions: [ { stop: { reason: x } } ]\n', 'a.yaml').rules[0]!;
    const b = loadRuleSource('# comment\nactions:\n  - stop:\n      reason: x\ntrigger:\n  manual: {}\nid: h\n', 'b.yaml').rules[0]!;
    const c = loadRuleSource('id: h\ntrigger: { manual: {} }\nactions: [ { stop: { reason: y } } ]\n', 'c.yaml').rules[0]!;
    expect(a.hash).toBe(b.hash);
    expect(a.hash).not.toBe(c.hash);
    expect(ruleHash({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe(ruleHash({ a: [1, { c: 3, d: 2 }], b: 1 }));
  });

  it('a webhook secret may only read env', () => {
    const ok = loadRuleSource('id: w\nenv: [FORM_SECRET]\ntrigger: { webhook: { path: /forms/x, secret: "{{ env.FORM_SECRET }}" } }\nactions:\n  - stop: {}\n', 'w.yaml');
    expect(ok.diagnostics).toEqual([]);
    const t = ok.rules[0]!.trigger;
    expect(t.kind === 'webhook' && t.secret?.render({ env: { FORM_SECRET: 's3cret' } })).toBe('s3cret');
    const bad = loadRuleSource('id: w\ntrigger: { webhook: { path: /forms/x, secret: "{{ request.query.s }}" } }\nactions:\n  - stop: {}\n', 'w.yaml');
    expect(bad.diagnostics.map((d) => d.code)).toEqual(['TEMPLATE_UNKNOWN_NAME']);
  });

  it('warns about env names missing from the given environment', () => {
    const text = 'id: w\nenv: [SYNC_URL, SYNC_TOKEN]\ntrigger: { manual: {} }\nactions:\n  - http: { url: "{{ env.SYNC_URL }}", method: GET }\n';
    const r = loadRuleSource(text, 'w.yaml', { env: { SYNC_URL: 'https://x' } });
    expect(r.rules).toHaveLength(1);
    expect(r.diagnostics).toMatchObject([{ severity: 'warning', code: 'ENV_MISSING', line: 2, col: 17, message: 'environment variable SYNC_TOKEN is not set' }]);
  });

  it('a read-only bulk rule needs no dedupe; a write does', () => {
    const base = 'id: b\ntrigger: { schedule: { cron: "0 * * * *" } }\nforeach: { entity: deal }\nactions:\n';
    expect(loadRuleSource(`${base}  - call: { method: crm.deal.get, params: { id: "{{ deal.ID }}" } }\n  - http: { url: "https://x.test/{{ deal.ID }}" }\n`, 'b.yaml').diagnostics).toEqual([]);
    expect(loadRuleSource(`${base}  - http: { url: "https://x.test", body: { id: "{{ deal.ID }}" } }\n`, 'b.yaml').diagnostics.map((d) => d.code)).toEqual(['UNSAFE_BULK_WRITE']);
    expect(loadRuleSource(`${base}  - call: { method: crm.deal.update, params: { id: 1 } }\n`, 'b.yaml').diagnostics.map((d) => d.code)).toEqual(['UNSAFE_BULK_WRITE']);
  });

  it('checks methods against the catalog it is given', () => {
    const catalog = { methods: [{ method: 'my.read', kind: 'read' as const }, { method: 'my.write', kind: 'write' as const }] };
    const text = 'id: c\ntrigger: { manual: {} }\nload:\n  x: { method: MY.READ }\nactions:\n  - call: { method: my.write }\n  - call: { method: crm.deal.get }\n';
    const r = loadRuleSource(text, 'c.yaml', { catalog });
    expect(r.diagnostics.map((d) => [d.code, d.line, d.col])).toEqual([['METHOD_UNKNOWN', 7, 21]]);
  });
});

describe('isolation and status', () => {
  it('one bad document never stops the good ones in the same file', () => {
    const r = loadRuleSource('id: good-1\ntrigger: { manual: {} }\nactions: [ { stop: {} } ]\n---\nid: bad\ntrigger: { manual: {} }\nactions: [ { nope: {} } ]\n---\nid: good-2\ntrigger: { manual: {} }\nactions: [ { stop: {} } ]\n', 'multi.yaml');
    expect(r.rules.map((x) => x.id)).toEqual(['good-1', 'good-2']);
    expect(r.files[0]).toEqual({
      file: 'multi.yaml',
      ok: false,
      ruleIds: ['good-1', 'good-2'],
      rules: [
        { id: 'good-1', ok: true, line: 1 },
        { id: 'bad', ok: false, line: 5 },
        { id: 'good-2', ok: true, line: 9 },
      ],
    });
    expect(r.diagnostics.every((d) => d.ruleId === 'bad' && d.line === 7)).toBe(true);
  });

  it('loads directories (not *.test.yaml, not subdirectories), reports duplicates across files at both places, and keeps going', async () => {
    const dir = join(tmp, 'set');
    const a = write('set/a.yaml', 'id: shared\ntrigger: { manual: {} }\nactions: [ { stop: {} } ]\n');
    const b = write('set/b.yml', '# second copy\nid: shared\ntrigger: { manual: {} }\nactions: [ { stop: {} } ]\n---\nid: other\ntrigger: { manual: {} }\nactions: [ { stop: {} } ]\n');
    write('set/c.yaml', 'id: [broken\n');
    write('set/a.test.yaml', 'not: a rule\n');
    write('set/fixtures/data.yaml', 'deals: []\n');
    write('set/notes.txt', 'x');
    expect(await listRuleFiles(dir)).toEqual([a, b, join(dir, 'c.yaml')]);
    const r = await loadRules([dir, join(tmp, 'missing.yaml')]);
    expect(r.rules.map((x) => x.id)).toEqual(['other']);
    const dups = r.diagnostics.filter((d) => d.code === 'DUPLICATE_ID');
    expect(dups.map((d) => `${d.file}:${d.line}:${d.col} ${d.message}`)).toEqual([`${a}:1:1 rule id 'shared' is also used at ${b}:2:1`, `${b}:2:1 rule id 'shared' is also used at ${a}:1:1`]);
    expect(r.files.map((f) => [f.file, f.ok])).toEqual([
      [a, false],
      [b, false],
      [join(dir, 'c.yaml'), false],
      [join(tmp, 'missing.yaml'), false],
    ]);
    expect(r.diagnostics.find((d) => d.file === join(tmp, 'missing.yaml'))?.code).toBe('FILE_NOT_FOUND');
  });

  it('an empty file or a comment-only file is fine and holds no rules', async () => {
    const r = await loadRules([write('empty.yaml', ''), write('comments.yaml', '# nothing yet\n')]);
    expect(r.diagnostics).toEqual([]);
    expect(r.files.map((f) => f.ok)).toEqual([true, true]);
  });
});

describe('hostile input', () => {
  it('refuses a file over the size cap without reading it into the parser', async () => {
    const big = write('big.yaml', `id: big\ndescription: "${'x'.repeat(LOADER_DEFAULTS.maxFileBytes)}"\n`);
    const r = await loadRules([big]);
    expect(r.diagnostics).toMatchObject([{ code: 'FILE_TOO_LARGE', line: 1, col: 1 }]);
    expect(r.diagnostics[0]!.message).toContain(`at most ${LOADER_DEFAULTS.maxFileBytes} bytes`);
    expect(loadRuleSource(`a: "${'x'.repeat(LOADER_DEFAULTS.maxFileBytes)}"`, 'big.yaml').diagnostics[0]?.code).toBe('FILE_TOO_LARGE');
  });

  it('survives 100,000 levels of flow nesting with a clear error', () => {
    const n = 100_000;
    const r = loadRuleSource(`id: deep\nlet:\n  x: ${'['.repeat(n)}${']'.repeat(n)}\n`, 'deep.yaml');
    expect(r.rules).toEqual([]);
    expect(r.diagnostics).toMatchObject([{ code: 'NESTING_TOO_DEEP', line: 3, col: 70 }]);
  });

  it('deep block nesting is refused too, at the first level too deep', () => {
    let text = 'id: deep\nlet:\n';
    for (let i = 0; i < 100; i++) text += `${'  '.repeat(i + 1)}k${i}:\n`;
    const r = loadRuleSource(text, 'deep.yaml');
    expect(r.diagnostics).toMatchObject([{ code: 'NESTING_TOO_DEEP', line: 67 }]);
  });

  it('block sequences nested beyond what the parser can recurse into are refused as too deep', () => {
    const r = loadRuleSource(`id: deep\nlet:\n  x:\n    ${'- '.repeat(5000)}x\n`, 'deep.yaml');
    expect(r.rules).toEqual([]);
    expect(r.diagnostics).toMatchObject([{ code: 'NESTING_TOO_DEEP', message: 'the YAML is nested too deeply to read', line: 4 }]);
  });

  it('brackets inside quoted strings and comments do not count as nesting', () => {
    const deep = '['.repeat(100);
    const r = loadRuleSource(`# ${deep}\nid: q\ndescription: "${deep}"\ntrigger: { manual: {} }\nlet:\n  s: '${deep}'\nactions: [ { stop: {} } ]\n`, 'q.yaml');
    expect(r.diagnostics).toEqual([]);
  });

  // A loader that expanded the bomb (10^10 strings) would not return: the test's timeout fails it. What is asserted is
  // where it stops: at the alias count, before the schema or anything else walks the value.
  it('a billion-laughs document is refused at the alias limit, before anything walks its value', () => {
    const lines = ['id: lol', 'trigger: { manual: {} }', 'let:', '  a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i <= 9; i++) lines.push(`  a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(',')}]`);
    lines.push('actions: [ { stop: {} } ]');
    const r = loadRuleSource(lines.join('\n'), 'lol.yaml');
    expect(r.rules).toEqual([]);
    expect(r.diagnostics).toMatchObject([{ code: 'YAML_ALIAS_LIMIT', ruleId: 'lol', message: `the document expands more than ${LOADER_DEFAULTS.maxAliasCount} aliases (a YAML "billion laughs" bomb?)` }]);
  });

  it('aliases within the limit load', () => {
    const text = `id: few\ntrigger: { manual: {} }\nlet:\n  a: &a [1, 2]\n  b: [*a, *a]\nactions: [ { stop: {} } ]\n`;
    const r = loadRuleSource(text, 'few.yaml');
    expect(r.diagnostics).toEqual([]);
    expect(r.rules.map((x) => x.id)).toEqual(['few']);
  });

  it('prototype-pollution keys are refused and nothing is polluted', async () => {
    const texts = [
      'id: p1\ntrigger: { manual: {} }\nactions:\n  - call: { method: crm.deal.get, params: { __proto__: { polluted: yes } } }\n',
      'id: p2\ntrigger: { manual: {} }\nload:\n  prototype: { entity: deal, id: 1 }\nactions: [ { stop: {} } ]\n',
      'id: p3\n"constructor": { prototype: { polluted: yes } }\ntrigger: { manual: {} }\nactions: [ { stop: {} } ]\n',
      'id: p4\ntrigger: { event: ONCRMDEALUPDATE, changed: { __proto__: { to: x } } }\nactions: [ { stop: {} } ]\n',
    ];
    for (const [i, t] of texts.entries()) {
      const r = loadRuleSource(t, `p${i}.yaml`);
      expect(r.rules, t).toEqual([]);
      expect(r.diagnostics.map((d) => d.code), t).toEqual(['FORBIDDEN_KEY']);
      expect(r.diagnostics[0]?.ruleId).toBe(`p${i + 1}`);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('non-UTF-8 bytes are reported with their offset, line and column', async () => {
    const file = write('latin1.yaml', Buffer.concat([Buffer.from('id: x\ndescription: "Gr'), Buffer.from([0xfc]), Buffer.from('n"\n')]));
    const r = await loadRules([file]);
    expect(r.diagnostics).toMatchObject([{ code: 'ENCODING', line: 2, col: 17, message: 'the file is not valid UTF-8: invalid byte 0xfc at byte offset 22' }]);
  });

  it('a truncated multi-byte sequence at the end of the file is reported too', async () => {
    const file = write('trunc.yaml', Buffer.concat([Buffer.from('id: x\n# '), Buffer.from([0xe2, 0x82])]));
    const r = await loadRules([file]);
    expect(r.diagnostics).toMatchObject([{ code: 'ENCODING', line: 2, col: 3 }]);
  });

  it('a UTF-8 byte order mark is accepted', () => {
    const r = loadRuleSource('\uFEFFid: bom\ntrigger: { manual: {} }\nactions: [ { stop: {} } ]\n', 'bom.yaml');
    expect(r.diagnostics).toEqual([]);
    expect(r.rules).toHaveLength(1);
  });
});
