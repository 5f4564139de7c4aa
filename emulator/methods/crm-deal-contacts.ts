/**
 * A deal's contacts: crm.deal.contact.items.get/set/delete and crm.deal.contact.add/delete
 * (api-reference/crm/deals/contacts/). Kept in CONTACT_IDS, whose first entry (or the
 * IS_PRIMARY one) is CONTACT_ID.
 */
import { CRM_ENTITIES } from '../crm/entities.js';
import type { CrmRecords } from '../crm/records.js';
import type { EmulatorState } from '../state.js';
import type { Row } from '../store.js';
import { PortalError, type CallContext, type MethodRegistry, type Params } from '../types.js';
import { asId, legacyId, objectParam, param } from './params.js';

interface Item {
  CONTACT_ID: number;
  SORT: number;
  ROLE_ID: number;
  IS_PRIMARY: 'Y' | 'N';
}

function list(v: unknown): Row[] {
  if (Array.isArray(v)) return v.filter((x): x is Row => x !== null && typeof x === 'object');
  if (v !== null && typeof v === 'object') return Object.values(v).filter((x): x is Row => x !== null && typeof x === 'object');
  return [];
}

export function registerDealContacts(registry: MethodRegistry, state: EmulatorState, records: CrmRecords): void {
  const deal = CRM_ENTITIES.deal;
  const store = state.store;

  const items = (row: Row): Item[] => {
    const ids = Array.isArray(row.CONTACT_IDS) && (row.CONTACT_IDS as unknown[]).length > 0 ? (row.CONTACT_IDS as string[]) : row.CONTACT_ID ? [String(row.CONTACT_ID)] : [];
    return ids.map((id, i) => ({ CONTACT_ID: Number(id), SORT: (i + 1) * 10, ROLE_ID: 0, IS_PRIMARY: String(row.CONTACT_ID) === id ? 'Y' : 'N' }));
  };
  const dealOf = (params: Params): [string, Row] => {
    const id = legacyId(params);
    const row = store.get('deal', id);
    if (!row) throw new PortalError(400, '', 'Not found');
    return [id, row];
  };
  const save = (id: string, next: Item[], ctx: CallContext): void => {
    const sorted = [...next].sort((a, b) => a.SORT - b.SORT);
    const primary = sorted.find((i) => i.IS_PRIMARY === 'Y') ?? sorted[0];
    const ordered = primary ? [primary, ...sorted.filter((i) => i !== primary)] : [];
    records.update(deal, id, { CONTACT_IDS: ordered.map((i) => i.CONTACT_ID), CONTACT_ID: primary ? primary.CONTACT_ID : '' }, ctx);
  };
  const toItem = (r: Row, i: number): Item => {
    const cid = asId(r.CONTACT_ID);
    if (cid === undefined) throw new PortalError(400, '', 'The field CONTACT_ID is required.');
    if (!store.get('contact', cid)) throw new PortalError(400, '', `Contact with ID ${cid} is not found.`);
    return { CONTACT_ID: Number(cid), SORT: Number(r.SORT ?? (i + 1) * 10), ROLE_ID: 0, IS_PRIMARY: r.IS_PRIMARY === 'Y' ? 'Y' : 'N' };
  };

  registry.register('crm.deal.contact.items.get', { scope: 'crm', handler: (params) => ({ result: items(dealOf(params)[1]) }) });

  registry.register('crm.deal.contact.items.set', {
    scope: 'crm',
    cost: 0.05,
    handler: (params, ctx) => {
      const [id] = dealOf(params);
      save(id, list(param(params, 'items')).map(toItem), ctx);
      return { result: true };
    },
  });

  registry.register('crm.deal.contact.items.delete', {
    scope: 'crm',
    cost: 0.05,
    handler: (params, ctx) => {
      const [id] = dealOf(params);
      save(id, [], ctx);
      return { result: true };
    },
  });

  registry.register('crm.deal.contact.add', {
    scope: 'crm',
    cost: 0.05,
    handler: (params, ctx) => {
      const [id, row] = dealOf(params);
      const item = toItem(objectParam(params, 'fields') ?? {}, items(row).length);
      const rest = items(row).filter((i) => i.CONTACT_ID !== item.CONTACT_ID).map((i) => (item.IS_PRIMARY === 'Y' ? { ...i, IS_PRIMARY: 'N' as const } : i));
      save(id, [...rest, item], ctx);
      return { result: true };
    },
  });

  registry.register('crm.deal.contact.delete', {
    scope: 'crm',
    cost: 0.05,
    handler: (params, ctx) => {
      const [id, row] = dealOf(params);
      const cid = Number(asId((objectParam(params, 'fields') ?? {}).CONTACT_ID));
      save(id, items(row).filter((i) => i.CONTACT_ID !== cid), ctx);
      return { result: true };
    },
  });
}
