import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { ok, startServer, type ScriptedServer } from '../client/helpers/scripted-server.js';

const CODE = 'cliRetrySecret5521';
let server: ScriptedServer;
let cwd: string;

const B24_VARS = ['B24_DOMAIN', 'B24_AUTH_MODE', 'B24_WEBHOOK_USER_ID', 'B24_WEBHOOK_CODE', 'B24_ACCESS_TOKEN', 'B24_REFRESH_TOKEN', 'B24_CLIENT_ID', 'B24_CLIENT_SECRET', 'B24_WEBHOOK_URL', 'B24_OAUTH_URL', 'B24_TOKEN_FILE', 'B24_PLAN'];

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'b24-call-retry-'));
  // The first request of each method is read, then its socket destroyed; the repeat is answered.
  server = await startServer((req) => (server.count(req.method) === 1 ? { drop: true } : ok({ ID: '1', NAME: 'Admin' })));
});

afterAll(async () => {
  await server.close();
  await rm(cwd, { recursive: true, force: true });
});

describe('rules call through a dropped connection', () => {
  it('user.current (a read the catalog leaves unclassified) is sent again and succeeds', async () => {
    const env = { ...Object.fromEntries(B24_VARS.map((v) => [v, ''])), B24_WEBHOOK_URL: `${server.url}/rest/1/${CODE}/` };
    const r = await runCli(['call', 'user.current'], { env, cwd });
    expect(r.stderr).not.toContain('OUTCOME_UNKNOWN');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ result: { ID: '1', NAME: 'Admin' } });
    expect(server.count('user.current')).toBe(2);
  });
});
