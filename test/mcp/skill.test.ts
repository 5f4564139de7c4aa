/**
 * Issue 14, done when: the Agent Skill (skills/b24-rules/) has the standard
 * layout (SKILL.md with frontmatter name = the folder and a description of
 * what it does and when to use it; references/; agents/openai.yaml), its
 * links resolve, and every command it tells an agent to run exists, and
 * succeeds on the scenario rules when it is one of the loop's commands
 * (each `npx rules ...` line of its sh blocks, run as the built CLI).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { runCli } from '../helpers/cli.js';

const SKILL = join(PACKAGE_ROOT, 'skills', 'b24-rules');
const TOOLS = ['validate', 'dry_run', 'run_tests', 'catalog_search', 'method_info', 'list_events', 'portal_lookup', 'runs', 'trace', 'dlq_list', 'apply_plan', 'dlq_retry'];
const NO_PORTAL = { B24_WEBHOOK_URL: '', B24_DOMAIN: '', B24_AUTH_MODE: '', B24_ACCESS_TOKEN: '', B24_REFRESH_TOKEN: '', B24_WEBHOOK_CODE: '' };

function skillFiles(): string[] {
  return [join(SKILL, 'SKILL.md'), ...readdirSync(join(SKILL, 'references')).map((f) => join(SKILL, 'references', f))];
}

function frontmatter(text: string): { data: Record<string, unknown>; body: string } {
  const m = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
  expect(m, 'SKILL.md starts with a --- frontmatter block').not.toBeNull();
  return { data: parseYaml(m?.[1] ?? '') as Record<string, unknown>, body: m?.[2] ?? '' };
}

/** The `npx rules ...` lines of the ```sh blocks. */
function runnable(text: string): string[] {
  const out: string[] = [];
  for (const block of text.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)) {
    for (const line of (block[1] ?? '').split('\n')) if (line.trim().startsWith('npx rules ')) out.push(line.trim());
  }
  return out;
}

describe('the b24-rules Agent Skill', () => {
  it('has the standard layout: SKILL.md with name and description, references/, agents/openai.yaml', () => {
    const { data, body } = frontmatter(readFileSync(join(SKILL, 'SKILL.md'), 'utf8'));
    expect(data.name).toBe('b24-rules');
    expect(data.name).toBe(SKILL.split('/').at(-1));
    expect(String(data.name)).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(Object.keys(data).every((k) => ['name', 'description', 'license', 'compatibility', 'metadata', 'allowed-tools'].includes(k))).toBe(true);
    const description = String(data.description);
    expect(description.length).toBeGreaterThan(80);
    expect(description.length).toBeLessThanOrEqual(1024);
    expect(description).toMatch(/Bitrix24/);
    expect(description).toMatch(/Use when/);
    expect(body.split('\n').length).toBeLessThan(500);

    const refs = readdirSync(join(SKILL, 'references')).sort();
    expect(refs).toEqual(['bitrix24-errors.md', 'rule-format.md', 'scenario-patterns.md']);
    for (const f of skillFiles()) {
      for (const link of readFileSync(f, 'utf8').matchAll(/\]\(([^)#]+\.md)\)/g)) expect(existsSync(join(dirname(f), link[1] as string)), `${f} links ${link[1]}`).toBe(true);
    }
    for (const r of refs) expect(body, `SKILL.md points to references/${r}`).toContain(`references/${r}`);

    const agents = parseYaml(readFileSync(join(SKILL, 'agents', 'openai.yaml'), 'utf8')) as {
      interface: Record<string, string>;
      policy: { allow_implicit_invocation: boolean };
      dependencies: { tools: Array<Record<string, unknown>> };
    };
    expect(agents.interface.display_name).toBeTruthy();
    expect(agents.interface.short_description).toBeTruthy();
    expect(agents.interface.default_prompt).toContain('$b24-rules');
    expect(agents.policy.allow_implicit_invocation).toBe(true);
    expect(agents.dependencies.tools).toEqual([expect.objectContaining({ type: 'mcp', value: 'b24-rules', transport: 'stdio', command: 'npx', args: ['rules', 'mcp'] })]);
  });

  it('teaches the loop in order, names every MCP tool, and forbids applying without a dry-run shown', () => {
    const body = readFileSync(join(SKILL, 'SKILL.md'), 'utf8');
    const loop = body.slice(body.indexOf('## The loop'), body.indexOf('## With the MCP server'));
    const order = ['npx rules validate', 'npx rules dry-run', 'npx rules test', 'npx rules scopes', 'Propose'].map((s) => loop.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(loop).toContain('rules/NN-short-name.test.yaml');
    for (const t of TOOLS) expect(body, t).toContain(`\`${t}\``);
    expect(body).toMatch(/Never\s+run `rules apply`/);
  });

  it('names only commands that exist', async () => {
    const named = new Set<string>();
    for (const f of skillFiles()) for (const m of readFileSync(f, 'utf8').matchAll(/(?:`|npx )rules ([a-z][a-z-]+)/g)) named.add(m[1] as string);
    expect([...named]).toEqual(expect.arrayContaining(['validate', 'dry-run', 'test', 'scopes', 'apply', 'runs', 'trace', 'dlq', 'mcp', 'record', 'portal']));
    for (const command of named) {
      const r = await runCli([command, '--help'], { env: NO_PORTAL });
      expect(r.code, `rules ${command} --help: ${r.stderr}`).toBe(0);
    }
  });

  it('the commands it tells an agent to run succeed on the scenario rules', async () => {
    const lines = skillFiles().flatMap((f) => runnable(readFileSync(f, 'utf8')));
    expect(lines.length).toBeGreaterThanOrEqual(7);
    for (const line of lines) {
      const args = line.replace(/^npx rules /, '').split(/\s+/);
      const r = await runCli(args, { env: NO_PORTAL, cwd: PACKAGE_ROOT });
      expect(r.code, `${line}\n${r.stderr}`).toBe(0);
      expect(r.stdout.length, line).toBeGreaterThan(0);
    }
  });
});
