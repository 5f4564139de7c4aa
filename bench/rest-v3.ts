/**
 * REST 3.0 task creates: N queued ONCRMLEADADD events, each of which makes one
 * follow-up task for its lead (and a timeline comment). The same engine and
 * rule, two variants on a fresh emulated portal each repetition:
 *
 * - `v1-batched`: `restV3` off. tasks.task.add goes in REST 1 batches of up to
 *   50 commands beside the comments; a task whose answer was lost is looked up
 *   by its marker before it is sent again (docs/engine.md, "Recovery").
 * - `v3-idempotent`: `restV3` on (the daemon's setting). Each tasks.task.add is
 *   its own REST 3.0 request with the effect key as its `Idempotency-Key`; the
 *   comments still go in REST 1 batches.
 *
 * The figure that decides the default is the HTTP request count, and what it
 * costs at the real portal's leaky bucket (burst 50, 2 requests/s): on loopback
 * both variants are quick, on a real portal the bucket is the bottleneck.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../engine/pipeline/index.js';
import { loadRuleSource, type CompiledRule } from '../engine/rules/index.js';
import { openStateStore } from '../engine/store/index.js';
import { events, secondsAtRealRate } from './backlog.js';
import { alternate, ratio } from './measure.js';
import { tickToEmpty } from './tick-to-empty.js';
import { startBenchPortal, type BenchPortal } from './portal.js';
import type { BenchOptions, BenchResult, ComputedFigure, Sample } from './types.js';

/** Sizes of the full and the quick run. */
export const REST_V3_DEFAULTS = {
  /** @default 500 */
  events: 500,
  /** @default 3 */
  repetitions: 3,
  /** @default 100 */
  quickEvents: 100,
  /** @default 1 */
  quickRepetitions: 1,
  /** Events of the untimed warm-up run of each variant. @default 20 */
  warmupEvents: 20,
} as const;

export const REST_V3_RULE = `
id: bench-followup
trigger: { event: ONCRMLEADADD }
actions:
  - task:
      title: "Call back {{ lead.TITLE }}"
      responsible: 1
      bind: { entity: lead, id: "{{ lead.ID }}" }
  - comment:
      entity: lead
      id: "{{ lead.ID }}"
      text: "A call-back task was set for {{ lead.TITLE }}"
`;

function compileRule(): CompiledRule[] {
  const res = loadRuleSource(REST_V3_RULE, 'bench/rest-v3.ts');
  const errors = res.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`the REST 3.0 bench rule does not compile: ${errors.map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`).join('; ')}`);
  return res.rules;
}

function seedLeads(portal: BenchPortal, n: number): string[] {
  return portal.emu.store.seed(
    'lead',
    Array.from({ length: n }, (_, i) => ({ TITLE: `V3 lead ${i}`, STATUS_ID: 'NEW' })),
  );
}

/** Throw unless every lead got exactly one task and one comment. */
function checkWork(portal: BenchPortal, leadIds: string[], variant: string): void {
  const tasks = portal.emu.store.all('task');
  const comments = portal.emu.store.all('timeline_comment');
  const titles = new Map<string, number>();
  for (const t of tasks) titles.set(String(t.title), (titles.get(String(t.title)) ?? 0) + 1);
  const wrong = leadIds.filter((_, i) => titles.get(`Call back V3 lead ${i}`) !== 1);
  if (tasks.length !== leadIds.length || comments.length !== leadIds.length || wrong.length > 0) {
    throw new Error(`rest-v3/${variant}: the work was not done: ${tasks.length} tasks and ${comments.length} comments for ${leadIds.length} leads, ${wrong.length} leads without exactly one task`);
  }
}

async function runVariant(n: number, rules: CompiledRule[], restV3: boolean): Promise<Sample> {
  const portal = await startBenchPortal({ client: { restV3 } });
  const dir = mkdtempSync(join(tmpdir(), 'b24-bench-v3-'));
  const store = openStateStore(join(dir, 'state.db'), { synchronous: 'NORMAL' });
  try {
    const leadIds = seedLeads(portal, n);
    store.inbox.add(events(leadIds));
    portal.emu.calls.clear();
    const engine = createEngine({ store, client: portal.client, rules });
    const { wallMs, cpuMs, ticks } = await tickToEmpty(engine);
    checkWork(portal, leadIds, restV3 ? 'v3' : 'v1');
    const records = portal.records();
    return {
      httpRequests: portal.emu.calls.httpRequests,
      batchRequests: records.filter((r) => r.method === 'batch' && r.batch === undefined).length,
      restCalls: records.filter((r) => r.method !== 'batch').length,
      wallMs,
      cpuMs,
      ticks,
    };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
    await portal.close();
  }
}

/** Run the REST 3.0 benchmark. */
export async function runRestV3Bench(options: BenchOptions = {}): Promise<BenchResult> {
  const n = options.quick ? REST_V3_DEFAULTS.quickEvents : REST_V3_DEFAULTS.events;
  const reps = options.repetitions ?? (options.quick ? REST_V3_DEFAULTS.quickRepetitions : REST_V3_DEFAULTS.repetitions);
  const rules = compileRule();
  const specs = [
    { name: 'v1-batched', label: 'restV3 off: tasks.task.add in REST 1 batches of 50, looked up after a lost answer', run: () => runVariant(n, rules, false) },
    { name: 'v3-idempotent', label: 'restV3 on: each tasks.task.add its own REST 3.0 request with an Idempotency-Key', run: () => runVariant(n, rules, true) },
  ];
  for (const v of specs) await runVariant(REST_V3_DEFAULTS.warmupEvents, rules, v.name === 'v3-idempotent');
  const variants = await alternate(specs, reps, options.progress);
  const computed: ComputedFigure[] = variants.map((v) => ({
    variant: v.name,
    label: `${v.name}: time at the real portal's rate (burst 50, 2/s)`,
    value: secondsAtRealRate(v.median.httpRequests ?? 0),
    unit: 's',
    formula: 'max(0, httpRequests - 50) / 2',
  }));
  return {
    name: 'rest-v3',
    title: `REST 3.0 task creates: ${n.toLocaleString('en-US')} ONCRMLEADADD events, one task and one comment each`,
    setup: `${n} leads seeded in a fresh emulator per repetition (limits unthrottled, client limiter off), their events put straight into the inbox. Rule: a call-back task bound to the lead, and a timeline comment.`,
    repetitions: reps,
    metrics: [
      { key: 'httpRequests', label: 'HTTP requests', unit: '' },
      { key: 'batchRequests', label: 'batch requests', unit: '' },
      { key: 'restCalls', label: 'REST calls', unit: '' },
      { key: 'wallMs', label: 'wall time', unit: 'ms' },
      { key: 'cpuMs', label: 'process CPU', unit: 'ms' },
    ],
    variants,
    ratios: [ratio(variants, 'httpRequests', 'v3-idempotent', 'v1-batched'), ratio(variants, 'wallMs', 'v3-idempotent', 'v1-batched')],
    computed,
    notes: [
      'HTTP requests and REST calls are counted by the emulator (a batch is one HTTP request carrying up to 50 REST calls; a REST 3.0 call is one request).',
      'No fault is injected: the v1 variant\'s price for a lost answer (one look-up list call per task in doubt) is not paid here; it is paid only after a crash or a timeout.',
      'Time at the real portal is COMPUTED from the request count, not measured.',
    ],
  };
}
