/**
 * Issue 15, feature checks on start: the offline queue's reserve/confirm mode
 * needs the plan feature rest_offline_extended, and auth_connector needs
 * rest_auth_connector (feature.get, api-reference/common/system/feature-get.md).
 * `rules run` (built dist/, as a subprocess) against an emulator whose plan
 * lacks one refuses to start with OFFLINE_FEATURE_MISSING and what to do,
 * before it binds or reads anything; with both, the check is one request.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { emulatorEnv, startDaemonProcess, tempDir, writeRule } from './harness.js';

const RULE = `id: welcome
trigger: { event: ONCRMLEADADD }
actions:
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Welcome {{ lead.TITLE }}" }
`;

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

function runDaemon(e: Emulator) {
  const dir = tempDir('b24-features-');
  mkdirSync(join(dir, 'rules'));
  writeRule(join(dir, 'rules'), 'welcome.yaml', RULE);
  return startDaemonProcess([join(dir, 'rules'), '--state', join(dir, 'state.db'), '--listen', '127.0.0.1:0', '--no-watch'], emulatorEnv(e, dir), dir);
}

const offlineCalls = (e: Emulator) => e.calls.records.filter((c) => c.method.startsWith('event.'));

describe('rules run checks the plan features offline events need', () => {
  const cases: Array<[string, { offlineExtended?: boolean; authConnector?: boolean }]> = [
    ['rest_offline_extended', { offlineExtended: false }],
    ['rest_auth_connector', { authConnector: false }],
  ];
  for (const [feature, features] of cases) {
    it(`a portal without ${feature}: exit 1 with OFFLINE_FEATURE_MISSING, the feature and what to do; nothing bound or read`, { timeout: 60_000 }, async () => {
      emu = await startEmulator({ port: 0, features });
      const proc = runDaemon(emu);
      const exit = await proc.exited;
      expect(exit.code).toBe(1);
      const said = `${proc.stderr()}\n${proc.logs.map((r) => JSON.stringify(r)).join('\n')}`;
      expect(said).toContain('OFFLINE_FEATURE_MISSING');
      expect(said).toContain(`lacks ${feature}`);
      expect(said).toContain('B24_APPLICATION_TOKEN');
      expect(emu.calls.of('feature.get').map((c) => c.params.CODE).sort()).toEqual(['rest_auth_connector', 'rest_offline_extended']);
      expect(offlineCalls(emu)).toEqual([]);
    });
  }

  it('a portal with both: the check is one batch request before the binding, and the daemon starts', { timeout: 60_000 }, async () => {
    emu = await startEmulator({ port: 0 });
    const proc = runDaemon(emu);
    await proc.url;
    const checks = emu.calls.of('feature.get');
    expect(checks).toHaveLength(2);
    expect(new Set(checks.map((c) => c.batch?.parent)).size).toBe(1);
    const firstBinding = emu.calls.records.find((c) => c.method === 'event.get');
    expect(firstBinding && firstBinding.seq > (checks[0]?.seq ?? Infinity)).toBe(true);
    proc.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
  });
});
