/**
 * Metrics of many portals in one process (a worker of `rules run --state
 * postgres://...`): each portal's engine keeps its own registry, and the
 * worker's `/metrics` renders them together with a `portal` label. The label
 * is bounded: the first `max` portals a worker serves keep their own value
 * for the life of the process, every later one is summed under
 * `portal="other"`, so a worker moving between thousands of portals never
 * makes thousands of series.
 */
import { renderFamilies, type FamilySnapshot, type Labels, type MetricsRegistry } from './metrics.js';

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
 * sample (samples of portals sharing a label value are summed), followed by
 * the families of `own` (the process's own metrics, unlabelled by portal).
 */
export function mergePortalFamilies(portals: readonly LabelledRegistry[], own?: MetricsRegistry): FamilySnapshot[] {
  const out = new Map<string, FamilySnapshot & { index: Map<string, { labels: Labels; value: number }> }>();
  for (const p of portals) {
    for (const f of p.registry.families()) {
      let family = out.get(f.name);
      if (!family) {
        family = { name: f.name, help: f.help, type: f.type, samples: [], index: new Map() };
        out.set(f.name, family);
      }
      for (const s of f.samples) {
        const labels: Labels = { ...s.labels, portal: p.portal };
        const key = JSON.stringify(Object.keys(labels).sort().map((k) => [k, String(labels[k])]));
        const existing = family.index.get(key);
        if (existing) existing.value += s.value;
        else {
          const sample = { labels, value: s.value };
          family.index.set(key, sample);
          family.samples.push(sample);
        }
      }
    }
  }
  const merged: FamilySnapshot[] = [...out.values()].map(({ index: _index, ...f }) => f);
  if (own) {
    const names = new Set(merged.map((f) => f.name));
    for (const f of own.families()) if (!names.has(f.name)) merged.push(f);
  }
  return merged;
}

/** mergePortalFamilies in Prometheus text format. */
export function renderPortalMetrics(portals: readonly LabelledRegistry[], own?: MetricsRegistry): string {
  return renderFamilies(mergePortalFamilies(portals, own));
}
