/**
 * Rules that compete (`group:` and `priority:`, engine/pipeline/groups.ts) on the
 * emulator over HTTP: of a group's members only the first whose condition holds
 * acts for an event, the later ones are skipped naming it, and the decision is
 * made once per item: through a crash before the winner's calls were sent, a
 * member that must wait for an earlier one (held by its concurrency key), a
 * member dead-lettered before the group decided, and a DLQ retry of the winner.
 * Outside a group, `priority:` orders the runs of one event and so the merged
 * update of one record.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { B24ClientApi, BatchCommand } from '../../engine/client/types.js';
import type { RunRecord } from '../../engine/store/index.js';
import { runCli } from '../helpers/cli.js';
import { drain, harness, leadEvent, type Harness } from './harness.js';

let h: Harness | undefined;
let server: Server | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

const ROUTING = readFileSync(join('rules', '03-route-leads.yaml'), 'utf8');
const MEMBERS = ['route-leads-key-accounts', 'route-leads-partners', 'route-leads-regions', 'route-leads-inbound'];
const TEAMS: Record<string, number[]> = { 'route-leads-key-accounts': [12, 15], 'route-leads-partners': [9], 'route-leads-regions': [21, 6], 'route-leads-inbound': [9, 15, 21] };

interface LeadSpec {
  OPPORTUNITY: number;
  SOURCE_ID: string;
  ADDRESS_REGION: string;
  ASSIGNED_BY_ID: number;
}

/** 40 new leads over every mix of the teams' conditions (a key-account partner from the Urals included); every tenth already assigned. */
function mixedLeads(n = 40): LeadSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    OPPORTUNITY: i % 2 ? 1_500_000 : 200_000,
    SOURCE_ID: (i >> 1) % 2 ? 'PARTNER' : 'WEB',
    ADDRESS_REGION: (i >> 2) % 2 ? 'Свердловская область, Урал' : 'Московская область',
    ASSIGNED_BY_ID: i % 10 === 9 ? 15 : 1,
  }));
}

/** The team the scenario's header promises: the first of the four, in order, whose condition holds. */
function expectedWinner(l: LeadSpec): string | undefined {
  if (l.ASSIGNED_BY_ID !== 1) return undefined;
  if (l.OPPORTUNITY >= 1_000_000) return 'route-leads-key-accounts';
  if (l.SOURCE_ID === 'PARTNER') return 'route-leads-partners';
  if (/урал|сибир/i.test(l.ADDRESS_REGION)) return 'route-leads-regions';
  return 'route-leads-inbound';
}

function seedLeads(h: Harness, specs: LeadSpec[]): string[] {
  return h.emu.store.seed(
    'lead',
    specs.map((s, i) => ({ TITLE: `Lead ${i}`, STATUS_ID: 'NEW', CURRENCY_ID: 'RUB', UF_CRM_REGION: '', ...s })),
  );
}

const runsOfLead = (h: Harness, id: string): RunRecord[] => h.store.runs.list({ recordKey: `lead:${id}`, limit: 100 });

/**
 * Each lead: the expected member acted (done, its team's manager assigned), later members skipped naming it, earlier
 * ones for their own reasons; one update and (unless lost in doubt: notifications are at most once) one notification each.
 */
