/**
 * Conditions and templates: the CPU cost per event of a rule's json-logic
 * condition and its comment template, compiled once at load (what the rule
 * loader does) versus compiled again for every event. No I/O.
 *
 * Each variant runs in time slices, alternating, over the same 1,000 distinct
 * event facts; both must produce the same condition values and texts.
 */
import { compileCondition } from '../engine/logic/index.js';
import type { Facts } from '../engine/rules/index.js';
import { compileTemplate } from '../engine/template/index.js';
import { alternate, ratio } from './measure.js';
import type { BenchOptions, BenchResult, Sample } from './types.js';

/** Slice lengths and counts. */
export const LOGIC_DEFAULTS = {
  /** Length of one timed slice per variant, ms. @default 400 */
  sliceMs: 400,
  /** @default 5 */
  repetitions: 5,
  /** @default 100 */
  quickSliceMs: 100,
  /** @default 3 */
  quickRepetitions: 3,
  /** Distinct events cycled through. @default 1000 */
  events: 1000,
} as const;

/** A condition of the kind the scenario rules use: numbers, a list, a regex, a date. */
export const BENCH_CONDITION = {
  and: [
    { '>=': [{ var: 'deal.OPPORTUNITY' }, 1000] },
    { in_list: [{ var: 'deal.STAGE_ID' }, ['NEW', 'PREPARATION', 'PREPAYMENT_INVOICE']] },
    { '!': [{ matches: [{ var: 'deal.TITLE' }, '^test', 'i'] }] },
    { '<': [{ days_since: [{ var: 'deal.DATE_MODIFY' }] }, 14] },
  ],
};

/** A comment text with paths, filters and a date. */
export const BENCH_TEMPLATE = 'Deal {{ deal.TITLE | upper }} ({{ deal.OPPORTUNITY }} {{ deal.CURRENCY_ID }}) for {{ contact.NAME | default: "customer" }}, follow up by {{ now | add_days: 3 | date: YYYY-MM-DD }}';

function makeEvents(n: number): Facts[] {
  const now = '2026-03-02T10:00:00.000Z';
  const stages = ['NEW', 'PREPARATION', 'WON', 'PREPAYMENT_INVOICE'];
  return Array.from({ length: n }, (_, i) => ({
    now,
    env: {},
    deal: {
      ID: String(i + 1),
      TITLE: i % 10 === 0 ? `Test deal ${i}` : `Order ${i}`,
      OPPORTUNITY: String((i * 37) % 5000),
      CURRENCY_ID: 'EUR',
      STAGE_ID: stages[i % stages.length],
      DATE_MODIFY: new Date(Date.parse(now) - (i % 30) * 86_400_000).toISOString(),
    },
    contact: i % 3 === 0 ? null : { NAME: `Name${i}` },
  }));
}

type Evaluate = (facts: Facts) => [boolean, unknown];

function compiled(): Evaluate {
  const cond = compileCondition(BENCH_CONDITION);
  const tpl = compileTemplate(BENCH_TEMPLATE);
  return (facts) => [cond.evaluate(facts).value, tpl.render(facts)];
}

const recompiled: Evaluate = (facts) => [compileCondition(BENCH_CONDITION).evaluate(facts).value, compileTemplate(BENCH_TEMPLATE).render(facts)];

/** Evaluate events for about `sliceMs`, checking the first pass against the expected answers. */
function slice(evaluate: Evaluate, events: Facts[], sliceMs: number): Sample {
  let ops = 0;
  let sink = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < sliceMs) {
    // Check the clock every 100 events: reading it costs about as much as a compiled evaluation.
    for (let k = 0; k < 100; k++) {
      const [v, text] = evaluate(events[ops % events.length] as Facts);
      if (v) sink++;
      sink += (text as string).length & 1;
      ops++;
    }
    elapsed = performance.now() - started;
  }
  if (sink < 0) throw new Error('unreachable');
  return { ops, wallMs: elapsed, opsPerSec: (ops / elapsed) * 1000, usPerOp: (elapsed * 1000) / ops };
}

/** Run the condition/template benchmark. */
export async function runLogicBench(options: BenchOptions = {}): Promise<BenchResult> {
  const d = LOGIC_DEFAULTS;
  const sliceMs = options.quick ? d.quickSliceMs : d.sliceMs;
  const reps = options.repetitions ?? (options.quick ? d.quickRepetitions : d.repetitions);
  const events = makeEvents(d.events);
  const once = compiled();
  // Both must agree on every event before their speed means anything.
  for (const [i, f] of events.entries()) {
    const a = once(f);
    const b = recompiled(f);
    if (a[0] !== b[0] || a[1] !== b[1]) throw new Error(`logic: compiled and recompiled disagree on event ${i}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
  const truths = events.filter((f) => once(f)[0]).length;
  if (truths === 0 || truths === events.length) throw new Error(`logic: the condition is ${truths === 0 ? 'false' : 'true'} for every event; the workload must exercise both outcomes`);
  slice(once, events, sliceMs / 2);
  slice(recompiled, events, sliceMs / 2);
  const variants = await alternate(
    [
      { name: 'compiled', label: 'condition and template compiled once, evaluated per event', run: async () => slice(once, events, sliceMs) },
      { name: 'recompiled', label: 'condition and template compiled again for every event', run: async () => slice(recompiled, events, sliceMs) },
    ],
    reps,
    options.progress,
  );
  return {
    name: 'logic',
    title: 'Condition + template per event: compile once vs recompile',
    setup: `One json-logic condition (and of >=, in_list, !matches, days_since <) and one template (4 paths, upper, default, add_days, date) over ${d.events} distinct events, in ${sliceMs} ms slices; the condition is true for ${truths} of them.`,
    repetitions: reps,
    metrics: [
      { key: 'opsPerSec', label: 'events/s', unit: 'ops/s' },
      { key: 'usPerOp', label: 'per event', unit: 'µs' },
      { key: 'ops', label: 'events evaluated', unit: '' },
    ],
    variants,
    ratios: [ratio(variants, 'opsPerSec', 'compiled', 'recompiled')],
    computed: [],
    notes: ['A single-threaded CPU micro-benchmark: absolute figures move with the machine\'s load; the ratio, measured in alternating slices, is the figure to read.'],
  };
}
