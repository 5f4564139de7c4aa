/**
 * The workload of issue 12: new leads through the scenario rules 03 (route
 * each new lead to one team, round-robin, and notify the manager) and 09
 * (score it into UF_CRM_LEAD_SCORE). The leads are a fixed mix of the four
 * teams, none of them hot (score below 70), so every event costs the same
 * work: read the lead, set its manager, notify the manager, write the score.
 *
 * This file holds what every variant shares: the portal's data file, the
 * leads, what each lead must look like afterwards (team and score, computed
 * here from the rules' tables), seeding through the incoming webhook and the
 * check at the end.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { PACKAGE_ROOT } from '../engine/paths.js';
import type { EmulatorProcess } from './emulator-process.js';

/** The scenario rule files the daemon runs. */
export const SCENARIO_RULE_FILES = ['03-route-leads.yaml', '09-lead-scoring.yaml'] as const;

/** The connector the daemon binds with (its default) and the peers pass on their writes, so no one's own update comes back as an event. */
export const CONNECTOR = 'b24rules';

/** Offline events the rules need, bound once by the bench before any daemon starts. */
export const SCENARIO_EVENTS = ['ONCRMLEADADD', 'ONCRMLEADUPDATE'] as const;

/** A team of rules/03: its round-robin key and its users, in turn. */
export interface Team {
  key: 'key-accounts' | 'partners' | 'regions' | 'inbound';
  users: number[];
}

/** The teams as rules/03 names them: each rule's round_robin key and users, read from the file (so a changed team list is followed). */
function readTeams(): Record<Team['key'], Team> {
  const teams: Partial<Record<Team['key'], Team>> = {};
  for (const doc of parseAllDocuments(readFileSync(join(PACKAGE_ROOT, 'rules', '03-route-leads.yaml'), 'utf8'))) {
    const actions = ((doc.toJS() as { actions?: Array<Record<string, unknown>> } | null)?.actions ?? []).map((a) => a.round_robin as { key?: string; users?: number[] } | undefined);
    for (const rr of actions) if (rr?.key && rr.users) teams[rr.key as Team['key']] = { key: rr.key as Team['key'], users: rr.users };
  }
  for (const key of ['key-accounts', 'partners', 'regions', 'inbound'] as const) if (!teams[key]) throw new Error(`rules/03-route-leads.yaml has no round_robin with key '${key}': the bench's scenario no longer matches it`);
  return teams as Record<Team['key'], Team>;
}

export const TEAMS: Record<Team['key'], Team> = readTeams();

/** A lead as the rules read it (the fields they use). */
export type LeadRow = Record<string, unknown>;

const REGION = /сибир|урал|siberia|ural|новосибирск|екатеринбург/i;

/** The team rules/03 hands a new lead to (null: it stays). */
export function routeTeam(lead: LeadRow): Team | null {
  const assigned = String(lead.ASSIGNED_BY_ID ?? '');
  if (!(assigned === '1' || assigned === '') || lead.STATUS_ID !== 'NEW') return null;
  const amount = Number(lead.OPPORTUNITY ?? 0);
  const source = String(lead.SOURCE_ID ?? '');
  if (amount >= 1_000_000) return TEAMS['key-accounts'];
  if (source === 'PARTNER') return TEAMS.partners;
  const region = String(lead.UF_CRM_REGION || lead.ADDRESS_REGION || '').toLowerCase();
  if (REGION.test(region)) return TEAMS.regions;
  return TEAMS.inbound;
}

const SOURCE_POINTS: Record<string, number> = { PARTNER: 25, WEB: 20, CALL: 15, EMAIL: 10, ADVERTISING: 5 };

/** The score rules/09 gives a lead (0..90). */
export function leadScore(lead: LeadRow): number {
  const amount = Number(lead.OPPORTUNITY ?? 0);
  return (
    (SOURCE_POINTS[String(lead.SOURCE_ID ?? '')] ?? 0) +
    (lead.HAS_PHONE === 'Y' ? 15 : 0) +
    (lead.HAS_EMAIL === 'Y' ? 10 : 0) +
    (amount >= 1_000_000 ? 30 : amount >= 300_000 ? 20 : amount > 0 ? 10 : 0) +
    (lead.COMPANY_TITLE ? 10 : 0)
  );
}

/** The fields of new lead `i`: teams in turn, a company name on half of them; the highest score is 55 (never hot). */
export function leadFields(i: number): Record<string, unknown> {
  const company = i % 8 >= 4 ? { COMPANY_TITLE: `Bench Co ${i}` } : {};
  const base = { TITLE: `Bench lead ${i}`, STATUS_ID: 'NEW', ...company };
  switch (i % 4) {
    case 0:
      return { ...base, SOURCE_ID: 'CALL', OPPORTUNITY: 1_500_000, CURRENCY_ID: 'RUB' };
    case 1:
      return { ...base, SOURCE_ID: 'PARTNER', OPPORTUNITY: 500_000, CURRENCY_ID: 'RUB' };
    case 2:
      return { ...base, SOURCE_ID: 'WEB', OPPORTUNITY: 1000, CURRENCY_ID: 'RUB', UF_CRM_REGION: 'Урал' };
    default:
      return { ...base, SOURCE_ID: 'EMAIL', EMAIL: [{ VALUE: `lead${i}@example.test`, VALUE_TYPE: 'WORK' }] };
  }
}

