/** The plan as JSON (`--format json`, and the `--out plan.json` file): the PlanDocument itself, keys sorted. */
import { sortKeys } from '../canonical-json.js';
import type { PlanDocument } from './types.js';

export function renderJson(plan: PlanDocument): string {
  return `${JSON.stringify(sortKeys(plan), null, 2)}\n`;
}
