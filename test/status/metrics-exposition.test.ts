/**
 * /metrics as Prometheus reads it: the text of a running daemon (`rules run` as a subprocess on the
 * emulator) and of a worker (`rules run --state postgres://...` on an emulator fleet) parsed by a strict
 * exposition-format parser (test/helpers/exposition.ts), with the duration histograms in seconds, the
 * default process and Node.js metrics and the build info; every b24rules_ family is documented in
 * docs/operations.md and every one documented there exists.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, startEmulatorFleet, type Emulator, type EmulatorFleet } from '../../emulator/index.js';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import type { ControlPlane } from '../../engine/portals/index.js';
import { emulatorEnv, startDaemonProcess, tempDir, until, writeRule, type DaemonProcess } from '../daemon/harness.js';
import { parseExposition, samplesOf, type Family } from '../helpers/exposition.js';
import { pgUrl } from '../helpers/pg.js';
import { userClient } from '../sources/emulator-helpers.js';
import { addLeads, bound, closeUsers, commentsByTitle, fleetDeployment, ruleFolder } from '../worker/helpers.js';

const VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const OPERATIONS = readFileSync(join(PACKAGE_ROOT, 'docs/operations.md'), 'utf8');

/** The b24rules_ families docs/operations.md lists in its metrics table (`| \`name\` | type | ...`). */
function documentedFamilies(): Set<string> {
  return new Set([...OPERATIONS.matchAll(/^\| `(b24rules_[a-z0-9_]+)` \|/gm)].map((m) => m[1] as string));
}

