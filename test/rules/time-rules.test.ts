/** Time in the rule language: calendars.yaml beside the rules, `within:`, `delay:` and the `for:` of an event trigger (issue 18). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDiagnostics, listRuleFiles, loadRules, loadRuleSource } from '../../engine/rules/index.js';
import { offlineEventNames } from '../../engine/sources/offline-plugin.js';

const tmp = mkdtempSync(join(tmpdir(), 'b24-rules-time-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function folder(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

const CALENDARS = `# yaml-language-server: $schema=../schemas/calendars.schema.json
calendars:
  office:
    time_zone: Europe/Moscow
    hours: { Mon-Fri: "09:00-18:00" }
    holidays: [2027-01-01]
`;

const STALE = `id: stale
trigger:
  event: ONCRMDEALUPDATE
  changed: { STAGE_ID: { to: C1:NEGOTIATION } }
  for: 14d
actions:
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "14 days in negotiation" }
`;

const LEAD = `id: lead-wait
trigger: { event: ONCRMLEADADD }
condition: { "==": [{ var: lead.STATUS_ID }, NEW] }
actions:
  - delay: { for: 2h, within: office, recheck: true }
  - notify: { user: 1, message: "Lead {{ lead.ID }} not contacted" }
  - delay: { until: "{{ lead.DATE_CREATE | add_days: 1 }}" }
  - delay: 30m
`;

describe('calendars.yaml and time in rules', () => {
  it('compiles delay and for: with the folder calendars; calendars.yaml is not a rule file', async () => {
    const dir = folder('ok', { 'calendars.yaml': CALENDARS, 'stale.yaml': STALE, 'lead.yaml': LEAD });
    expect((await listRuleFiles(dir)).map((f) => f.slice(dir.length + 1))).toEqual(['lead.yaml', 'stale.yaml']);
    const r = await loadRules([dir]);
    expect(formatDiagnostics(r.diagnostics, 'text')).toBe('');
    expect(r.files.map((f) => f.file.slice(dir.length + 1))).toEqual(['lead.yaml', 'stale.yaml']);
    const stale = r.rules.find((x) => x.id === 'stale')!;
    expect(stale.trigger.kind === 'event' && stale.trigger.for).toMatchObject({ ms: 14 * 86_400_000, source: '14d' });
    const lead = r.rules.find((x) => x.id === 'lead-wait')!;
    const [first, , until, plain] = lead.actions;
    expect(first!.kind).toBe('delay');
    expect(first!.delay!.wait!.ms).toBe(7_200_000);
    expect(first!.delay!.wait!.within!.timeZone).toBe('Europe/Moscow');
    expect(first!.delay!.recheck).toBe(true);
    expect(until!.delay!.until!.source).toContain('add_days');
    expect(plain!.delay).toMatchObject({ wait: { ms: 1_800_000 }, recheck: false });
    // A single file sees the calendars of its folder.
    const one = await loadRules([join(dir, 'lead.yaml')]);
    expect(formatDiagnostics(one.diagnostics, 'text')).toBe('');
  });

  it('refuses an unknown calendar with a did-you-mean, at its line and column', async () => {
    const dir = folder('unknown', { 'calendars.yaml': CALENDARS, 'lead.yaml': LEAD.replace('within: office', 'within: ofice') });
    const r = await loadRules([dir]);
    const d = r.diagnostics.find((x) => x.code === 'CALENDAR_UNKNOWN')!;
    expect(d).toMatchObject({ file: join(dir, 'lead.yaml'), line: 5, col: 31, ruleId: 'lead-wait', severity: 'error' });
    expect(d.message).toContain("did you mean 'office'?");
    expect(r.rules).toHaveLength(0);
    // Without a calendars.yaml the hint says where to define one.
    const bare = loadRuleSource(LEAD, 'lead.yaml');
    expect(bare.diagnostics.find((x) => x.code === 'CALENDAR_UNKNOWN')!.hint).toContain('calendars: { office:');
  });

  it('reports a bad calendar at its place in calendars.yaml, and rules naming it say so', async () => {
    const bad = CALENDARS.replace('Europe/Moscow', 'Europe/Moskow').replace('2027-01-01', '2027-02-30');
    const dir = folder('bad', { 'calendars.yaml': bad, 'lead.yaml': LEAD });
    const r = await loadRules([dir]);
    const cal = r.diagnostics.filter((x) => x.file.endsWith('calendars.yaml'));
    expect(cal.map((x) => [x.code, x.line, x.col])).toEqual([['CALENDAR_INVALID', 4, 16]]);
    expect(cal[0]!.message).toContain('"Europe/Moskow" is not an IANA time zone');
    expect(r.diagnostics.find((x) => x.code === 'CALENDAR_UNKNOWN')!.message).toContain('has errors');
    expect(r.files.find((f) => f.file.endsWith('calendars.yaml'))!.ok).toBe(false);

    const hours = folder('hours', { 'calendars.yaml': 'calendars:\n  office:\n    time_zone: UTC\n    hours: { Mon-Fri: "9-18" }\n' });
    const h = await loadRules([hours]);
    expect(h.diagnostics.map((x) => [x.code, x.line, x.col])).toEqual([['CALENDAR_INVALID', 4, 23]]);
    expect(h.diagnostics[0]!.message).toContain('write HH:MM-HH:MM');
    const schema = folder('schema', { 'calendars.yaml': 'calendars:\n  office:\n    time_zone: UTC\n    hours: { Mon-Fri: "09:00-18:00" }\n    holiday: [2027-01-01]\n' });
    const s = await loadRules([schema]);
    expect(s.diagnostics.map((x) => [x.code, x.line, x.message])).toEqual([['SCHEMA', 5, "unknown key 'holiday' in calendars.office; did you mean 'holidays'?"]]);
  });

  it('checks durations and that for: names a state', () => {
    const r = loadRuleSource(STALE.replace('for: 14d', 'for: 14 days').replace('{ to: C1:NEGOTIATION }', '{}'), 'stale.yaml');
    expect(r.diagnostics.map((d) => [d.code, d.line, d.col])).toEqual([
      ['FOR_NEEDS_STATE', 5, 3],
      ['DURATION_INVALID', 5, 8],
    ]);
    const month = loadRuleSource(LEAD.replace('delay: 30m', 'delay: 1mo').replace(/within: office, /, ''), 'lead.yaml');
    expect(month.diagnostics.map((d) => [d.code, d.line])).toEqual([['DURATION_INVALID', 8]]);
    const both = loadRuleSource(LEAD.replace('delay: 30m', 'delay: { for: 1h, until: "{{ now }}" }').replace(/within: office, /, ''), 'lead.yaml');
    expect(both.diagnostics.map((d) => d.code)).toEqual(['SCHEMA']);
    expect(both.diagnostics[0]!.message).toContain('keep exactly one of: for, until');
  });

  it('accepts calendars given in code (loadRuleSource)', () => {
    const r = loadRuleSource(LEAD, 'lead.yaml', { calendars: { office: { time_zone: 'UTC', hours: { 'Mon-Fri': '09:00-17:00' } } } });
    expect(formatDiagnostics(r.diagnostics, 'text')).toBe('');
    expect(r.rules[0]!.actions[0]!.delay!.wait!.within!.timeZone).toBe('UTC');
  });

  it('compiles wait_for: its on_timeout actions follow the main ones; the event must be about the run\'s record; the offline source binds it', () => {
    const rule = `id: call-lead
trigger: { event: ONCRMLEADADD }
actions:
  - wait_for:
      event: ONCRMACTIVITYADD
      match: { "==": [{ var: activity.TYPE_ID }, "2"] }
      timeout: 2h
      on_timeout:
        - notify: { user: 1, message: "no call for {{ lead.ID }}" }
        - delay: 1h
        - comment: { entity: lead, id: "{{ lead.ID }}", text: late }
  - comment: { entity: lead, id: "{{ lead.ID }}", text: called }
`;
    const r = loadRuleSource(rule, 'call.yaml');
    expect(formatDiagnostics(r.diagnostics, 'text')).toBe('');
    const acts = r.rules[0]!.actions;
    expect(acts.map((a) => [a.index, a.kind, a.branchOf])).toEqual([
      [0, 'wait_for', undefined],
      [1, 'comment', undefined],
      [2, 'notify', 0],
      [3, 'delay', 0],
      [4, 'comment', 0],
    ]);
    expect(acts[0]!.waitFor).toMatchObject({ event: 'ONCRMACTIVITYADD', by: 'owner', as: 'activity', timeoutStart: 2, timeoutEnd: 5, timeout: { ms: 7_200_000 } });
    expect(offlineEventNames(r.rules).sort()).toEqual(['ONCRMACTIVITYADD', 'ONCRMLEADADD']);
    const own = loadRuleSource(rule.replace('ONCRMACTIVITYADD', 'ONCRMLEADUPDATE').replace('activity.TYPE_ID', 'lead.STATUS_ID'), 'call.yaml');
    expect(formatDiagnostics(own.diagnostics, 'text')).toBe('');
    expect(own.rules[0]!.actions[0]!.waitFor).toMatchObject({ by: 'record', as: 'lead' });

    const wrong = loadRuleSource(rule.replace('ONCRMACTIVITYADD', 'ONCRMDEALUPDATE'), 'call.yaml');
    expect(wrong.diagnostics.map((d) => [d.code, d.line])).toEqual([['WAIT_FOR_EVENT', 5]]);
    expect(wrong.diagnostics[0]!.hint).toContain('ONCRMLEADUPDATE');
    const unknownName = loadRuleSource(rule.replace('activity.TYPE_ID', 'actvity.TYPE_ID'), 'call.yaml');
    expect(unknownName.diagnostics.map((d) => d.code)).toEqual(['LOGIC_UNKNOWN_NAME']);
    expect(unknownName.diagnostics[0]!.message).toContain("did you mean 'activity'?");
    const noRecord = loadRuleSource(rule.replace('trigger: { event: ONCRMLEADADD }', 'trigger: { manual: {} }').replace(/\{\{ lead.ID \}\}/g, 'x'), 'call.yaml');
    expect(noRecord.diagnostics.map((d) => d.code)).toEqual(['WAIT_FOR_NO_RECORD']);
    const nested = loadRuleSource(rule.replace('        - delay: 1h', '        - wait_for: { event: ONCRMACTIVITYADD, timeout: 1h }'), 'call.yaml');
    expect(nested.diagnostics.map((d) => [d.code, d.line])).toEqual([['WAIT_FOR_NESTED', 10]]);
  });
});
