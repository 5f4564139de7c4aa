/**
 * crm.type.list: the smart-process types (api-reference/crm/universal/user-defined-object-types/crm-type-list.md):
 * `{ types: [...] }` with `total` (and `next`), pages of 50. The demo portal has none; types are rows of the
 * `smart_type` table (`{ id, title, entityTypeId, ... }`), which a portal's data or a test may fill.
 */
import { paginate } from '../crm/filter.js';
import type { EmulatorState } from '../state.js';
import type { MethodRegistry } from '../types.js';
import { param } from './params.js';

/** Register crm.type.list. */
export function registerCrmType(registry: MethodRegistry, state: EmulatorState): void {
  registry.register('crm.type.list', {
    scope: 'crm',
    handler: (params) => {
      const rows = state.store
        .all('smart_type')
        .map((t) => ({ ...t, id: Number(t.id), entityTypeId: Number(t.entityTypeId) }))
        .sort((a, b) => a.id - b.id);
      const { page, total, next } = paginate(rows, param(params, 'start'));
      return { result: { types: page }, total, ...(next !== undefined ? { next } : {}) };
    },
  });
}
