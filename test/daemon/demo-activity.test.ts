/**
 * The demo's simulated portal user. It shares the portal's request limit with
 * the daemon: a change the portal refuses for load (503 QUERY_LIMIT_EXCEEDED,
 * still refused after the client's own retries) ran nothing, so it is sent again
 * until the portal takes it, never lost. Deterministic: the emulator's bucket
 * follows a manual clock that only the user's waits move, holds one request and
 * drains one per 50 s, so every change after the first is refused through all
 * of the client's retries. And it moves a deal on only once the rules have taken
 * the previous move (the rules read the deal when they take its event).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runActivity, SCRIPT, type ActivityStep } from '../../demo/index.js';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createClient } from '../../engine/client/index.js';
import { ManualClock } from '../sources/helpers.js';
import { until } from './harness.js';

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

describe('demo activity under the portal rate limit', () => {
  it('sends a change refused for load again until the portal takes it (the deal is added and won, nothing reported failed)', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 9));
    emu = await startEmulator({ port: 0, now: clock.now, limits: { burst: 1, drainPerSec: 0.02 } });
    const m = /^(.*)\/rest\/(\d+)\/([^/]+)\/$/.exec(emu.webhookUrl) as RegExpExecArray;
    const user = createClient({ baseUrl: m[1] as string, plan: 'standard', auth: { mode: 'webhook', userId: m[2] as string, code: m[3] as string } }, { clock });
    const abort = new AbortController();
    // The scripted deal moves and the big deal (crm.deal.list/add/update), then stop.
    const script: ActivityStep[] = [...SCRIPT.filter((s) => s.at === 8 || s.at === 20 || s.at === 24), { at: 25, run: async () => abort.abort() }];
    const said: string[] = [];
    await runActivity(
      { user, clock, formUrl: 'http://127.0.0.1:9/unused', formSecret: 'unused', fireSchedule: () => undefined, say: (t) => said.push(t), signal: abort.signal },
      { script, timeScale: 0.001, everySeconds: 3600 },
    );
    await user.close();

    expect(said.filter((l) => /a simulated change failed/.test(l))).toEqual([]);
    // The refusals reached the activity: more than one call's worth of the client's own retries (6 after the first).
    expect(emu.calls.records.filter((r) => r.error === 'QUERY_LIMIT_EXCEEDED').length).toBeGreaterThan(7);
    expect(emu.store.all('deal').some((d) => d.TITLE === 'Fleet tracking for Globex')).toBe(true);
    expect(said.some((l) => /^deal #\d+ moved to WON$/.test(l))).toBe(true);
  });

  it('moves a deal on only once the rules have taken the previous move', { timeout: 120_000 }, async () => {
    emu = await startEmulator({ port: 0 });
    const m = /^(.*)\/rest\/(\d+)\/([^/]+)\/$/.exec(emu.webhookUrl) as RegExpExecArray;
    const user = createClient({ baseUrl: m[1] as string, plan: 'standard', auth: { mode: 'webhook', userId: m[2] as string, code: m[3] as string } });
    const abort = new AbortController();
    let settles = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const said: string[] = [];
    // The move to PREPARATION (8), then the move on to PREPAYMENT_INVOICE (14); the rules "take" the first move only when released.
    const script: ActivityStep[] = [...SCRIPT.filter((s) => s.at === 8 || s.at === 14), { at: 15, run: async () => abort.abort() }];
    const running = runActivity(
      {
        user,
        formUrl: 'http://127.0.0.1:9/unused',
        formSecret: 'unused',
        fireSchedule: () => undefined,
        say: (t) => said.push(t),
        signal: abort.signal,
        settled: () => (++settles === 1 ? Promise.resolve() : held),
      },
      { script, timeScale: 0.001, everySeconds: 3600 },
    );
    await until(() => settles === 2, 'the script to wait for the rules before moving the deal again', 30_000);
    const deal = () => emu!.store.all('deal').find((d) => said.some((l) => l === `deal #${String(d.ID)} moved to PREPARATION`));
    expect(deal()?.STAGE_ID).toBe('PREPARATION');
    release();
    await running;
    await user.close();
    expect(deal()?.STAGE_ID).toBe('PREPAYMENT_INVOICE');
    expect(said.filter((l) => /moved to/.test(l)).map((l) => l.replace(/#\d+/, '#n'))).toEqual(['deal #n moved to PREPARATION', 'deal #n moved to PREPAYMENT_INVOICE']);
  });
});
