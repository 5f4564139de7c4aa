/**
 * Conditions and templates: the CPU cost per event of rule conditions and a
 * comment template. Two questions in one run, every variant in alternating
 * time slices over the same 1,000 distinct events:
 *
 * - compile once (what the rule loader does) versus compile again for every
 *   event, for a condition and a template together;
 * - the engine's condition path (the fast path, and the same with the "why
 *   false" explanation worked out for every false result, as the engine did
 *   before issue 12) beside json-logic-engine's compiled mode, json-logic-js
 *   and json-rules-engine on the same conditions (bench/logic-peers.ts): the
 *   routing conditions of scenario 03 and the enrichment one of scenario 02.
 *
 * Every variant must give the same answers (checked before anything is timed).
 */
import { checkCondition, compileCondition, compileLogic, ConditionSkip } from '../engine/logic/index.js';
import type { Condition, Facts } from '../engine/rules/index.js';
import { compileTemplate } from '../engine/template/index.js';
import { jsonLogicEngine, jsonLogicJs, jsonRulesEngine, PEER_CONDITIONS, peerFacts, STANDARD_CONDITIONS, type ConditionEval } from './logic-peers.js';
import { alternate, checkTarget, ratio, type VariantSpec } from './measure.js';
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

// What the engine's path hands on (the skip pipeline/3-evaluate.ts returns) is kept here, so it is really built.
let kept: unknown;

/** The engine's condition path, as pipeline/3-evaluate.ts takes it: the value, and for a false one the skip it returns; with `explain`, its reason is read too (the explanation the engine used to build for every false result). */
function enginePath(conditions: readonly unknown[], explain: boolean): ConditionEval[] {
  return conditions.map((source) => {
    const c: Condition = compileCondition(source);
    return (facts) => {
      const o = checkCondition(c, facts);
      if (o.value) return true;
      const skip = new ConditionSkip(o);
      kept = explain ? skip.reason : skip;
      return false;
    };
  });
}

/** The compiled nodes alone: truthiness of the root, no result object. */
function bareNodes(conditions: readonly unknown[]): ConditionEval[] {
  return conditions.map((source) => {
    const node = compileLogic(source);
    return (facts) => node.test(facts, facts);
  });
}

/** Evaluate every condition on events for about `sliceMs`; one op is one condition evaluated. */
function conditionSlice(evals: readonly ConditionEval[], events: Facts[], sliceMs: number): Sample {
  let ops = 0;
  let held = 0;
  let e = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < sliceMs) {
    for (let k = 0; k < 100; k++) {
      const facts = events[e++ % events.length] as Facts;
      for (let c = 0; c < evals.length; c++) if (evals[c]!(facts)) held++;
      ops += evals.length;
    }
    elapsed = performance.now() - started;
  }
  if (held < 0 || kept === null) throw new Error('unreachable');
  return { ops, wallMs: elapsed, opsPerSec: (ops / elapsed) * 1000, usPerOp: (elapsed * 1000) / ops };
}

async function asyncConditionSlice(evals: ReadonlyArray<(facts: Facts) => Promise<boolean>>, events: Facts[], sliceMs: number): Promise<Sample> {
  let ops = 0;
  let e = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < sliceMs) {
    const facts = events[e++ % events.length] as Facts;
    for (const ev of evals) await ev(facts);
    ops += evals.length;
    elapsed = performance.now() - started;
  }
  return { ops, wallMs: elapsed, opsPerSec: (ops / elapsed) * 1000, usPerOp: (elapsed * 1000) / ops };
}

