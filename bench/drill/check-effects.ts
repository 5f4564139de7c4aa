/**
 * The lost and duplicated invariants, from the portal's record: every
 * expected lead has each of its four effects exactly once (a task, a comment,
 * a contact, the lead linked to that contact), every form post became exactly
 * one lead, and nothing the rules made belongs to no expected lead.
 */
import type { EffectsRecord } from './effects.js';
import { invariant, type Invariant } from './invariant.js';

/** Effects per followed-up lead: task, comment, contact, link. */
export const EFFECTS_PER_LEAD = 4;

export interface EffectsVerdict {
  lost: Invariant;
  duplicated: Invariant;
  /** Effects expected in all (4 per lead, plus the lead itself and its 4 per form post). */
  expected: number;
  lostCount: number;
  duplicatedCount: number;
}

/** Check the record against `backlog` lead events and `forms` form posts. */
export function checkEffects(record: EffectsRecord, counts: { backlog: number; forms: number }): EffectsVerdict {
  const lost: string[] = [];
  const dup: string[] = [];
  let lostCount = 0;
  let dupCount = 0;
  for (const l of record.leads) {
    const missing = [l.tasks === 0 && 'task', l.comments === 0 && 'comment', l.contacts === 0 && 'contact', !l.linked && 'contact link'].filter((x): x is string => typeof x === 'string');
    if (missing.length > 0) {
      lostCount += missing.length;
      lost.push(`lead ${l.id} (${l.title}): no ${missing.join(', no ')}`);
    }
    const extra = [[l.tasks, 'tasks'], [l.comments, 'comments'], [l.contacts, 'contacts']].filter(([n]) => (n as number) > 1) as Array<[number, string]>;
    for (const [n, what] of extra) {
      dupCount += n - 1;
      dup.push(`lead ${l.id} (${l.title}): ${n} ${what}`);
    }
  }
  for (const [n, leads] of record.formLeads) {
    if (leads === 0) {
      lostCount += 1 + EFFECTS_PER_LEAD;
      lost.push(`form post ${n}: no lead`);
    } else if (leads > 1) {
      dupCount += leads - 1;
      dup.push(`form post ${n}: ${leads} leads`);
    }
  }
  if (record.strays > 0) {
    dupCount += record.strays;
    dup.push(`${record.strays} task(s), comment(s) or contact(s) of the drill's rules that belong to no expected lead`);
  }
  const expected = counts.backlog * EFFECTS_PER_LEAD + counts.forms * (1 + EFFECTS_PER_LEAD);
  return {
    lost: invariant('lost', `${lostCount} of ${expected} expected effects missing (${counts.backlog} lead events, ${counts.forms} form posts)`, lost),
    duplicated: invariant('duplicated', `${dupCount} effects done more than once`, dup),
    expected,
    lostCount,
    duplicatedCount: dupCount,
  };
}
