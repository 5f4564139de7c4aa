/**
 * Issue 17: `b24-rules completion bash|zsh|fish` prints scripts built from the
 * CLI's own command and option tables. Each is accepted by its shell where the
 * shell is installed, and the bash one, driven in a bash subprocess, completes
 * `b24-rules va` to validate, options, their listed values and subcommands.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../cli/command-table.js';
import { runCli } from '../helpers/cli.js';

const has = (shell: string): boolean => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;

const scripts: Record<string, string> = {};
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'completion-'));
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = await runCli(['completion', shell]);
    expect(r.code, r.stderr).toBe(0);
    scripts[shell] = r.stdout;
    writeFileSync(join(dir, `b24-rules.${shell}`), r.stdout);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the bash completion function offers for the words typed so far (the last one being completed). */
function bashComplete(...words: string[]): string[] {
  const script = [
    `source ${JSON.stringify(join(dir, 'b24-rules.bash'))}`,
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    '_b24_rules',
    `printf '%s\\n' "\${COMPREPLY[@]}"`,
  ].join('\n');
  const r = spawnSync('bash', ['--noprofile', '--norc', '-c', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean);
}

describe('b24-rules completion', () => {
  it('the bash script is valid bash and registers for both names', () => {
    const r = spawnSync('bash', ['-n', join(dir, 'b24-rules.bash')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const registered = spawnSync('bash', ['--noprofile', '--norc', '-c', `source ${JSON.stringify(join(dir, 'b24-rules.bash'))} && complete -p b24-rules rules`], { encoding: 'utf8' });
    expect(registered.stdout).toContain('-F _b24_rules b24-rules');
    expect(registered.stdout).toContain('-F _b24_rules rules');
  });

  it('completes b24-rules va to validate, and offers every command of the command table', () => {
    expect(bashComplete('b24-rules', 'va')).toEqual(['validate']);
    expect(bashComplete('b24-rules', '').sort()).toEqual([...Object.keys(COMMANDS), '--help', '--version'].sort());
  });

  it("completes a command's options from the table its parser takes, and their listed values", () => {
    expect(bashComplete('b24-rules', 'validate', '--portal-')).toEqual(['--portal-snapshot']);
    expect(bashComplete('b24-rules', 'validate', '--format', '')).toEqual(['text', 'json', 'github']);
    expect(bashComplete('b24-rules', 'test', '--format', 'g')).toEqual(['github']);
    expect(bashComplete('b24-rules', 'dry-run', '--detailed')).toEqual(['--detailed-exitcode']);
    expect(bashComplete('b24-rules', 'run', '--log-level', 'de')).toEqual(['debug']);
    expect(bashComplete('b24-rules', 'dlq', '')).toEqual(['list', 'show', 'retry', 'drop']);
    expect(bashComplete('b24-rules', 'completion', '')).toEqual(['bash', 'zsh', 'fish']);
    // A value that is a file or a free text: nothing of ours (bash's -o default completes files).
    expect(bashComplete('b24-rules', 'dry-run', '--fixtures', '')).toEqual([]);
    expect(bashComplete('b24-rules', 'validate', 'rul')).toEqual([]);
  });

  it.skipIf(!has('zsh'))('the zsh script is valid zsh', () => {
    const r = spawnSync('zsh', ['-n', join(dir, 'b24-rules.zsh')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(scripts.zsh).toMatch(/^#compdef b24-rules rules\n/);
    const script = `autoload -U compinit && compinit -u -d ${JSON.stringify(join(dir, 'zcompdump'))} && source ${JSON.stringify(join(dir, 'b24-rules.zsh'))} && print -r -- $_comps[b24-rules] $_comps[rules]`;
    const loaded = spawnSync('zsh', ['-f', '-c', script], { encoding: 'utf8' });
    expect(loaded.stdout.trim(), loaded.stderr).toBe('_b24_rules _b24_rules');
  });

  it.skipIf(!has('fish'))('the fish script is valid fish and completes b24-rules va to validate', () => {
    const parsed = spawnSync('fish', ['--no-execute', join(dir, 'b24-rules.fish')], { encoding: 'utf8' });
    expect(parsed.status, parsed.stderr).toBe(0);
    const r = spawnSync('fish', ['--no-config', '-c', `source ${JSON.stringify(join(dir, 'b24-rules.fish'))}; complete -C 'b24-rules va'`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n').map((l) => l.split('\t')[0])).toContain('validate');
  });

  it('each script names every command', () => {
    for (const shell of ['bash', 'zsh', 'fish']) for (const name of Object.keys(COMMANDS)) expect(scripts[shell], `${shell}: ${name}`).toContain(name);
  });

  it('an unknown or missing shell is bad usage (exit 2) with a did-you-mean', async () => {
    const r = await runCli(['completion', 'bsh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("did you mean 'bash'?");
    expect((await runCli(['completion'])).code).toBe(2);
  });
});
