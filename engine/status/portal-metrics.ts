/**
 * Metrics of many portals in one process (a worker of `rules run --state
 * postgres://...`): each portal's engine keeps its own registry, and the
 * worker's `/metrics` renders them together with a `portal` label. The label
 * is bounded: the first `max` portals a worker serves keep their own value
 * for the life of the process, every later one is summed under
 * `portal="other"`, so a worker moving between thousands of portals never
 * makes thousands of series.
 */
import { AggregatorRegistry, type Metric, type Registry, type RegistryContentType } from 'prom-client';
import type { FamilyJson, MetricsRegistry } from './metrics.js';

/** The label value the portals past the cap share. */
export const OTHER_PORTAL = 'other';

/** Hands out `portal` label values: a portal's own value while under the cap, else `other`. */
export class PortalLabels {
  readonly #max: number;
  readonly #given = new Map<string, string>();

  /** @param max Distinct portal label values at most (0: every portal is `other`). */
  constructor(max: number) {
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`max portal labels must be a whole number >= 0; got ${max}`);
    this.#max = max;
  }

  /** The label of the portal keyed `key` (its member_id), shown as `shown` (its domain) when it gets one of its own. */
  label(key: string, shown: string): string {
    const given = this.#given.get(key);
    if (given !== undefined) return given;
    if (this.#given.size >= this.#max) return OTHER_PORTAL;
    const value = shown === OTHER_PORTAL ? `${shown}-portal` : shown;
    this.#given.set(key, value);
    return value;
  }

  /** How many portals have a label of their own. */
  get size(): number {
    return this.#given.size;
  }
}

/** One portal's registry and its label value. */
export interface LabelledRegistry {
  portal: string;
  registry: MetricsRegistry;
}

/**
 * The families of every portal's registry with `portal` added to each
 * sample (samples of portals sharing a label value are summed, histogram
 * buckets too: prom-client's own aggregation), followed by the families of
 * `own` (the process's own metrics, unlabelled by portal).
 */
export async function mergePortalFamilies(portals: readonly LabelledRegistry[], own?: MetricsRegistry): Promise<Registry<RegistryContentType>> {
  const labelled: FamilyJson[][] = [];
  for (const p of portals) {
    const families = await p.registry.families();
    labelled.push(families.map((f) => ({ ...f, values: f.values.map((v) => ({ ...v, labels: withPortal(v.labels, p.portal) })) })));
  }
  const merged = AggregatorRegistry.aggregate(labelled);
  if (own) {
    for (const f of own.prom.getMetricsAsArray()) if (!merged.getSingleMetric(f.name)) merged.registerMetric(f as unknown as Metric);
  }
  return merged;
}

/** The labels with `portal` among them, keys sorted. */
function withPortal(labels: FamilyJson['values'][number]['labels'], portal: string): Record<string, string | number> {
  const all: Record<string, string | number> = { ...(labels as Record<string, string | number>), portal };
  return Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k] as string | number]));
}

/** mergePortalFamilies in the text exposition format. */
export async function renderPortalMetrics(portals: readonly LabelledRegistry[], own?: MetricsRegistry): Promise<string> {
  return (await mergePortalFamilies(portals, own)).metrics();
}
