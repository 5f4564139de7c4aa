/**
 * The tests' CLI runner (test/helpers/cli.ts): a run gets what is left of the
 * test's timeout, and one that never exits fails naming the command and what it
 * printed, instead of resolving with exit `null` (which a test then reports as
 * "expected null to be 0").
 */
import { describe, expect, it } from 'vitest';
import { cliCeilingMs, runCli } from '../helpers/cli.js';

describe('runCli', () => {
  it('gives a run what is left of the test timeout, less a margin', { timeout: 45_000 }, () => {
    const ceiling = cliCeilingMs();
    expect(ceiling).toBeGreaterThan(30_000);
    expect(ceiling).toBeLessThanOrEqual(43_000);
  });

  it('rejects a run that outlives its ceiling with the command and its output', { timeout: 60_000 }, async () => {
    // `rules emulator` serves until stopped; its ready line is on stdout.
    const run = runCli(['emulator', '--port', '0', '--log-level', 'silent'], { timeoutMs: 3_000 });
    await expect(run).rejects.toThrow(/'rules emulator --port 0 --log-level silent' did not exit within 3000 ms and was killed; stdout: \{"url":"http:\/\/127\.0\.0\.1:\d+"/);
  });
});
