/**
 * Issue 16, done when: a shadow rule in the demo runs next to its live twin for a minute; its planned calls
 * equal the live rule's sent calls, and none of them reached the emulator (the emulator's record proves it).
 * `rules demo` in-process with the generator's script sped up (the scripted minute: four leads, a contact, a
 * deal moving, a form turned into a lead), rules/demo/09-lead-score-shadow.yaml beside the scenario rules. The
 * test waits on the demo's own narration, with a ceiling tied to its timeout, never on a time budget.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startDemo, type RunningDemo } from '../../demo/demo.js';
import type { EffectRecord } from '../../engine/store/index.js';

const TIMEOUT_MS = 180_000;
const CEILING_MS = TIMEOUT_MS - 30_000;
const LIVE = 'lead-score-new';
const SHADOW = 'lead-score-new-shadow';
/** Leads the scripted minute brings: four typed in, one from the website form (rules/01). */
const LEADS = 5;

let demo: RunningDemo | undefined;
afterEach(async () => {
  await demo?.stop();
  demo = undefined;
});

/** Narration lines as they come; `until` resolves once `done(lines)` holds, or rejects at the ceiling with the last lines. */
function narration() {
  const lines: string[] = [];
  let check: (() => void) | null = null;
  return {
    lines,
    out: (line: string) => {
      lines.push(line);
      check?.();
    },
    until(what: string, done: (lines: string[]) => boolean, ceilingMs: number): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          check = null;
          reject(new Error(`${what}: not within ${ceilingMs} ms; the demo's last lines:\n${lines.slice(-40).join('\n')}`));
        }, ceilingMs);
        check = () => {
          if (!done(lines)) return;
          clearTimeout(timer);
          check = null;
          resolve();
        };
        check();
      });
    },
  };
}

/** Resolve `p`, or reject at the ceiling with `what` and the demo's last lines. */
function within<T>(p: Promise<T>, what: string, ceilingMs: number, lines: string[]): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ceiling = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ceilingMs} ms; the demo's last lines:\n${lines.slice(-40).join('\n')}`)), ceilingMs);
  });
  return Promise.race([p, ceiling]).finally(() => clearTimeout(timer));
}

/** Two values equal, but for ISO times within 5 s of each other (each twin's `now | add_hours: 2` is its own planning's clock). */
function sameCall(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string' && /^\d{4}-\d\d-\d\dT/.test(a) && /^\d{4}-\d\d-\d\dT/.test(b)) return Math.abs(Date.parse(a) - Date.parse(b)) < 5_000;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameCall(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return sameCall(ka, kb) && ka.every((k) => sameCall((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

describe('rules demo with a shadow twin', () => {
  it('the shadow rule journals exactly the calls its live twin sent, and the portal received none of them', { timeout: TIMEOUT_MS }, async () => {
    const started = Date.now();
    const left = () => Math.max(1, CEILING_MS - (Date.now() - started));
    const n = narration();
    demo = await startDemo({ out: n.out, color: false, timeScale: 0.15, everySeconds: 600 });
    const d = demo;
    expect(d.daemon.rules.find((r) => r.id === SHADOW)?.mode).toBe('shadow');
    await within(d.scripted, 'the end of the scripted minute', left(), n.lines);
    const count = (re: RegExp) => (lines: string[]) => lines.filter((l) => re.test(l)).length;
    await n.until(`${LEADS} leads scored and shadow-scored`, (lines) => count(new RegExp(`✓ ${LIVE}: `))(lines) >= LEADS && count(new RegExp(`◌ ${SHADOW} would have \\(not sent\\): `))(lines) >= LEADS, left());

    const store = d.daemon.store;
    const byItem = (ruleId: string) => new Map(store.runs.list({ ruleId, limit: 1000 }).map((r) => [r.itemId, r]));
    const live = byItem(LIVE);
    const shadow = byItem(SHADOW);
    // Side by side on the same events.
    expect([...shadow.keys()].sort()).toEqual([...live.keys()].sort());
    expect(live.size).toBeGreaterThanOrEqual(LEADS);
    const liveCalls: EffectRecord[] = [];
    const shadowCalls: EffectRecord[] = [];
    for (const [item, run] of live) {
      const twin = shadow.get(item)!;
      expect([run.status, twin.status, twin.mode]).toEqual(['done', 'done', 'shadow']);
      const sent = store.effects.forRun(run.id);
      const journaled = store.effects.forRun(twin.id);
      expect(sent.every((e) => e.state === 'done' && e.sentAt !== null)).toBe(true);
      expect(journaled.every((e) => e.state === 'shadow' && e.sentAt === null && e.attempts === 0 && !e.meta?.batch)).toBe(true);
      // The same methods with the same params, in the same order: only the keys (which name the rule) differ.
      expect(journaled.map((e) => e.method)).toEqual(sent.map((e) => e.method));
      journaled.forEach((e, i) => expect(sameCall(e.params, sent[i]!.params), `${e.method} of item ${item}: ${JSON.stringify(e.params)} vs ${JSON.stringify(sent[i]!.params)}`).toBe(true));
      liveCalls.push(...sent);
      shadowCalls.push(...journaled);
    }
    // A hot lead (the 1.5 million inbound call) gets the notification and the call-back task: the twin planned them too.
    expect(shadowCalls.filter((e) => e.method === 'tasks.task.add').length).toBeGreaterThanOrEqual(1);

    // The emulator's record: each call of the live rule arrived once, and nothing more of the kind (the twin's would double them).
    const rec = d.emulator.calls.records;
    const tasks = rec.filter((r) => r.method === 'tasks.task.add' && String((r.params.fields as { TITLE?: unknown } | undefined)?.TITLE ?? '').startsWith('Call back the hot lead: '));
    expect(tasks).toHaveLength(liveCalls.filter((e) => e.method === 'tasks.task.add').length);
    const hot = rec.filter((r) => r.method === 'im.notify.system.add' && String(r.params.MESSAGE ?? '').startsWith('Hot lead (score '));
    expect(hot).toHaveLength(liveCalls.filter((e) => e.method === 'im.notify.system.add').length);
    const scored = rec.filter((r) => r.method === 'crm.lead.update' && (r.params.fields as Record<string, unknown> | undefined)?.UF_CRM_LEAD_SCORE !== undefined);
    expect(scored).toHaveLength(liveCalls.filter((e) => e.method === 'crm.lead.update').length);
    // No request the emulator answered carries a shadow call's key (a create's ORIGIN_ID, a REST 3.0 Idempotency-Key).
    const keys = shadowCalls.map((e) => e.effectKey);
    expect(rec.filter((r) => keys.some((k) => JSON.stringify(r.params).includes(k) || r.idempotencyKey === k))).toEqual([]);
    expect(store.effects.countByState().sent).toBe(0);
    expect(n.lines.some((l) => /✗/.test(l))).toBe(false);
  });
});
