/** `rules call --api v3` (issue 15) as a subprocess against the emulator: REST 3.0 calls, the Idempotency-Key, a REST 3.0-only method by default. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { runCli } from '../helpers/cli.js';

let emu: Emulator;
let cwd: string;

const B24_VARS = ['B24_DOMAIN', 'B24_AUTH_MODE', 'B24_WEBHOOK_USER_ID', 'B24_WEBHOOK_CODE', 'B24_ACCESS_TOKEN', 'B24_REFRESH_TOKEN', 'B24_CLIENT_ID', 'B24_CLIENT_SECRET', 'B24_OAUTH_URL', 'B24_TOKEN_FILE', 'B24_PLAN', 'B24_REST_V3'];
const env = (): Record<string, string> => ({ ...Object.fromEntries(B24_VARS.map((v) => [v, ''])), B24_WEBHOOK_URL: emu.webhookUrl });

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'b24-call-v3-'));
  emu = await startEmulator({ limits: { burst: 1e6 } });
});
afterAll(async () => {
  await emu.close();
  await rm(cwd, { recursive: true, force: true });
});

describe('rules call --api v3', () => {
  it('creates through /rest/api/ with an Idempotency-Key: the same call again is answered from the first, one task', async () => {
    const args = ['call', 'tasks.task.add', '--api', 'v3', '--idempotency-key', 'cli-try-1', '--params', '{"fields":{"title":"From the CLI","creatorId":1,"responsibleId":1}}'];
    const first = await runCli(args, { env: env(), cwd });
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    const again = await runCli(args, { env: env(), cwd });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(JSON.parse(first.stdout));
    expect(emu.store.all('task').filter((t) => t.title === 'From the CLI')).toHaveLength(1);
    expect(emu.calls.of('tasks.task.add').map((c) => [c.api, c.idempotencyKey, c.replayed ?? false])).toEqual([
      ['v3', 'cli-try-1', false],
      ['v3', 'cli-try-1', true],
    ]);
  }, 60_000);

  it('a REST 3.0-only method goes there without --api; a REST 3.0 error says its code; bad usage exits 2', async () => {
    const only = await runCli(['call', 'tasks.task.chat.message.send', '--params', '{"fields":{"taskId":1,"text":"hi"}}'], { env: env(), cwd });
    expect(only.code).toBe(1);
    expect(only.stderr).toMatch(/ERROR_METHOD_NOT_FOUND: .*REST 3\.0 method but is not implemented by the b24-rules emulator/);
    expect(emu.calls.of('tasks.task.chat.message.send')[0]?.api).toBe('v3');
    const invalid = await runCli(['call', 'tasks.task.add', '--api', 'v3', '--params', '{"fields":{"title":"x"}}'], { env: env(), cwd });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION: .*creatorId/);
    for (const bad of [['--api', 'v2'], ['--idempotency-key', 'k']]) {
      expect((await runCli(['call', 'tasks.task.get', ...bad], { env: env(), cwd })).code).toBe(2);
    }
  }, 60_000);
});