function assertRouted(h: Harness, ids: string[], specs: LeadSpec[], notifications: 'once' | 'at-most-once' = 'once'): void {
  ids.forEach((id, i) => {
    const winner = expectedWinner(specs[i]!);
    const runs = runsOfLead(h, id);
    expect(runs.map((r) => r.ruleId).sort(), `runs of lead ${id}`).toEqual([...MEMBERS].sort());
    const at = winner ? MEMBERS.indexOf(winner) : MEMBERS.length;
    MEMBERS.forEach((member, m) => {
      const run = runs.find((r) => r.ruleId === member)!;
      if (m === at) expect(run.status, `${member} on lead ${id}`).toBe('done');
      else if (m > at) expect(run, `${member} on lead ${id}`).toMatchObject({ status: 'skipped', reason: `condition false: group route-leads: ${winner} acted first` });
      else {
        expect(run.status, `${member} on lead ${id}`).toBe('skipped');
        expect(run.reason).toMatch(/^condition false: /);
        expect(run.reason).not.toContain('group route-leads');
      }
    });
    const assigned = Number(h.emu.store.get('lead', id)!.ASSIGNED_BY_ID);
    if (winner) expect(TEAMS[winner], `the manager of lead ${id}`).toContain(assigned);
    else expect(assigned).toBe(15);
  });
  const routed = specs.filter((s) => expectedWinner(s)).length;
  expect(h.emu.calls.of('crm.lead.update', { batch: true })).toHaveLength(routed);
  const notes = h.emu.calls.of('im.notify.system.add', { batch: true }).length;
  if (notifications === 'once') expect(notes).toBe(routed);
  else expect(notes).toBeLessThanOrEqual(routed);
}

describe('a group: only the first matching member acts', () => {
  it('scenario 03 routes 40 mixed leads, each by the first team whose condition holds; rules runs and rules trace name the winner', async () => {
    h = await harness(ROUTING);
    const specs = mixedLeads();
    const ids = seedLeads(h, specs);
    h.store.inbox.add(ids.map((id) => leadEvent(id)));
    h.emu.calls.clear();
    await drain(h.engine, h.clock);
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: ids.length, dead: 0 });
    assertRouted(h, ids, specs);

    // A key-account partner lead from the Urals: the three other teams' conditions hold too.
    const contested = ids[specs.findIndex((s) => s.OPPORTUNITY >= 1_000_000 && s.SOURCE_ID === 'PARTNER' && /Урал/.test(s.ADDRESS_REGION) && s.ASSIGNED_BY_ID === 1)]!;
    const lost = runsOfLead(h, contested).find((r) => r.ruleId === 'route-leads-inbound')!;
    const cli = (...args: string[]) => runCli([...args, '--state', h!.path], { cwd: h!.dir });
    const json = JSON.parse((await cli('runs', '--rule', 'route-leads-inbound', '--limit', '100', '--json')).stdout) as Array<{ id: number; reason: string | null }>;
    expect(json.find((r) => r.id === lost.id)?.reason).toBe('condition false: group route-leads: route-leads-key-accounts acted first');
    const trace = await cli('trace', String(lost.id));
    expect(trace.code).toBe(0);
    expect(trace.stdout).toContain('group route-leads: route-leads-key-accounts acted first');
  });

  it('a crash after the winner was planned, before its batch left: the restarted engine sends only the winner’s calls', async () => {
    h = await harness(ROUTING);
    const specs = mixedLeads(16);
    const ids = seedLeads(h, specs);
    let died = false;
    // The process dies with the first write batch marked sent and not yet on the wire.
    const dying: B24ClientApi = {
      call: h.client.call.bind(h.client),
      listAll: h.client.listAll.bind(h.client),
      async batch(cmds: Record<string, BatchCommand> | BatchCommand[], options?: { halt?: boolean }) {
        const writes = Object.values(cmds).some((x) => !/\.(get|list)$/.test(x.method));
        if (!writes || died) return h!.client.batch(cmds, options);
        died = true;
        throw new Error('simulated crash: the process died before the request left');
      },
    };
    h.store.inbox.add(ids.map((id) => leadEvent(id)));
    h.emu.calls.clear();
    await h.reopen({ client: dying }).tick();
    expect(died).toBe(true);
    expect(h.emu.calls.of('crm.lead.update', { batch: true })).toHaveLength(0);
    // The decision is in the state file already: one active run per routed lead, the rest skipped.
    const routed = specs.filter((s) => expectedWinner(s)).length;
    expect(h.store.runs.list({ status: ['active'], limit: 1000 })).toHaveLength(routed);

    await drain(h.reopen(), h.clock);
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: ids.length, dead: 0 });
    assertRouted(h, ids, specs, 'at-most-once');
    expect(h.store.effects.countByState()).toMatchObject({ pending: 0, sent: 0 });
    // Only the winners ever had calls in the ledger.
    const acting = new Set(ids.flatMap((id) => runsOfLead(h!, id).filter((r) => r.status === 'done').map((r) => r.id)));
    expect(h.store.effects.inState('done').every((e) => acting.has(e.runId))).toBe(true);
  });
});

