import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('rules (dispatcher)', () => {
  it('--help lists every command and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['run', 'validate', 'dry-run', 'test', 'apply', 'call', 'emulator', 'dlq', 'runs', 'trace']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    }
  });

  it('no command prints help and exits 2 (usage)', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Usage: rules COMMAND');
  });

  it('an unknown command exits 2 with a hint', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
    expect(r.stderr).toContain('rules --help');
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
