/**
 * The daemon's injection points for the workers of `rules run --state postgres://...`: the state opened by a given
 * function, and the client's `canSend` guard (the worker's lease). A batch the guard stops after the ledger marked
 * it sent is not failed: its calls go back to pending, nothing reaches the portal, and once the guard allows again
 * the calls go out once. Against the emulator over HTTP.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import type { ClientConfig } from '../../engine/client/index.js';
import { createDaemon, type Daemon } from '../../engine/daemon/daemon.js';
import { openStateStore, type StateStore } from '../../engine/store/index.js';
import { memoryLogger } from '../sources/helpers.js';
import { tempDir, until, writeRule } from './harness.js';

let emu: Emulator | undefined;
let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  await emu?.close();
  daemon = undefined;
  emu = undefined;
});

function webhookConfig(e: Emulator): ClientConfig {
  const m = /^(.*)\/rest\/(\d+)\/([^/]+)\/$/.exec(e.webhookUrl);
  if (!m) throw new Error(`unexpected webhook url ${e.webhookUrl}`);
  return { baseUrl: m[1] as string, plan: 'standard', auth: { mode: 'webhook', userId: m[2] as string, code: m[3] as string } };
}

describe('a daemon whose client may lose the lease', () => {
  it('opens the state through openStore, and a batch stopped by canSend is sent again, once, when the guard allows', async () => {
    emu = await startEmulator({ limits: { burst: 1e9 } });
    const dir = tempDir('b24-guard-');
    writeRule(dir, 'comment.yaml', 'id: note\ntrigger: { event: ONCRMDEALUPDATE }\nactions:\n  - comment: { entity: deal, id: "{{ deal.ID }}", text: "seen {{ deal.TITLE }}" }\n');
    const [id] = emu.store.seed('deal', [{ TITLE: 'guarded' }]);
    let store: StateStore | undefined;
    let opened = 0;
    let lost = false;
    let holdForGood = false;
    // The reads go out; once the ledger has marked the comment sent (committed before the batch leaves) the lease is lost.
    let checks = 0;
    const canSend = () => {
      checks++;
      if (!holdForGood && !lost && store && store.effects.countByState().sent > 0) lost = true;
      return !lost;
    };
    daemon = createDaemon({
      rulesPaths: [join(dir, 'comment.yaml')],
      openStore: () => {
        opened++;
        store = openStateStore(join(dir, 'state.db'));
        return store;
      },
      config: webhookConfig(emu),
      logger: memoryLogger().logger,
      listen: null,
      watch: false,
      tickIntervalMs: 20,
      canSend,
      clientOptions: { rateLimit: false },
      engineOptions: { backoffBaseMs: 20 },
    });
    await daemon.start();
    expect(opened).toBe(1);
    expect(daemon.store).toBe(store);
    store!.inbox.add([{ source: 'manual', key: 'e1', event: 'ONCRMDEALUPDATE', ruleId: null, payload: { event: 'ONCRMDEALUPDATE', data: { FIELDS: { ID: id! } } }, receivedAt: Date.now() }]);

    await until(() => lost && store!.effects.countByState().pending === 1, 'the stopped batch back to pending');
    const ticks = daemon.metrics.ticks.get({ outcome: 'ok' }) + daemon.metrics.ticks.get({ outcome: 'error' });
    expect(store!.effects.countByState()).toMatchObject({ pending: 1, sent: 0, failed: 0, done: 0 });
    expect(emu.calls.of('crm.timeline.comment.add')).toHaveLength(0);
    expect(store!.runs.list({}).map((r) => r.status)).toEqual(['active']);
    expect(daemon.health()).toMatchObject({ ok: true, depth: 1, dlq: 0 });

    // No tick while the lease is gone: the loop only asks the guard again, every tickIntervalMs.
    const seen = checks;
    await until(() => checks >= seen + 5, 'the loop asking the guard');
    expect(daemon.metrics.ticks.get({ outcome: 'ok' }) + daemon.metrics.ticks.get({ outcome: 'error' })).toBe(ticks);
    holdForGood = true;
    lost = false;
    await until(() => store!.runs.list({})[0]?.status === 'done', 'the run done');
    const comments = emu.calls.of('crm.timeline.comment.add');
    expect(comments).toHaveLength(1);
    expect(JSON.stringify(comments[0]?.params)).toContain('seen guarded');
    expect(store!.effects.countByState()).toMatchObject({ done: 1, failed: 0 });
  });
});
