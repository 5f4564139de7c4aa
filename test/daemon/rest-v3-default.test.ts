/**
 * `rules run` (built dist/, as a subprocess, OAuth with offline events) keeps the tasks its rules create in REST 1
 * batches by default (REST 3.0 takes one request per task: bench/rest-v3.ts); B24_REST_V3=on sends them through
 * REST 3.0 with the effect key as Idempotency-Key.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { userClient } from '../sources/emulator-helpers.js';
import { emulatorEnv, startDaemonProcess, tempDir, until, writeRule, type DaemonProcess } from './harness.js';

const RULE = `id: lead-call
trigger: { event: ONCRMLEADADD }
actions:
  - task: { title: "Call {{ lead.TITLE }}", responsible: 1, bind: { entity: lead, id: "{{ lead.ID }}" } }
`;

let emu: Emulator | undefined;
let daemon: DaemonProcess | undefined;
afterEach(async () => {
  if (daemon && daemon.proc.exitCode === null) {
    daemon.kill('SIGTERM');
    await daemon.exited;
  }
  daemon = undefined;
  await emu?.close();
  emu = undefined;
});

async function taskFor(extraEnv: Record<string, string>): Promise<Emulator> {
  emu = await startEmulator({ port: 0 });
  const dir = tempDir('b24-v3-default-');
  mkdirSync(join(dir, 'rules'));
  writeRule(join(dir, 'rules'), 'call.yaml', RULE);
  daemon = startDaemonProcess([join(dir, 'rules'), '--state', join(dir, 'state.db'), '--listen', '127.0.0.1:0', '--no-watch', '--poll-interval-ms', '200'], { ...emulatorEnv(emu, dir), ...extraEnv }, dir);
  await daemon.url;
  const user = userClient(emu);
  await user.call('crm.lead.add', { fields: { TITLE: 'Acme' } });
  await user.close();
  const e = emu;
  await until(() => e.store.all('task').some((t) => t.title === 'Call Acme'), 'the task to be created', 30_000);
  return e;
}

describe('rules run and REST 3.0', () => {
  it('B24_REST_V3=on: a rule\'s task goes to /rest/api/ with its effect key as Idempotency-Key', async () => {
    const e = await taskFor({ B24_REST_V3: 'on' });
    const [sent] = e.calls.of('tasks.task.add');
    expect(sent).toMatchObject({ api: 'v3', auth: 'oauth', idempotencyKey: expect.stringMatching(/^lead-call:[0-9a-f]{24}:0\.0$/) });
    expect(sent!.params).toMatchObject({ fields: { title: 'Call Acme', responsibleId: 1, creatorId: 1, crmItemIds: [expect.stringMatching(/^L_\d+$/)] } });
  }, 90_000);

  it('by default the task goes in a REST 1 batch', async () => {
    const e = await taskFor({});
    const [sent] = e.calls.of('tasks.task.add');
    expect(sent?.api).toBeUndefined();
    expect(sent?.batch).toBeDefined();
  }, 90_000);
});