/** The condition variants, after checking that each gives the engine's values on every event and condition. */
async function conditionVariants(events: Facts[], sliceMs: number): Promise<{ specs: VariantSpec[]; truths: number; falses: number }> {
  const reference = PEER_CONDITIONS.map((source) => compileCondition(source));
  const standard = STANDARD_CONDITIONS.map((source) => compileCondition(source));
  const sync: Array<[string, string, ConditionEval[], Condition[]]> = [
    ['engine', "engine's condition path: the value; a false one's explanation left until asked", enginePath(PEER_CONDITIONS, false), reference],
    ['engine-explain', "engine's condition path, every false result explained (the engine before issue 12)", enginePath(PEER_CONDITIONS, true), reference],
    ['nodes', 'the compiled nodes alone (truthiness of the root)', bareNodes(PEER_CONDITIONS), reference],
    ['json-logic-engine', 'json-logic-engine, compiled mode (build)', jsonLogicEngine(PEER_CONDITIONS), reference],
    ['json-logic-js', 'json-logic-js (apply)', jsonLogicJs(PEER_CONDITIONS), reference],
    ['engine-std', "engine's condition path, standard operators only", enginePath(STANDARD_CONDITIONS, false), standard],
    ['json-logic-engine-std', 'json-logic-engine compiled, standard operators only', jsonLogicEngine(STANDARD_CONDITIONS), standard],
  ];
  const rulesEngine = jsonRulesEngine(PEER_CONDITIONS);
  let truths = 0;
  let falses = 0;
  for (const [i, f] of events.entries()) {
    for (const [c, cond] of reference.entries()) {
      const want = cond.evaluate(f);
      if (want.value) truths++;
      else falses++;
      for (const [name, , evals, conds] of sync) {
        const expected = conds[c]!.evaluate(f).value;
        if (evals[c]!(f) !== expected) throw new Error(`logic: ${name} says ${String(!expected)} for condition ${c} on event ${i}, the engine ${String(expected)}`);
      }
      if (standard[c]!.evaluate(f).value !== want.value) throw new Error(`logic: the standard-operator form of condition ${c} decides event ${i} differently`);
      if ((await rulesEngine[c]!(f)) !== want.value) throw new Error(`logic: json-rules-engine disagrees on condition ${c}, event ${i}`);
      // The explanation the engine's path leaves until asked is the one Condition.evaluate gives.
      const o = checkCondition(cond, f);
      if (!o.value && new ConditionSkip(o).reason !== `condition false: ${want.reason}`) throw new Error(`logic: the lazy explanation differs on condition ${c}, event ${i}`);
    }
  }
  const specs: VariantSpec[] = sync.map(([name, label, evals]) => {
    conditionSlice(evals, events, sliceMs / 2);
    return { name, label, run: async () => conditionSlice(evals, events, sliceMs) };
  });
  specs.push({ name: 'json-rules-engine', label: 'json-rules-engine (one engine per condition; run is asynchronous)', run: () => asyncConditionSlice(rulesEngine, events, sliceMs) });
  return { specs, truths, falses };
}

/** Run the condition/template benchmark. */
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
  const leads = peerFacts(d.events);
  const peers = await conditionVariants(leads, sliceMs);
  const variants = await alternate(
    [
      { name: 'compiled', label: 'condition and template compiled once, evaluated per event (op: one event)', run: async () => slice(once, events, sliceMs) },
      { name: 'recompiled', label: 'condition and template compiled again for every event (op: one event)', run: async () => slice(recompiled, events, sliceMs) },
      ...peers.specs,
    ],
    reps,
    options.progress,
  );
  const vsPeer = ratio(variants, 'opsPerSec', 'engine', 'json-logic-engine');
  return {
    name: 'logic',
    title: 'Conditions per event: compile once vs recompile; the engine\'s condition path vs json-logic-engine, json-logic-js, json-rules-engine',
    setup:
      `compiled/recompiled: one json-logic condition (and of >=, in_list, !matches, days_since <) and one template (4 paths, upper, default, add_days, date) over ${d.events} distinct events (an op is one event; the condition is true for ${truths} of them). ` +
      `The other variants: the 5 conditions of scenarios 03 and 02 (and/or of in_list, ==, <, >=, !=, matches, !matches over lead fields) over ${d.events} distinct new leads (an op is one condition evaluated; ${peers.truths} true, ${peers.falses} false), every variant giving the engine's values; the -std variants run the same routing in standard operators only ('in' for in_list and for the regex), with the same outcomes. ${sliceMs} ms slices.`,
    repetitions: reps,
    metrics: [
      { key: 'opsPerSec', label: 'ops/s', unit: 'ops/s' },
      { key: 'usPerOp', label: 'per op', unit: 'µs' },
      { key: 'ops', label: 'ops', unit: '' },
    ],
    variants,
    ratios: [
      ratio(variants, 'opsPerSec', 'compiled', 'recompiled'),
      vsPeer,
      ratio(variants, 'opsPerSec', 'engine', 'json-logic-js'),
      ratio(variants, 'opsPerSec', 'engine', 'json-rules-engine'),
      ratio(variants, 'opsPerSec', 'engine', 'engine-explain'),
      ratio(variants, 'opsPerSec', 'engine', 'nodes'),
      ratio(variants, 'opsPerSec', 'engine-std', 'json-logic-engine-std'),
    ],
    computed: [],
    targets: [
      checkTarget(
        "engine's condition path / json-logic-engine compiled, evaluations/s",
        vsPeer.value,
        '×',
        1,
        true,
        vsPeer.value >= 1
          ? undefined
          : 'missed: the engine compiles to closures (docs/rule-format.md: nothing is evaluated as JavaScript), json-logic-engine to one generated JavaScript function per condition; every `var` read here also checks own properties (Object.hasOwn), which json-logic-engine does not',
      ),
    ],
    notes: [
      'A single-threaded CPU micro-benchmark: absolute figures move with the machine\'s load; the ratios, measured in alternating slices, are the figures to read.',
      'matches runs on RE2 (safeRegExp) for every variant; the peers get in_list and matches as custom operators with the engine\'s semantics.',
    ],
  };
}
