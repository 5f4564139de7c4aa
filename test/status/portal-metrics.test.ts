/** The `portal` label of a worker's /metrics: each portal's engine registry merged, bounded by PortalLabels. */
import { describe, expect, it } from 'vitest';
import { createDaemonMetrics, MetricsRegistry, PortalLabels, renderPortalMetrics } from '../../engine/status/index.js';

describe('portal labels', () => {
  it('the first max portals keep their own value for good; later ones are "other"', () => {
    const labels = new PortalLabels(2);
    expect(labels.label('m1', 'a.bitrix24.com')).toBe('a.bitrix24.com');
    expect(labels.label('m2', 'b.bitrix24.com')).toBe('b.bitrix24.com');
    expect(labels.label('m3', 'c.bitrix24.com')).toBe('other');
    expect(labels.label('m1', 'renamed.bitrix24.com')).toBe('a.bitrix24.com');
    expect(labels.size).toBe(2);
    expect(new PortalLabels(0).label('m1', 'a')).toBe('other');
  });

  it("merges the portals' registries with a portal label, summing the portals that share 'other', and adds the worker's own", async () => {
    const a = createDaemonMetrics({ depth: () => 3 });
    const b = createDaemonMetrics({ depth: () => 4 });
    const c = createDaemonMetrics({ depth: () => 5 });
    a.restCalls.inc({}, 10);
    b.restCalls.inc({}, 1);
    c.restCalls.inc({}, 2);
    a.ruleRuns.inc({ rule: 'r1', outcome: 'done' });
    const own = new MetricsRegistry();
    own.gauge('b24rules_leases_held', 'Leases held.').set(3);
    const text = await renderPortalMetrics(
      [
        { portal: 'a.example', registry: a.registry },
        { portal: 'other', registry: b.registry },
        { portal: 'other', registry: c.registry },
      ],
      own,
    );
    expect(text).toContain('b24rules_rest_calls_total{portal="a.example"} 10');
    expect(text).toContain('b24rules_rest_calls_total{portal="other"} 3');
    expect(text).toContain('b24rules_queue_depth{portal="other"} 9');
    expect(text).toContain('b24rules_rule_runs_total{outcome="done",portal="a.example",rule="r1"} 1');
    expect(text).toContain('b24rules_leases_held 3');
    // One HELP and TYPE per family.
    expect(text.match(/# TYPE b24rules_rest_calls_total /g)).toHaveLength(1);
  });
});
