/** The writes rules 03 and 09 make for one new lead, as a script would compute them (both peers share this). */
import { CONNECTOR, leadScore, routeTeam, type LeadRow } from '../lead-scenario.js';
import { nextUser, type RoundRobin } from './types.js';

/** A REST command: method and params. */
export type Command = [method: string, params: Record<string, unknown>];

/** The lead's manager (03), the manager's notification (03) and its score (09, when it changed): up to three writes, each carrying the connector. */
export function writesFor(lead: LeadRow, rr: RoundRobin): Command[] {
  const out: Command[] = [];
  const id = String(lead.ID);
  const team = routeTeam(lead);
  if (team) {
    const manager = nextUser(rr, team.key, team.users);
    out.push(['crm.lead.update', { id, fields: { ASSIGNED_BY_ID: manager }, auth_connector: CONNECTOR }]);
    out.push(['im.notify.system.add', { USER_ID: manager, MESSAGE: `New lead [URL=/crm/lead/details/${id}/]${String(lead.TITLE)}[/URL] is yours.`, auth_connector: CONNECTOR }]);
  }
  const score = leadScore(lead);
  if (String(lead.UF_CRM_LEAD_SCORE ?? '') !== String(score)) {
    out.push(['crm.lead.update', { id, fields: { UF_CRM_LEAD_SCORE: score }, auth_connector: CONNECTOR }]);
  }
  return out;
}

/** The lead ID of an offline record of ONCRMLEADADD (null for any other event). */
export function addedLeadId(record: Record<string, unknown>): string | null {
  if (String(record.EVENT_NAME ?? '').toUpperCase() !== 'ONCRMLEADADD') return null;
  const id = ((record.EVENT_DATA as Record<string, unknown> | undefined)?.FIELDS as Record<string, unknown> | undefined)?.ID;
  return id === undefined ? null : String(id);
}
