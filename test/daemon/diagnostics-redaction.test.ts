/**
 * The daemon prints rule diagnostics through the rules' one formatter, which
 * redacts: a registered secret written into a rule (here as a template name,
 * which the diagnostic quotes) appears neither in the refusal at start nor in
 * the reload refusal's log lines, even with a logger that does not redact.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientConfig } from '../../engine/client/types.js';
import { createDaemon, RuleSetInvalidError, type Daemon } from '../../engine/daemon/daemon.js';
import { clearSecrets, registerSecret, REDACTED } from '../../engine/redact.js';
import { ManualClock, ManualTimers, memoryLogger } from '../sources/helpers.js';
import { tempDir, writeRule } from './harness.js';

const SECRET = 'hunter2-secret-value';
const CONFIG: ClientConfig = { baseUrl: 'http://127.0.0.1:9', plan: 'standard', auth: { mode: 'webhook', userId: '1', code: 'redacttest1' } };
const GOOD = 'id: fine\ntrigger: { manual: {} }\nactions:\n  - notify: { user: 1, message: hi }\n';
const LEAKY = `id: leaky\ntrigger: { manual: {} }\nactions:\n  - notify: { user: 1, message: "{{ ${SECRET} }}" }\n`;

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  clearSecrets();
});

function make(rulesDir: string, dir: string) {
  const { logger, records } = memoryLogger();
  const d = createDaemon({ rulesPaths: [rulesDir], statePath: join(dir, 'state.db'), config: CONFIG, logger, listen: null, watch: false, clock: new ManualClock(Date.UTC(2026, 0, 5, 9)), timers: new ManualTimers() });
  daemon = d;
  return { d, records };
}

describe('rule diagnostics printed by the daemon', () => {
  it('redact a registered secret in the refusal at start', async () => {
    registerSecret(SECRET);
    const dir = tempDir('b24-redact-');
    const rulesDir = join(dir, 'rules');
    mkdirSync(rulesDir);
    writeRule(rulesDir, 'leaky.yaml', LEAKY);
    const { d } = make(rulesDir, dir);
    const err = await d.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RuleSetInvalidError);
    const message = (err as Error).message;
    expect(message).toContain('leaky.yaml:4:');
    expect(message).toContain('TEMPLATE_UNKNOWN_NAME');
    expect(message).toContain(REDACTED);
    expect(message).not.toContain(SECRET);
    daemon = undefined;
  });

  it('redact a registered secret in the reload refusal log lines', async () => {
    registerSecret(SECRET);
    const dir = tempDir('b24-redact-');
    const rulesDir = join(dir, 'rules');
    mkdirSync(rulesDir);
    writeRule(rulesDir, 'fine.yaml', GOOD);
    const { d, records } = make(rulesDir, dir);
    await d.start();
    writeRule(rulesDir, 'leaky.yaml', LEAKY);
    expect(await d.reload()).toBe(false);

    const refusal = records.filter((r) => r.level === 50 && String(r.file ?? '').endsWith('leaky.yaml'));
    expect(refusal).toHaveLength(1);
    expect(refusal[0]).toMatchObject({ code: 'TEMPLATE_UNKNOWN_NAME', rule: 'leaky' });
    expect(String(refusal[0]?.msg)).toContain(REDACTED);
    expect(JSON.stringify(records)).not.toContain(SECRET);
    expect(d.rules.map((r) => r.id)).toEqual(['fine']);
  });
});
