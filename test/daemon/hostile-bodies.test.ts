/**
 * Hostile request bodies against the daemon's own HTTP server (issue 13, item
 * 3): deeply nested form keys and JSON arrays, and a body far over the size
 * limit sent without a Content-Length, to the outgoing-webhook receiver and to
 * a form hook. Each gets a 4xx whose reason names the limit, nothing is
 * stored, and the daemon keeps serving.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createDaemon, type Daemon } from '../../engine/daemon/daemon.js';
import type { ClientConfig } from '../../engine/client/types.js';
import { memoryLogger } from '../sources/helpers.js';
import { tempDir, writeRule } from './harness.js';

let emu: Emulator | undefined;
let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  await emu?.close();
  daemon = undefined;
  emu = undefined;
});

const HOOK_SECRET = 'hook-secret-0123456789';

/** A body sent as a stream, so no Content-Length announces its size. */
function streamed(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(1024 * 1024).fill(0x61);
  let left = bytes;
  return new ReadableStream({
    pull(c) {
      if (left <= 0) return c.close();
      const n = Math.min(left, chunk.length);
      left -= n;
      c.enqueue(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

describe('hostile bodies to the daemon', () => {
  it('deep nesting gets 400 and an oversized stream 413, with the limit named; nothing stored; the daemon keeps serving', async () => {
    emu = await startEmulator({ port: 0 });
    const dir = tempDir('b24-hostile-');
    mkdirSync(join(dir, 'rules'));
    writeRule(join(dir, 'rules'), 'welcome.yaml', 'id: welcome\ntrigger: { event: ONCRMLEADADD }\nactions:\n  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Welcome" }\n');
    writeRule(join(dir, 'rules'), 'form.yaml', `id: contact\ntrigger: { webhook: { path: /contact, secret: "${HOOK_SECRET}" } }\nactions:\n  - comment: { entity: lead, id: "1", text: "x" }\n`);
    const m = /^(.*)\/rest\/(\d+)\/([^/]+)\/$/.exec(emu.webhookUrl) as RegExpExecArray;
    const config: ClientConfig = { baseUrl: m[1] as string, plan: 'standard', auth: { mode: 'webhook', userId: m[2] as string, code: m[3] as string } };
    const token = emu.app.application_token;
    const { logger, records } = memoryLogger();
    daemon = createDaemon({ rulesPaths: [join(dir, 'rules')], statePath: join(dir, 'state.db'), config, logger, listen: '127.0.0.1:0', watch: false, tickIntervalMs: 50, applicationToken: token });
    await daemon.start();
    const base = daemon.url as string;
    const targets = [
      { path: '/b24/events', headers: {} as Record<string, string> },
      { path: '/hooks/contact', headers: { 'x-rules-secret': HOOK_SECRET } },
    ];
    const deepForm = `event=ONCRMLEADADD&auth[application_token]=${token}&data${'[x]'.repeat(5_000)}=1`;
    const deepJson = `{"event":"ONCRMLEADADD","auth":{"application_token":"${token}"},"data":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;

    for (const t of targets) {
      const form = await fetch(base + t.path, { method: 'POST', headers: { ...t.headers, 'content-type': 'application/x-www-form-urlencoded' }, body: deepForm });
      expect([t.path, form.status, await form.json()]).toEqual([t.path, 400, { error: 'body nested deeper than 32 levels' }]);
      const json = await fetch(base + t.path, { method: 'POST', headers: { ...t.headers, 'content-type': 'application/json' }, body: deepJson });
      expect([t.path, json.status, await json.json()]).toEqual([t.path, 400, { error: 'body nested deeper than 32 levels' }]);
      // 16 MiB without a Content-Length: refused past 1 MiB, and the sender still reads the answer (no reset under it).
      const huge = await fetch(base + t.path, { method: 'POST', headers: { ...t.headers, 'content-type': 'application/json' }, body: streamed(16 * 1024 * 1024), duplex: 'half' } as RequestInit);
      expect([t.path, huge.status, await huge.json()]).toEqual([t.path, 413, { error: 'body larger than 1048576 bytes' }]);
    }

    expect(daemon.store.inbox.list()).toEqual([]);
    expect(records.filter((r) => r.msg === 'http handler failed')).toEqual([]);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    // Still serving: an ordinary event is stored.
    const ok = await fetch(`${base}/b24/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ event: 'ONCRMLEADADD', 'data[FIELDS][ID]': '1', 'auth[application_token]': token }).toString(),
    });
    expect(ok.status).toBe(200);
    expect(daemon.store.inbox.list({ source: 'outgoing' })).toHaveLength(1);
    expect(daemon.metrics.webhookRejected.get({ source: 'outgoing', reason: 'body' })).toBe(3);
    expect(daemon.metrics.webhookRejected.get({ source: 'form', reason: 'body' })).toBe(3);
  });
});
