/**
 * The portal's record of the drill's effects, read from the emulator's store:
 * for every lead the drill expects to be followed up (the backlog's and the
 * ones form posts became), how many tasks, comments and contacts the rules
 * made for it and whether the lead links its contact; and what the rules made
 * that belongs to no expected lead. The checks turn this into lost and
 * duplicated effects; the conductor uses it as the backlog's progress.
 */
import type { Emulator } from '../../emulator/index.js';
import { commentText, contactName, formLeadTitle, taskTitle } from './rules.js';

/** What the rules did for one lead. */
export interface LeadEffects {
  id: string;
  title: string;
  tasks: number;
  comments: number;
  contacts: number;
  /** The lead's CONTACT_ID is the (first) contact made for it. */
  linked: boolean;
}

export interface EffectsRecord {
  leads: LeadEffects[];
  /** Leads per form post number (each must be exactly one). */
  formLeads: Map<number, number>;
  /** Effects of the drill's rules that match no expected lead (made for a lead that does not exist, or twice under another id). */
  strays: number;
}

type Row = Record<string, unknown>;

/** Read the record: `backlogIds` are the leads the drill created; form leads are found by title. */
export function readEffects(emu: Emulator, backlogIds: readonly string[], forms: number): EffectsRecord {
  return effectsFromRows({ leads: emu.store.all('lead'), tasks: emu.store.all('task'), comments: emu.store.all('timeline_comment'), contacts: emu.store.all('contact') }, backlogIds, forms);
}

/** The record from the portal's rows (a pure function: the checks' tests feed it rows). */
export function effectsFromRows(rows: { leads: readonly Row[]; tasks: readonly Row[]; comments: readonly Row[]; contacts: readonly Row[] }, backlogIds: readonly string[], forms: number): EffectsRecord {
  const byTitle = new Map<string, number>();
  for (const t of rows.tasks) {
    const title = String(t.title ?? t.TITLE ?? '');
    if (title.startsWith('Drill call ')) byTitle.set(title, (byTitle.get(title) ?? 0) + 1);
  }
  const byText = new Map<string, number>();
  for (const c of rows.comments) {
    const text = String(c.COMMENT ?? '');
    if (text.startsWith('Drill follow-up ')) byText.set(text, (byText.get(text) ?? 0) + 1);
  }
  const contactsByName = new Map<string, string[]>();
  for (const c of rows.contacts) {
    const name = String(c.NAME ?? '');
    if (!name.startsWith('Drill contact ')) continue;
    const list = contactsByName.get(name) ?? [];
    list.push(String(c.ID));
    contactsByName.set(name, list);
  }

  const formTitles = new Map<string, number>();
  for (let n = 0; n < forms; n++) formTitles.set(formLeadTitle(n), n);
  const formLeads = new Map<number, number>();
  for (let n = 0; n < forms; n++) formLeads.set(n, 0);
  const expected = new Set(backlogIds);
  const leadRows = new Map<string, Row>();
  for (const l of rows.leads) {
    const id = String(l.ID);
    leadRows.set(id, l);
    const n = formTitles.get(String(l.TITLE ?? ''));
    if (n !== undefined) {
      formLeads.set(n, (formLeads.get(n) ?? 0) + 1);
      expected.add(id);
    }
  }

  const leads: LeadEffects[] = [];
  let claimed = 0;
  for (const id of expected) {
    const row = leadRows.get(id);
    const contacts = contactsByName.get(contactName(id)) ?? [];
    const e: LeadEffects = {
      id,
      title: String(row?.TITLE ?? '(missing lead)'),
      tasks: byTitle.get(taskTitle(id)) ?? 0,
      comments: byText.get(commentText(id)) ?? 0,
      contacts: contacts.length,
      linked: row !== undefined && contacts.length > 0 && String(row.CONTACT_ID ?? '') === contacts[0],
    };
    claimed += e.tasks + e.comments + e.contacts;
    leads.push(e);
  }
  const made = [...byTitle.values(), ...byText.values(), ...[...contactsByName.values()].map((l) => l.length)].reduce((a, b) => a + b, 0);
  return { leads, formLeads, strays: made - claimed };
}

/** Leads with all four effects. */
export function doneLeads(record: EffectsRecord): number {
  return record.leads.filter((l) => l.tasks > 0 && l.comments > 0 && l.contacts > 0 && l.linked).length;
}

/**
 * Effects present (each counted once), of every expected lead or of the leads
 * in `only`: the backlog's progress. Finer than
 * leads done: one tick's calls go out in several batches (tasks, comments and
 * contacts, then the links), so a moment of the progress can fall between
 * two batches of one tick.
 */
export function doneEffects(record: EffectsRecord, only?: ReadonlySet<string>): number {
  let n = 0;
  for (const l of record.leads) if (!only || only.has(l.id)) n += Math.min(1, l.tasks) + Math.min(1, l.comments) + Math.min(1, l.contacts) + (l.linked ? 1 : 0);
  if (!only) for (const leads of record.formLeads.values()) n += Math.min(1, leads);
  return n;
}