/** Two members on every new lead: `first` comments and, once its condition holds, always wins; `second` is parallel, so its own key never holds it. */
const WAITING = `
id: first
group: g
priority: 1
trigger: { event: ONCRMLEADADD }
condition: { ">=": [{ var: lead.OPPORTUNITY }, 1000] }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "first" }
---
id: second
group: g
priority: 2
trigger: { event: ONCRMLEADADD }
concurrency: { mode: parallel }
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { COMMENTS: "second" } }
`;

describe('a member that cannot be decided yet', () => {
  it('held by its concurrency key: the later members wait for it, then lose to it in a later tick', async () => {
    h = await harness(WAITING);
    const [id] = h.emu.store.seed('lead', [{ TITLE: 'Twice', STATUS_ID: 'NEW', OPPORTUNITY: 5000 }]);
    // Two events of one lead in one tick: the second's run of `first` is held behind the first's (serial).
    h.store.inbox.add([leadEvent(id!), leadEvent(id!)]);
    const report = await h.engine.tick();
    expect(report.held).toBe(2);
    expect(h.store.runs.list({ status: ['new'], limit: 10 }).map((r) => r.ruleId).sort()).toEqual(['first', 'second']);
    expect(h.emu.store.get('lead', id!)!.COMMENTS ?? '').not.toBe('second');

    await drain(h.engine, h.clock);
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 2, dead: 0 });
    const second = h.store.runs.list({ ruleId: 'second', limit: 10 });
    expect(second.map((r) => [r.status, r.reason])).toEqual([
      ['skipped', 'condition false: group g: first acted first'],
      ['skipped', 'condition false: group g: first acted first'],
    ]);
    expect(h.store.runs.list({ ruleId: 'first', limit: 10 }).map((r) => r.status)).toEqual(['done', 'done']);
    expect(h.emu.calls.of('crm.lead.update', { batch: true })).toHaveLength(0);
    expect(h.emu.store.get('lead', id!)!.COMMENTS ?? '').not.toBe('second');
  });

  it('dead-lettered before it was decided: the later members are skipped saying so, and a DLQ retry decides again', async () => {
    h = await harness(`
id: first
group: g
priority: 1
trigger: { event: ONCRMLEADADD }
# The pattern comes from the lead: "(" is not a regular expression, so evaluating the condition fails.
condition: { matches: [{ var: lead.TITLE }, { var: lead.COMMENTS }] }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "first" }
on_error: { retries: 0, then: dead_letter }
---
id: second
group: g
priority: 2
trigger: { event: ONCRMLEADADD }
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { SOURCE_DESCRIPTION: "second" } }
`);
    const [id] = h.emu.store.seed('lead', [{ TITLE: 'Broken pattern', STATUS_ID: 'NEW', COMMENTS: '(' }]);
    h.store.inbox.add([leadEvent(id!)]);
    await drain(h.engine, h.clock);
    expect(h.store.inbox.countByStatus()).toMatchObject({ dead: 1 });
    expect(h.store.runs.list({ ruleId: 'second', limit: 10 })).toEqual([
      expect.objectContaining({ status: 'skipped', reason: 'group g: first was dead-lettered before the group decided (a DLQ retry of the item decides again)' }),
    ]);
    expect(h.emu.calls.of('crm.lead.update', { batch: true })).toHaveLength(0);

    // Fixed (first's condition is now false): the retry decides again, and the next member acts.
    h.emu.store.put('lead', id!, { ...h.emu.store.get('lead', id!)!, COMMENTS: 'no such title' });
    const [entry] = h.store.dlq.list();
    h.store.dlq.retry(entry!.id);
    await drain(h.engine, h.clock);
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 1, dead: 0 });
    expect(h.emu.store.get('lead', id!)!.SOURCE_DESCRIPTION).toBe('second');
    expect(h.emu.calls.of('crm.timeline.comment.add', { batch: true })).toHaveLength(0);
  });
});

