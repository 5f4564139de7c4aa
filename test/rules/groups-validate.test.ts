/**
 * The checks of a `group:` through `rules validate` as a subprocess: members with
 * another trigger (GROUP_TRIGGER, also across files and for a trigger a group
 * cannot have), two members with one priority (GROUP_PRIORITY), a member without
 * a priority (SCHEMA); each at file:line:col with the rule id and what to write,
 * and the member does not load. A good group, and priorities outside a group,
 * are valid.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'b24-rules-groups-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** Files in a folder of their own; returns the folder. */
function folder(files: Record<string, string>): string {
  const dir = join(tmp, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** A member of group route on `trigger` (a flow mapping), with `priority` (none when null). */
function member(id: string, priority: number | null, trigger = '{ event: ONCRMLEADADD }', extra: string[] = []): string {
  return [`id: ${id}`, 'group: route', ...(priority === null ? [] : [`priority: ${priority}`]), `trigger: ${trigger}`, ...extra, 'actions:', '  - notify: { user: 1, message: hi }', ''].join('\n');
}

const validate = (...args: string[]) => runCli(['validate', ...args]);

describe('rules validate: groups', () => {
  it('a group of members on one event with distinct priorities is valid, and so is priority: outside a group', async () => {
    const dir = folder({ 'a.yaml': `${member('first', 1)}---\n${member('second', 2)}---\nid: alone\npriority: -5\ntrigger: { event: ONCRMLEADADD }\nactions:\n  - notify: { user: 1, message: hi }\n` });
    const r = await validate(dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('1 file, 3 rules: 3 valid, 0 invalid; 0 errors, 0 warnings');
  });

  it('a member on another event, in another file: GROUP_TRIGGER at its trigger, naming the first member and where it is', async () => {
    const dir = folder({ 'a.yaml': member('first', 1), 'b.yaml': member('other-event', 2, '{ event: ONCRMLEADUPDATE }') });
    const r = await validate(dir);
    expect(r.code).toBe(1);
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    expect(r.stdout).toContain(
      `${b}:4:10: error GROUP_TRIGGER [other-event] rule other-event is in group route with trigger event: ONCRMLEADUPDATE, but the group's first member first (${a}:4:10) has event: ONCRMLEADADD: the members of a group share one trigger\n  hint: write the same trigger as first (event: ONCRMLEADADD), or give this rule a group of its own`,
    );
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('2 files, 2 rules: 1 valid, 1 invalid; 1 error, 0 warnings');
  });

  it('the same event with another changed: is another trigger; a schedule member cannot be in a group at all', async () => {
    const dir = folder({
      'a.yaml': [
        member('first', 1),
        member('on-stage', 2, '{ event: ONCRMLEADADD, changed: { STATUS_ID: { to: NEW } } }'),
        member('nightly', 3, '{ schedule: { cron: "0 3 * * *" } }', ['dedupe: "nightly:{{ schedule.at }}"']),
      ].join('---\n'),
    });
    const r = await validate('--format', 'json', dir);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { diagnostics: Array<Record<string, unknown>> };
    expect(doc.diagnostics.map((d) => [d.code, d.ruleId, d.line, d.path])).toEqual([
      ['GROUP_TRIGGER', 'on-stage', 11, '/trigger'],
      ['GROUP_TRIGGER', 'nightly', 18, '/trigger'],
    ]);
    expect(doc.diagnostics[1]!.message).toBe(
      'rule nightly is in group route but has a schedule trigger (schedule: 0 3 * * *): the members of a group compete for one event, so each has the same event trigger without for:',
    );
    expect(doc.diagnostics[1]!.hint).toBe('give it the group\'s event trigger (trigger: { event: ONCRMLEADADD }), or remove group: route');
  });

  it('two members with one priority: GROUP_PRIORITY at each, naming the other and a free priority; neither loads', async () => {
    const dir = folder({ 'a.yaml': `${member('first', 1)}---\n${member('second', 1)}---\n${member('third', 2)}` });
    const file = join(dir, 'a.yaml');
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `${file}:3:11: error GROUP_PRIORITY [first] rule first and second (${file}:10:11) of group route both have priority 1: a group checks its members in priority order, so each needs its own\n  hint: give each member of group route a different priority, e.g. priority: 3 (lower is checked first)`,
    );
    expect(r.stdout).toContain(`${file}:10:11: error GROUP_PRIORITY [second] rule second and first (${file}:3:11) of group route both have priority 1`);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('1 file, 3 rules: 1 valid, 2 invalid; 2 errors, 0 warnings');
  });

  it('a member without a priority is a schema error saying what to add', async () => {
    const dir = folder({ 'a.yaml': member('unordered', null) });
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/a\.yaml:1:1: error SCHEMA \[unordered\] 'group' in the rule can only be used together with 'priority'/);
  });
});