/** The team and score lead `i` must have once the rules ran. */
export function expected(i: number): { team: Team; score: number } {
  const f = leadFields(i);
  const lead = { ...f, ASSIGNED_BY_ID: '1', HAS_EMAIL: f.EMAIL ? 'Y' : 'N', HAS_PHONE: 'N' };
  return { team: routeTeam(lead) as Team, score: leadScore(lead) };
}

/** Write the portal's data file: the demo portal's settings and user fields, 21 users (every manager the rules name), no records. */
export function writePortalData(file: string): void {
  const demo = parseYaml(readFileSync(join(PACKAGE_ROOT, 'emulator', 'data', 'demo-portal.yaml'), 'utf8')) as Record<string, unknown>;
  const template = (demo.users as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
  const users = Array.from({ length: 21 }, (_, k) => ({ ...template, ID: String(k + 1), NAME: `User${k + 1}`, LAST_NAME: 'Bench', EMAIL: `user${k + 1}@example.test`, IS_ADMIN: k === 0 }));
  const data = { portal: demo.portal, departments: demo.departments, users, userfields: demo.userfields, statuses: demo.statuses, categories: demo.categories };
  writeFileSync(file, JSON.stringify(data));
}

/** A rules directory with the scenario files. */
export function writeRulesDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const f of SCENARIO_RULE_FILES) copyFileSync(join(PACKAGE_ROOT, 'rules', f), join(dir, f));
  return dir;
}

/** Bind the rules' offline events for the connector (once per emulator; the daemon then finds them bound). */
export async function bindScenarioEvents(emu: EmulatorProcess): Promise<void> {
  for (const event of SCENARIO_EVENTS) await emu.appCall('event.bind', { event, event_type: 'offline', auth_connector: CONNECTOR });
}

/** Create leads `from` .. `from + count - 1` through the webhook, 50 per batch; returns their IDs in order. */
export async function createLeads(emu: EmulatorProcess, from: number, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 50) {
    const n = Math.min(50, count - start);
    const cmd = Object.fromEntries(Array.from({ length: n }, (_, k) => [`l${k}`, `crm.lead.add?${new URLSearchParams(flatten({ fields: leadFields(from + start + k) })).toString()}`]));
    const r = await emu.call<{ result: Record<string, number>; result_error: Record<string, unknown> }>('batch', { halt: 1, cmd });
    for (let k = 0; k < n; k++) {
      const id = r.result[`l${k}`];
      if (id === undefined) throw new Error(`creating lead ${from + start + k}: ${JSON.stringify(r.result_error).slice(0, 300)}`);
      ids.push(String(id));
    }
  }
  return ids;
}

/** PHP-style form keys (`fields[EMAIL][0][VALUE]`) of a nested object. */
function flatten(value: unknown, prefix = ''): Array<[string, string]> {
  if (value !== null && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}[${k}]` : k));
  }
  return [[prefix, String(value)]];
}

/** Read leads `ids` back (list pages, directly) and return what is wrong with them: an empty list when each has its team and score. */
export async function checkLeads(emu: EmulatorProcess, ids: readonly string[], firstIndex: number): Promise<string[]> {
  const rows = new Map<string, LeadRow>();
  for (let k = 0; k < ids.length; k += 50) {
    const page = await emu.call<LeadRow[]>('crm.lead.list', { filter: { '@ID': ids.slice(k, k + 50) }, select: ['ID', 'ASSIGNED_BY_ID', 'UF_CRM_LEAD_SCORE'], start: -1 });
    for (const r of page) rows.set(String(r.ID), r);
  }
  const wrong: string[] = [];
  ids.forEach((id, k) => {
    const want = expected(firstIndex + k);
    const row = rows.get(id);
    const assigned = Number(row?.ASSIGNED_BY_ID);
    if (!row) wrong.push(`lead ${id}: not found`);
    else if (!want.team.users.includes(assigned) || String(row.UF_CRM_LEAD_SCORE) !== String(want.score)) {
      wrong.push(`lead ${id}: manager ${String(row.ASSIGNED_BY_ID)} (team ${want.team.key}: ${want.team.users.join('/')}), score ${String(row.UF_CRM_LEAD_SCORE)} (want ${want.score})`);
    }
  });
  return wrong;
}

/** Records still in the connector's offline queue (reserved or not). */
export async function queueLength(emu: EmulatorProcess): Promise<number> {
  const r = await emu.appEnvelope<unknown[]>('event.offline.list', { auth_connector: CONNECTOR });
  return r.total ?? (Array.isArray(r.result) ? r.result.length : 0);
}