describe('a member dropped by concurrency: skip', () => {
  it('is skipped for its own reason, as one whose dedupe key was used: the next member is judged and may act', async () => {
    h = await harness(`
id: first
group: g
priority: 1
trigger: { event: ONCRMLEADADD }
concurrency: { mode: skip }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "first" }
---
id: second
group: g
priority: 2
trigger: { event: ONCRMLEADADD }
concurrency: { mode: parallel }
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { SOURCE_DESCRIPTION: "second" } }
`);
    const [id] = h.emu.store.seed('lead', [{ TITLE: 'Busy', STATUS_ID: 'NEW' }]);
    // Two events of one lead in one tick: first acts for the first event and drops the second's run (skip),
    // so for the second event the next member is judged, and acts.
    h.store.inbox.add([leadEvent(id!), leadEvent(id!)]);
    await drain(h.engine, h.clock);
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 2, dead: 0 });
    const outcomes = (rule: string) =>
      h!.store.runs
        .list({ ruleId: rule, limit: 10 })
        .map((r) => [r.status, r.reason ?? null])
        .sort();
    expect(outcomes('first')).toEqual([
      ['done', null],
      ['skipped', `concurrency: a run for lead:${id} is in flight (mode skip)`],
    ]);
    expect(outcomes('second')).toEqual([
      ['done', null],
      ['skipped', 'condition false: group g: first acted first'],
    ]);
    expect(h.emu.calls.of('crm.timeline.comment.add', { batch: true })).toHaveLength(1);
    expect(h.emu.store.get('lead', id!)!.SOURCE_DESCRIPTION).toBe('second');
  });
});

describe('a DLQ retry of the winner', () => {
  it('lets no other member act for the item, even when the record now fits a later member and no longer the winner', async () => {
    // The ERP refuses the first member's call until it is fixed: that run is dead-lettered.
    let fixed = false;
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => (fixed ? res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}') : res.writeHead(500).end()));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/leads`;
    h = await harness(
      `
id: big
group: g
priority: 1
trigger: { event: ONCRMLEADADD }
condition: { ">=": [{ var: lead.OPPORTUNITY }, 1000] }
actions:
  - http: { url: "${url}", method: POST, body: { lead: "{{ lead.ID }}" } }
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { SOURCE_DESCRIPTION: "big" } }
on_error: { retries: 0, then: dead_letter }
---
id: partner
group: g
priority: 2
trigger: { event: ONCRMLEADADD }
condition: { "==": [{ var: lead.SOURCE_ID }, PARTNER] }
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { SOURCE_DESCRIPTION: "partner" } }
`,
      { http: fetch as never },
    );
    const [id] = h.emu.store.seed('lead', [{ TITLE: 'Retried', STATUS_ID: 'NEW', OPPORTUNITY: 5000, SOURCE_ID: 'WEB' }]);
    h.store.inbox.add([leadEvent(id!)]);
    await drain(h.engine, h.clock);
    expect(h.store.inbox.countByStatus()).toMatchObject({ dead: 1 });
    expect(h.store.runs.list({ ruleId: 'partner', limit: 10 }).map((r) => r.reason)).toEqual(['condition false: group g: big acted first']);

    // Meanwhile the lead became a small partner lead, and the ERP is fixed.
    h.emu.store.put('lead', id!, { ...h.emu.store.get('lead', id!)!, OPPORTUNITY: 10, SOURCE_ID: 'PARTNER' });
    fixed = true;
    h.store.dlq.retry(h.store.dlq.list()[0]!.id);
    await drain(h.engine, h.clock);
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 1, dead: 0 });
    const partner = h.store.runs.list({ ruleId: 'partner', limit: 10 });
    expect(partner.map((r) => [r.status, r.reason])).toEqual([
      ['skipped', 'condition false: group g: big acted first'],
      ['skipped', 'condition false: group g: big acted first'],
    ]);
    // The one update is the winner's, sent in its first attempt next to the refused call.
    expect(h.emu.calls.of('crm.lead.update', { batch: true }).map((u) => (u.params.fields as Record<string, unknown>).SOURCE_DESCRIPTION)).toEqual(['big']);
    expect(h.emu.store.get('lead', id!)!.SOURCE_DESCRIPTION).toBe('big');
  });
});

