import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type B24Client } from '../../engine/client/index.js';
import { createLogger } from '../../engine/logger.js';
import { fakeClock } from './helpers/fake-clock.js';
import { fail, ok, startServer, type ScriptedServer } from './helpers/scripted-server.js';
import { oauthConfig, WEBHOOK_CODE, webhookConfig } from './helpers/config.js';

let server: ScriptedServer | undefined;
let client: B24Client | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

function memoryLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: createLogger({ level: 'trace', destination }), lines };
}

function everything(err: unknown): string {
  const e = err as Error & { cause?: unknown };
  const parts = [String(e.message), String(e.stack), JSON.stringify(e)];
  let c: unknown = e.cause;
  while (c instanceof Error) {
    parts.push(c.message, String(c.stack));
    c = (c as Error & { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

describe('secrets never leak', () => {
  it('webhook code: not in errors (even when the portal echoes the URL), stacks or logs', async () => {
    const { logger, lines } = memoryLogger();
    server = await startServer((req, n) => {
      if (n === 1) return fail(500, 'INTERNAL_SERVER_ERROR', `failed at ${req.path}`);
      if (n === 2) return ok({ ID: 1 });
      if (n === 3) return { drop: true };
      return fail(400, 'INVALID_ARG_VALUE', `bad call https://portal/rest/1/${WEBHOOK_CODE}/crm.lead.add.json`);
    });
    client = createClient(webhookConfig(server.url), { clock: fakeClock(), logger });
    await client.call('crm.lead.get', { id: 1 });
    const unknown = await client.call('crm.lead.add', { fields: { TITLE: 'x' } }).catch((e: unknown) => e);
    const apiErr = await client.call('crm.lead.add', { fields: { TITLE: 'x' } }).catch((e: unknown) => e);
    expect(server.seen[0]?.webhookCode).toBe(WEBHOOK_CODE);
    for (const text of [everything(unknown), everything(apiErr), lines.join('')]) expect(text).not.toContain(WEBHOOK_CODE);
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.some((l) => l.includes('"method":"crm.lead.get"'))).toBe(true);
    // the retry after the 500 is logged with what went wrong
    expect(lines.some((l) => l.includes('REST call failed; retrying') && l.includes('B24_SERVER_ERROR: crm.lead.get: INTERNAL_SERVER_ERROR'))).toBe(true);
  });

  it('OAuth tokens and the client secret: not in logs or errors, before or after a refresh', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'b24-redact-'));
    const { logger, lines } = memoryLogger();
    server = await startServer((req) => {
      if (req.method === 'oauth/token') return { json: { access_token: 'fresh-access-31337', refresh_token: 'fresh-refresh-31337', expires_in: 3600 } };
      if (req.body.auth !== 'fresh-access-31337') return fail(401, 'expired_token', `token ${String(req.body.auth)} expired`);
      return fail(400, 'ERROR_CORE', `auth=${String(req.body.auth)} rejected`);
    });
    client = createClient(oauthConfig(server.url, join(dir, 't.json')), { clock: fakeClock(), logger });
    const err = await client.call('tasks.task.add', { fields: { TITLE: 't' } }).catch((e: unknown) => e);
    const text = `${everything(err)}\n${lines.join('')}`;
    for (const s of ['access-token-old-0001', 'refresh-token-old-0001', 'client-secret-zzz-999', 'fresh-access-31337', 'fresh-refresh-31337']) {
      expect(text).not.toContain(s);
    }
    expect(lines.some((l) => l.includes('OAuth access token refreshed'))).toBe(true);
    await rm(dir, { recursive: true, force: true });
  });
});
