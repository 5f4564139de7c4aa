/** crm.{lead,deal,contact,company}.userfield.list/get/add (API-FACTS §6.4; api-reference/crm/leads/userfield/crm-lead-userfield-add.md). */
import { CRM_ENTITIES } from '../crm/entities.js';
import { compileFilter, compileOrder, tableSchema } from '../crm/filter.js';
import { ufDefinition, ufDefs } from '../crm/uf.js';
import type { EmulatorState } from '../state.js';
import { PortalError, type MethodRegistry } from '../types.js';
import { asId, objectParam, param } from './params.js';

const KINDS = { ID: 'number', ENTITY_ID: 'string', FIELD_NAME: 'string', USER_TYPE_ID: 'string', XML_ID: 'string', SORT: 'number', MULTIPLE: 'string', MANDATORY: 'string', SHOW_FILTER: 'string', SHOW_IN_LIST: 'string', EDIT_IN_LIST: 'string', IS_SEARCHABLE: 'string' } as const;

export function registerCrmUserfields(registry: MethodRegistry, state: EmulatorState): void {
  const store = state.store;
  for (const entity of Object.values(CRM_ENTITIES)) {
    const p = `crm.${entity.name}.userfield`;
    registry.register(`${p}.list`, {
      scope: 'crm',
      handler: (params) => {
        const schema = tableSchema(KINDS, state.portal.offsetMinutes);
        const rows = ufDefs(store, entity.ufEntityId).filter(compileFilter(param(params, 'filter'), schema));
        rows.sort(compileOrder(param(params, 'order'), schema, [['SORT', 'ASC'], ['ID', 'ASC']]));
        return { result: rows, total: rows.length };
      },
    });
    registry.register(`${p}.get`, {
      scope: 'crm',
      handler: (params) => {
        const id = asId(param(params, 'id'));
        if (id === undefined) throw new PortalError(400, '', 'ID is not defined or invalid.');
        const row = store.get('userfield', id);
        if (!row || row.ENTITY_ID !== entity.ufEntityId) throw new PortalError(400, '', 'Not found');
        return { result: row };
      },
    });
    registry.register(`${p}.add`, {
      scope: 'crm',
      cost: 0.05,
      handler: (params) => {
        const fields = objectParam(params, 'fields');
        if (!fields || !fields.FIELD_NAME) throw new PortalError(400, 'ERROR_CORE', "The 'FIELD_NAME' field is not specified.");
        const def = ufDefinition(store, entity.ufEntityId, { ...fields, ID: undefined });
        const name = String(def.FIELD_NAME);
        if (!/^UF_CRM_[A-Z0-9_]+$/.test(name) || name.length > 50) {
          throw new PortalError(400, 'ERROR_CORE', `Invalid field code '${name}': use A-Z, 0-9 and _, at most 50 characters with the UF_CRM_ prefix.`);
        }
        if (ufDefs(store, entity.ufEntityId).some((d) => d.FIELD_NAME === name)) throw new PortalError(400, 'ERROR_CORE', `A field with code '${name}' already exists.`);
        store.put('userfield', String(def.ID), def);
        return { result: Number(def.ID) };
      },
    });
  }
}