describe('a winner on a timer', () => {
  it('keeps the event after its delay: when the rechecked condition no longer holds it ends skipped, and no other member acts', async () => {
    h = await harness(`
id: later
group: g
priority: 1
trigger: { event: ONCRMLEADADD }
condition: { ">=": [{ var: lead.OPPORTUNITY }, 1000] }
actions:
  - delay: { for: 1h, recheck: true }
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { COMMENTS: "later" } }
---
id: now
group: g
priority: 2
trigger: { event: ONCRMLEADADD }
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { SOURCE_DESCRIPTION: "now" } }
`);
    const [id] = h.emu.store.seed('lead', [{ TITLE: 'Delayed', STATUS_ID: 'NEW', OPPORTUNITY: 5000 }]);
    h.store.inbox.add([leadEvent(id!)]);
    await h.engine.tick();
    expect(h.store.runs.list({ ruleId: 'later', limit: 10 }).map((r) => r.status)).toEqual(['delayed']);
    expect(h.store.runs.list({ ruleId: 'now', limit: 10 }).map((r) => r.reason)).toEqual(['condition false: group g: later acted first']);

    // The lead no longer fits the winner when its timer fires.
    h.emu.store.put('lead', id!, { ...h.emu.store.get('lead', id!)!, OPPORTUNITY: 10 });
    h.clock.advance(3_600_000);
    await drain(h.engine, h.clock);
    const later = h.store.runs.list({ ruleId: 'later', limit: 10 });
    expect(later.map((r) => [r.status, r.reason])).toEqual([['skipped', expect.stringMatching(/^after the delay: condition false: /)]]);
    expect(h.store.runs.list({ ruleId: 'now', limit: 10 })).toHaveLength(1);
    expect(h.emu.calls.of('crm.lead.update', { batch: true })).toHaveLength(0);
  });
});

describe('priority: outside a group', () => {
  it('orders the runs of one event: the merged update of one record carries the later (higher) priority’s value of a field both set', async () => {
    // In file order `assign-lead` comes first; its priority puts it after `score-lead`.
    h = await harness(`
id: assign-lead
priority: 2
trigger: { event: ONCRMLEADADD }
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { ASSIGNED_BY_ID: 9, COMMENTS: "assigned" } }
---
id: score-lead
priority: 1
trigger: { event: ONCRMLEADADD }
actions:
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { UF_CRM_LEAD_SCORE: 40, COMMENTS: "scored" } }
`);
    const ids = h.emu.store.seed('lead', [1, 2, 3].map((i) => ({ TITLE: `Lead ${i}`, STATUS_ID: 'NEW', ASSIGNED_BY_ID: 1 })));
    h.store.inbox.add(ids.map((id) => leadEvent(id)));
    h.emu.calls.clear();
    await drain(h.engine, h.clock);
    const updates = h.emu.calls.of('crm.lead.update', { batch: true });
    expect(updates).toHaveLength(ids.length);
    for (const u of updates) expect(u.params.fields).toEqual({ UF_CRM_LEAD_SCORE: '40', COMMENTS: 'assigned', ASSIGNED_BY_ID: '9' });
    for (const id of ids) expect(h.emu.store.get('lead', id)).toMatchObject({ COMMENTS: 'assigned' });
    // The ledger's order: each lead's score-lead run was planned before its assign-lead run.
    for (const id of ids) {
      const runs = runsOfLead(h, id).sort((a, b) => a.id - b.id);
      expect(runs.map((r) => r.ruleId)).toEqual(['score-lead', 'assign-lead']);
    }
  });
});
