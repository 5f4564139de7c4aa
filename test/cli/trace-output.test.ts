/**
 * `rules trace`, `rules runs` and `rules dlq` on a journal the engine wrote
 * (emulator over HTTP, real REST client, real state file), read by the built
 * CLI: a loaded record is shown once and without its null fields (--full
 * shows everything), and `--format json` is there as on every command, with
 * `--json` kept as its alias.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drain, harness, leadEvent, type Harness } from '../e2e-engine/harness.js';
import { runCli } from '../helpers/cli.js';

// Two rules on the same event: the second run's diff came from the first sight of the lead, every field again.
const RULES = `
id: lead-first
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "first" }
---
id: lead-second
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "second" }
`;

let h: Harness;
let runId: number;
/** The lead as the run loaded it (crm.lead.get), from the stored trace. */
let leadFields: Record<string, unknown>;

beforeAll(async () => {
  h = await harness(RULES);
  const lead = h.emu.store.all('lead')[0]!;
  h.store.inbox.add([leadEvent(String(lead.ID))]);
  await drain(h.engine, h.clock);
  const second = h.store.runs.list({ ruleId: 'lead-second' })[0]!;
  expect(second.status).toBe('done');
  runId = second.id;
  leadFields = (second.trace.loaded as { lead: Record<string, unknown> }).lead;
});
afterAll(async () => {
  await h.close();
});

const cli = (...args: string[]) => runCli([...args, '--state', h.path], { cwd: h.dir });

/** The lines of the "Trace:" block, from `loaded:` to the next key at its level. */
function loadedBlock(text: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf('  loaded:');
  expect(start, text).toBeGreaterThan(0);
  const end = lines.findIndex((l, i) => i > start && /^ {2}\S/.test(l));
  return lines.slice(start + 1, end);
}

describe('rules trace', () => {
  it('shows the loaded record once, without null fields, and says what it left out', async () => {
    const r = await cli('trace', String(runId));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const nulls = Object.entries(leadFields).filter(([, v]) => v === null).map(([k]) => k);
    expect(nulls.length).toBeGreaterThan(0);
    const loaded = loadedBlock(r.stdout);
    expect(loaded.some((l) => /^ {6}TITLE: /.test(l))).toBe(true);
    expect(loaded.filter((l) => /: null$/.test(l))).toEqual([]);
    // Each field of the lead appears once in the whole output: the diff of a first sight is a note, not the record again.
    for (const field of ['TITLE', 'STATUS_ID', 'ASSIGNED_BY_ID', 'DATE_CREATE']) {
      expect(r.stdout.match(new RegExp(`^\\s+${field}:`, 'gm'))?.length, field).toBe(1);
    }
    expect(r.stdout).toContain('no snapshot yet: every field counts as changed');
    // The call is listed once, from the ledger.
    expect(r.stdout.match(/crm\.timeline\.comment\.add/g)?.length).toBe(2); // the planned action and the ledger row
    // The engine writes a note, not a diff, for the first sight of a record by every rule on the event (the second rule's trace once held the whole record).
    expect(r.stdout).toContain(`Left out: ${nulls.length} null fields, the trace's copy of the calls; rules trace ${runId} --full shows them.`);
  });

  it('--full shows the trace as stored', async () => {
    const r = await cli('trace', String(runId), '--full');
    expect(r.code).toBe(0);
    const loaded = loadedBlock(r.stdout);
    expect(loaded.filter((l) => /: null$/.test(l)).length).toBe(Object.values(leadFields).filter((v) => v === null).length);
    expect(r.stdout).toMatch(/^ {2}effects:$/m);
    expect(r.stdout).not.toContain('Left out:');
  });

  it('--format json is the run, its whole trace and its calls; --json is the same', async () => {
    const [a, b] = await Promise.all([cli('trace', String(runId), '--format', 'json'), cli('trace', String(runId), '--json')]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const doc = JSON.parse(a.stdout) as { run: { id: number; trace: { loaded: { lead: Record<string, unknown> } } }; calls: unknown[] };
    expect(doc.run.id).toBe(runId);
    expect(Object.keys(doc.run.trace.loaded.lead)).toEqual(Object.keys(leadFields));
    expect(doc.calls).toHaveLength(1);
  });
});

describe('--format json on the journal commands', () => {
  it('rules runs and rules dlq list take --format json, equal to --json', async () => {
    const [a, b] = await Promise.all([cli('runs', '--format', 'json'), cli('runs', '--json')]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect((JSON.parse(a.stdout) as Array<{ ruleId: string }>).map((r) => r.ruleId).sort()).toEqual(['lead-first', 'lead-second']);
    const dlq = await cli('dlq', 'list', '--format', 'json');
    expect(dlq.code).toBe(0);
    expect(JSON.parse(dlq.stdout)).toEqual([]);
    const text = await cli('runs', '--format', 'text');
    expect(text.stdout).toMatch(/^RUN\s+RULE\s+STATUS/);
    const bad = await cli('runs', '--format', 'yaml');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("rules: --format must be one of text, json; got 'yaml'\n");
  });
});
