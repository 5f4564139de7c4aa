/**
 * The logic bench's condition peers (issue 12), run in-process in --quick
 * mode: every peer is set up on the same conditions and must agree with the
 * engine on every condition and lead (the bench throws before timing
 * otherwise), and the result holds every variant, the ratios against the
 * engine's path and the target. No assertion depends on the machine's speed.
 */
import { describe, expect, it } from 'vitest';
import { runLogicBench } from '../../bench/index.js';

describe('bench logic --quick', () => {
  it('times the engine path beside json-logic-engine, json-logic-js and json-rules-engine on the same conditions, after they agreed', async () => {
    const r = await runLogicBench({ quick: true, repetitions: 1 });
    const names = r.variants.map((v) => v.name);
    expect(names).toEqual(['compiled', 'recompiled', 'engine', 'engine-explain', 'nodes', 'json-logic-engine', 'json-logic-js', 'engine-std', 'json-logic-engine-std', 'json-rules-engine']);
    for (const v of r.variants) expect(v.median.ops, v.name).toBeGreaterThan(0);
    expect(r.ratios.map((x) => `${x.numerator}/${x.denominator}`)).toEqual([
      'compiled/recompiled',
      'engine/json-logic-engine',
      'engine/json-logic-js',
      'engine/json-rules-engine',
      'engine/engine-explain',
      'engine/nodes',
      'engine-std/json-logic-engine-std',
    ]);
    const target = r.targets?.[0];
    expect(target?.target).toBe('≥ 1×');
    expect(target?.measured).toBe(r.ratios[1]!.value);
    expect(target?.met).toBe(target!.measured >= 1);
    // Both outcomes are exercised: 5 conditions over 1,000 leads.
    expect(r.setup).toMatch(/1000 true, 4000 false/);
  }, 120_000);
});
