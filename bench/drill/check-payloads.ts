/** The bad-input invariant: every hostile payload got an answer, and none was a 5xx. */
import { invariant, type Invariant } from './invariant.js';

/** Check the answers to the hostile payloads (a status, or null when none came). */
export function checkPayloads(answers: ReadonlyArray<{ label: string; path: string; status: number | null; error: string | null }>): Invariant {
  const byClass = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, none: 0 };
  const broken = new Map<string, number>();
  for (const a of answers) {
    if (a.status === null) {
      byClass.none++;
      const key = `${a.label} to ${a.path}: no answer (${a.error ?? 'closed'})`;
      broken.set(key, (broken.get(key) ?? 0) + 1);
      continue;
    }
    const cls = `${Math.floor(a.status / 100)}xx` as keyof typeof byClass;
    if (cls in byClass) byClass[cls]++;
    if (a.status >= 500) {
      const key = `${a.label} to ${a.path}: HTTP ${a.status}`;
      broken.set(key, (broken.get(key) ?? 0) + 1);
    }
  }
  const problems = [...broken].map(([k, n]) => (n > 1 ? `${k} (${n} times)` : k));
  return invariant('bad-input', `${answers.length} hostile payloads: ${byClass['2xx']} 2xx, ${byClass['4xx']} 4xx, ${byClass['5xx']} 5xx, ${byClass.none} unanswered`, problems);
}

/** How many payloads got a 5xx or no answer (the summary's figure). */
export function countBadAnswers(answers: ReadonlyArray<{ status: number | null }>): number {
  return answers.filter((a) => a.status === null || a.status >= 500).length;
}
