/**
 * The webhook body limits (issue 13, item 3): nesting is capped at 32 levels
 * for JSON and for bracket-nested form keys alike, and a body over the size
 * limit is answered 413 on a connection that stays usable (the rest of the
 * body is read and discarded, not reset under the sender).
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createFormWebhookSource } from '../../engine/sources/form-webhook.js';
import { DEFAULTS, parseBody, RequestBodyError } from '../../engine/sources/http-body.js';
import { createDaemonMetrics } from '../../engine/status/daemon-metrics.js';
import { startStatusServer, type StatusServer } from '../../engine/status/server.js';
import { makeContext, ManualClock, openTestStore, rule } from './helpers.js';

let server: StatusServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A JSON object nested `levels` deep, the body itself being level 1. */
const jsonOfDepth = (levels: number) => Buffer.from(`{"a":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`);
/** A form key nesting `levels` deep: `a[x][x]...=1` has levels - 1 brackets. */
const formOfDepth = (levels: number) => Buffer.from(`a${'[x]'.repeat(levels - 1)}=1`);

function refusal(fn: () => unknown): { status: number; message: string } | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (err instanceof RequestBodyError) return { status: err.status, message: err.message };
    throw err;
  }
}

describe('body nesting limit', () => {
  it('is 32 levels by default, for JSON and for form keys alike', () => {
    expect(DEFAULTS.maxDepth).toBe(32);
    const tooDeep = { status: 400, message: 'body nested deeper than 32 levels' };
    expect(refusal(() => parseBody(jsonOfDepth(32), 'application/json'))).toBeNull();
    expect(refusal(() => parseBody(jsonOfDepth(33), 'application/json'))).toEqual(tooDeep);
    expect(refusal(() => parseBody(formOfDepth(32), 'application/x-www-form-urlencoded'))).toBeNull();
    expect(refusal(() => parseBody(formOfDepth(33), 'application/x-www-form-urlencoded'))).toEqual(tooDeep);
    expect(refusal(() => parseBody(Buffer.from(`a${'['.repeat(5_000)}=1`), 'application/x-www-form-urlencoded'))).toEqual(tooDeep);
    // Objects count as arrays do.
    expect(refusal(() => parseBody(Buffer.from(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`), 'application/json'))).toEqual(tooDeep);
    // A smaller limit is honoured.
    expect(refusal(() => parseBody(Buffer.from('data[FIELDS][ID]=7'), undefined, 3))).toBeNull();
    expect(refusal(() => parseBody(Buffer.from('data[FIELDS][ID][x]=7'), undefined, 3))).toEqual({ status: 400, message: 'body nested deeper than 3 levels' });
  });
});

describe('body size limit', () => {
  it('answers 413 and keeps the connection: a request sent after the oversized one on the same socket is answered', async () => {
    const clock = new ManualClock(1_000);
    const store = openTestStore(clock.now);
    const src = createFormWebhookSource({ rules: [rule('r', { kind: 'webhook', path: '/r' })], maxBodyBytes: 64 * 1024 }, makeContext(store, clock));
    await src.start();
    server = await startStatusServer({ listen: ':0', metrics: createDaemonMetrics().registry, health: () => ({ ok: true }), handlers: [src.handler] });
    const port = Number(new URL(server.url).port);

    // 4 MiB chunked (no Content-Length), then /healthz pipelined on the same connection.
    const chunk = 'a'.repeat(64 * 1024);
    let request = 'POST /hooks/r HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n';
    for (let i = 0; i < 64; i++) request += `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
    request += '0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        text += d;
        // Both answers are chunked: done after the second one's last chunk.
        if (/HTTP\/1\.1 \d{3}[\s\S]*HTTP\/1\.1 \d{3}[\s\S]*\r\n0\r\n\r\n$/.test(text)) {
          socket.end();
          resolve(text);
        }
      });
      socket.on('error', (err) => reject(new Error(`${err.message} after: ${text.slice(0, 200)}`)));
      socket.on('close', () => resolve(text));
      socket.write(request);
    });
    const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([413, 200]);
    expect(answer).toContain('body larger than 65536 bytes');
    expect(store.inbox.list()).toEqual([]);
  });
});
