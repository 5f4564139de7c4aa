/**
 * `rules record` reads the offline queue the daemon reads: the one of the
 * daemon's connector key (B24_AUTH_CONNECTOR from the environment or .env,
 * default b24rules), as a subprocess against the emulator over HTTP.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { CLI, emulatorEnv, tempDir } from '../daemon/harness.js';
import { engineClient, userClient } from '../sources/emulator-helpers.js';

const exec = promisify(execFile);
let emu: Emulator;
let dir: string;
const dirs: string[] = [];

/** `rules record` in `cwd` with only the emulator's OAuth variables (and `extra`) in its environment. */
async function record(cwd: string, args: string[], extra: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [CLI, 'record', ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...emulatorEnv(emu, cwd), ...extra } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const eventsIn = (file: string) => (parse(readFileSync(file, 'utf8')) as { events: Array<{ EVENT_NAME: string }> }).events.map((e) => e.EVENT_NAME);

beforeAll(async () => {
  dir = tempDir('b24-record-connector-');
  dirs.push(dir);
  emu = await startEmulator({
    port: 0,
    limits: { burst: 1e6, drainPerSec: 1e6 },
    data: {
      users: [{ ID: '1', NAME: 'Anna', ACTIVE: true }],
      deals: [{ ID: '401', TITLE: 'CRM rollout', STAGE_ID: 'NEW', ASSIGNED_BY_ID: '1', CATEGORY_ID: '0' }],
      leads: [{ ID: '301', TITLE: 'Big order', STATUS_ID: 'NEW', ASSIGNED_BY_ID: '1' }],
    },
  });
  // As the daemon binds: through a client that carries its connector key (default b24rules); another app instance uses another key.
  const daemon = engineClient(emu);
  const other = engineClient(emu, 'crm-sync');
  const user = userClient(emu);
  try {
    await daemon.call('event.bind', { event: 'ONCRMDEALUPDATE', event_type: 'offline' });
    await other.call('event.bind', { event: 'ONCRMLEADUPDATE', event_type: 'offline' });
    await user.call('crm.deal.update', { id: 401, fields: { STAGE_ID: 'PREPARATION' } });
    await user.call('crm.lead.update', { id: 301, fields: { TITLE: 'Big order (urgent)' } });
  } finally {
    await Promise.all([daemon.close(), other.close(), user.close()]);
  }
});
afterAll(async () => {
  await emu.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('rules record reads the daemon’s queue', { timeout: 120_000 }, () => {
  it('with default settings: the queue of the default connector, where the daemon’s events wait', async () => {
    const out = join(dir, 'default.yaml');
    const r = await record(dir, ['--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(eventsIn(out)).toEqual(['ONCRMDEALUPDATE']);
    expect(readFileSync(out, 'utf8')).toContain('# 1 offline event of connector b24rules (read with event.offline.list');
    // Read, not taken: the queue still holds the event, unreserved.
    const reads = emu.calls.of('event.offline.list');
    expect(reads.at(-1)?.params).toMatchObject({ auth_connector: 'b24rules' });
    expect(emu.calls.of('event.offline.get')).toHaveLength(0);
  });

  it('B24_AUTH_CONNECTOR in .env, as the daemon reads it', async () => {
    const cwd = tempDir('b24-record-dotenv-');
    dirs.push(cwd);
    writeFileSync(join(cwd, '.env'), 'B24_AUTH_CONNECTOR=crm-sync\n');
    const out = join(cwd, 'sync.yaml');
    const r = await record(cwd, ['--out', out]);
    expect(r.stderr).toBe('');
    expect(eventsIn(out)).toEqual(['ONCRMLEADUPDATE']);
  });

  it('--auth-connector reads another queue than the environment names', async () => {
    const out = join(dir, 'flag.yaml');
    const r = await record(dir, ['--out', out, '--auth-connector', 'b24rules'], { B24_AUTH_CONNECTOR: 'crm-sync' });
    expect(r.code).toBe(0);
    expect(eventsIn(out)).toEqual(['ONCRMDEALUPDATE']);
  });

  it('an empty queue says which queue it read and how to read another', async () => {
    const r = await record(dir, ['--out', join(dir, 'empty.yaml')], { B24_AUTH_CONNECTOR: 'nobody' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('rules record: the offline queue of connector nobody holds no pending events.');
    expect(r.stderr).toContain('--auth-connector KEY');
  });
});
