import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { fail, ok, startServer, type ScriptedServer } from '../client/helpers/scripted-server.js';

const CODE = 'cliWebhookSecret8842';
let server: ScriptedServer;
let cwd: string;

const B24_VARS = ['B24_DOMAIN', 'B24_AUTH_MODE', 'B24_WEBHOOK_USER_ID', 'B24_WEBHOOK_CODE', 'B24_ACCESS_TOKEN', 'B24_REFRESH_TOKEN', 'B24_CLIENT_ID', 'B24_CLIENT_SECRET', 'B24_WEBHOOK_URL', 'B24_OAUTH_URL', 'B24_TOKEN_FILE', 'B24_PLAN'];

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { ...Object.fromEntries(B24_VARS.map((v) => [v, ''])), B24_WEBHOOK_URL: `${server.url}/rest/1/${CODE}/`, ...extra };
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'b24-call-'));
  server = await startServer((req) => {
    if (req.method === 'crm.lead.get') return ok({ ID: String(req.body.id), TITLE: 'Acme' }, { time: { operating: 0.1 } });
    if (req.method === 'batch') return ok({ result: { a: { ID: '1' } }, result_error: [], result_total: [], result_next: [], result_time: [] });
    if (req.method === 'crm.deal.get') return fail(400, '', `Not found (url /rest/1/${CODE}/crm.deal.get)`);
    return fail(404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!');
  });
});

afterAll(async () => {
  await server.close();
  await rm(cwd, { recursive: true, force: true });
});

describe('rules call', () => {
  it('prints the response envelope as JSON on stdout and exits 0', async () => {
    const r = await runCli(['call', 'crm.lead.get', '--params', '{"id": 5}'], { env: env(), cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const envelope = JSON.parse(r.stdout) as { result: unknown; time: { operating: number } };
    expect(envelope.result).toEqual({ ID: '5', TITLE: 'Acme' });
    expect(envelope.time.operating).toBe(0.1);
    expect(server.seen.at(-1)?.body).toEqual({ id: 5 });
  });

  it('passes batch commands through', async () => {
    const r = await runCli(['call', 'batch', '--params', '{"halt":0,"cmd":{"a":"crm.lead.get?id=1"}}'], { env: env(), cwd });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ result: { result: { a: { ID: '1' } } } });
    expect(server.seen.at(-1)?.body).toEqual({ halt: 0, cmd: { a: 'crm.lead.get?id=1' } });
  });

  it('an API error prints its code and description on stderr, exits 1, and shows no secret', async () => {
    const r = await runCli(['call', 'no.such.method', '--log-level', 'debug'], { env: env(), cwd });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('ERROR_METHOD_NOT_FOUND: Method not found!');
    expect(r.stderr).not.toContain(CODE);
    const r2 = await runCli(['call', 'crm.deal.get', '--params', '{"id":1}'], { env: env(), cwd });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('Not found');
    expect(r2.stderr).not.toContain(CODE);
  });

  it('debug logs go to stderr, redacted', async () => {
    const r = await runCli(['call', 'crm.lead.get', '--params', '{"id":1}', '--log-level', 'debug'], { env: env(), cwd });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('crm.lead.get');
    expect(r.stderr).not.toContain(CODE);
    expect(JSON.parse(r.stdout)).toHaveProperty('result');
  });

  it.each([
    [[], /missing METHOD/],
    [['crm.lead.get', '--params', '{bad json'], /--params is not valid JSON/],
    [['crm.lead.get', '--params', '[1,2]'], /--params must be a JSON object/],
    [['crm.lead.get', '--bogus'], /Unknown option '--bogus'/],
    [['crm.lead.get', '--log-level', 'loud'], /--log-level must be one of/],
    [['a', 'b'], /expected one METHOD/],
  ])('bad usage %j exits 2', async (args, message) => {
    const r = await runCli(['call', ...args], { env: env(), cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('missing configuration is a clear error, exit 1', async () => {
    const r = await runCli(['call', 'crm.lead.get'], { env: env({ B24_WEBHOOK_URL: '' }), cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CONFIG_INVALID');
    expect(r.stderr).toContain('B24_WEBHOOK_URL');
  });

  it('--read-only refuses a write without calling the portal', async () => {
    const before = server.seen.length;
    const r = await runCli(['call', 'crm.lead.add', '--read-only', '--params', '{"fields":{"TITLE":"x"}}'], { env: env(), cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('WRITE_REFUSED');
    expect(server.seen.length).toBe(before);
  });
});