/** What every /metrics of ours carries, whoever serves it. */
function expectConventions(families: Map<string, Family>): void {
  for (const f of families.values()) {
    if (!f.name.startsWith('b24rules_')) continue;
    expect(f.help, `${f.name} has HELP`).toBeTruthy();
    if (f.type === 'counter') expect(f.name, 'a counter ends in _total').toMatch(/_total$/);
    else expect(f.name, 'only counters end in _total').not.toMatch(/_total$/);
    if (f.type === 'histogram') expect(f.name).toMatch(/_(seconds|commands)$/);
    expect(documentedFamilies(), `${f.name} is listed in docs/operations.md`).toContain(f.name);
  }
  expect(families.get('process_cpu_seconds_total')?.type).toBe('counter');
  expect(families.get('process_resident_memory_bytes')?.type).toBe('gauge');
  expect(families.get('nodejs_heap_size_used_bytes')?.type).toBe('gauge');
  expect(families.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
  const info = samplesOf(families, 'b24rules_build_info');
  expect(info).toHaveLength(1);
  expect(info[0]).toMatchObject({ value: 1, labels: { version: VERSION, nodejs: expect.stringMatching(/^v\d+\./) } });
}

describe('the strict exposition parser', () => {
  it('reads families, labels with escapes, histograms', () => {
    const text = [
      '# HELP a_total A \\\\ counter\\nof things.',
      '# TYPE a_total counter',
      'a_total{x="q\\"uote\\\\d\\n",y="2"} 3',
      '',
      '# TYPE h_seconds histogram',
      'h_seconds_bucket{le="0.5"} 1',
      'h_seconds_bucket{le="+Inf"} 2',
      'h_seconds_sum 1.5',
      'h_seconds_count 2',
      'g NaN 1700000000000',
      '',
    ].join('\n');
    const f = parseExposition(text);
    expect(f.get('a_total')).toMatchObject({ type: 'counter', help: 'A \\ counter\nof things.', samples: [{ labels: { x: 'q"uote\\d\n', y: '2' }, value: 3 }] });
    expect(f.get('h_seconds')?.samples).toHaveLength(4);
    expect(f.get('g')).toMatchObject({ type: 'untyped', samples: [{ timestamp: 1700000000000 }] });
  });

  it.each([
    ['no final newline', 'a 1'],
    ['a bad escape', 'a{x="\\t"} 1\n'],
    ['a repeated label', 'a{x="1",x="2"} 1\n'],
    ['a value that is no float', 'a one\n'],
    ['TYPE twice', '# TYPE a gauge\n# TYPE a gauge\n'],
    ['TYPE after a sample', 'a 1\n# TYPE a gauge\n'],
    ['a family split in two groups', 'a 1\nb 1\na{x="1"} 2\n'],
    ['a series given twice', 'a{x="1"} 1\na{x="1"} 2\n'],
    ['buckets not cumulative', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ['a count other than +Inf', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
    ['a bad metric name', '# TYPE 1a gauge\n'],
  ])('refuses %s', (_why, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});

const RULE = `id: welcome-leads
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Welcome {{ lead.TITLE }}" }
`;

describe('/metrics of a running daemon (rules run, subprocess)', { timeout: 120_000 }, () => {
  let emu: Emulator;
  let daemon: DaemonProcess | undefined;
  afterEach(async () => {
    if (daemon && daemon.proc.exitCode === null) {
      daemon.kill('SIGKILL');
      await daemon.exited;
    }
    daemon = undefined;
    await emu?.close();
  });

  it('parses strictly and carries the histograms, the process metrics and the build info', async () => {
    emu = await startEmulator({ port: 0 });
    const dir = tempDir();
    const rules = join(dir, 'rules');
    mkdirSync(rules);
    writeRule(rules, 'welcome.yaml', RULE);
    daemon = startDaemonProcess([rules, '--state', join(dir, 'state.db'), '--listen', '127.0.0.1:0', '--poll-interval-ms', '100', '--no-watch'], emulatorEnv(emu, dir), dir);
    const url = await daemon.url;
    await userClient(emu).call('crm.lead.add', { fields: { TITLE: 'Scraped lead' } });
    await daemon.waitForLog((r) => r.rule === 'welcome-leads' && r.outcome === 'done');

    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parseExposition(await res.text());
    expectConventions(families);

    for (const name of ['b24rules_rule_run_duration_seconds', 'b24rules_rest_request_duration_seconds', 'b24rules_rest_batch_commands', 'b24rules_event_age_seconds']) {
      expect(families.get(name)?.type, name).toBe('histogram');
    }
    expect(samplesOf(families, 'b24rules_rule_run_duration_seconds_count', { rule: 'welcome-leads' })[0]?.value).toBe(1);
    expect(samplesOf(families, 'b24rules_event_age_seconds_count', { source: 'offline' })[0]?.value).toBe(1);
    // The offline queue is read with event.offline.get, the comment sent in a batch: both families timed.
    expect(samplesOf(families, 'b24rules_rest_request_duration_seconds_count', { family: 'event.offline' })[0]?.value).toBeGreaterThan(0);
    expect(samplesOf(families, 'b24rules_rest_request_duration_seconds_count', { family: 'batch' })[0]?.value).toBeGreaterThan(0);
    expect(samplesOf(families, 'b24rules_rest_batch_commands_count')[0]?.value).toBeGreaterThan(0);
    expect(samplesOf(families, 'b24rules_queue_oldest_age_seconds')[0]?.value).toBe(0);
    expect(samplesOf(families, 'b24rules_rule_runs_total', { rule: 'welcome-leads', outcome: 'done' })[0]?.value).toBe(1);
    // Every family the docs list for a daemon is served (the worker's own are checked below).
    const workerOnly = ['b24rules_leases_held', 'b24rules_portal_queue_depth', 'b24rules_worker_lease_rounds_total', 'b24rules_worker_webhook_events_total'];
    for (const name of documentedFamilies()) if (!workerOnly.includes(name)) expect(families.has(name), `${name} (docs/operations.md) is served`).toBe(true);
  });
});

describe.skipIf(!pgUrl())('/metrics of a worker (rules run --state postgres://..., subprocess)', { timeout: 180_000 }, () => {
  let fleet: EmulatorFleet;
  let cp: ControlPlane;
  let url: string;
  let worker: DaemonProcess | undefined;
  beforeAll(async () => {
    fleet = await startEmulatorFleet({ portals: 2, limits: { burst: 1e9 } });
    ({ url, cp } = await fleetDeployment(fleet, 'metrics_expo'));
  });
  afterAll(async () => {
    worker?.proc.kill('SIGKILL');
    await closeUsers();
    await fleet?.close();
    await cp?.close();
  });

  it('parses strictly: the portals merged under a bounded portal label, histograms summed, the process metrics once', async () => {
    const env = { B24_CLIENT_ID: fleet.clientId, B24_CLIENT_SECRET: fleet.clientSecret, B24_OAUTH_URL: fleet.oauthUrl };
    worker = startDaemonProcess([ruleFolder(), '--state', url, '--worker-id', 'metrics-w1', '--listen', '127.0.0.1:0', '--lease-ttl-ms', '3000', '--poll-interval-ms', '50', '--max-portal-labels', '1'], env, tempDir());
    const started = await worker.waitForLog((r) => r.msg.startsWith('worker metrics-w1 started'), 60_000);
    await until(() => fleet.portals.every(bound), 'both portals bound', 30_000).catch((err: Error) => {
      throw new Error(`${err.message}; the worker logged ${JSON.stringify(worker?.logs.slice(-5))}, stderr ${worker?.stderr()}`);
    });
    for (const p of fleet.portals) await addLeads(p, `m${p.index}`, 3);
    await until(() => fleet.portals.every((p) => commentsByTitle(p).size === 3), 'the leads commented', 30_000);

    let families: Map<string, Family> = new Map();
    await until(async () => {
      families = parseExposition(await (await fetch(`${String(started.url)}/metrics`)).text());
      return samplesOf(families, 'b24rules_rule_run_duration_seconds_count').reduce((n, s) => n + s.value, 0) === 6;
    }, 'six runs in the histogram', 30_000);
    expectConventions(families);
    expect(samplesOf(families, 'b24rules_leases_held')[0]?.value).toBe(2);
    // One portal with a label of its own (--max-portal-labels 1), the other summed under "other".
    const portals = new Set(samplesOf(families, 'b24rules_rule_run_duration_seconds_count').map((s) => s.labels.portal));
    expect(portals.size).toBe(2);
    expect(portals.has('other')).toBe(true);
    for (const s of samplesOf(families, 'b24rules_rule_run_duration_seconds_count')) expect(s.value).toBe(3);
    expect(samplesOf(families, 'b24rules_event_age_seconds_count', { source: 'offline' }).reduce((n, s) => n + s.value, 0)).toBe(6);
    // The process's own families are not per portal.
    for (const f of families.values()) if (!f.name.startsWith('b24rules_')) for (const s of f.samples) expect(s.labels.portal, f.name).toBeUndefined();
    for (const name of ['b24rules_leases_held', 'b24rules_portal_queue_depth', 'b24rules_worker_lease_rounds_total']) expect(families.has(name), name).toBe(true);
  });
});
