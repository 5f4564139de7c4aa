import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../engine/config.js';
import { parseDotenv } from '../../engine/dotenv.js';
import { ConfigError } from '../../engine/errors.js';
import { clearSecrets, redact } from '../../engine/redact.js';

let cwd: string;

beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'b24-config-'));
  clearSecrets();
});

afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, cwd);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('B24_WEBHOOK_URL gives base URL, user and code', () => {
    const c = loadConfig({ B24_WEBHOOK_URL: 'https://portal.bitrix24.com/rest/1/abc123xyz/' }, cwd);
    expect(c).toEqual({ baseUrl: 'https://portal.bitrix24.com', plan: 'standard', auth: { mode: 'webhook', userId: '1', code: 'abc123xyz' } });
  });

  it('webhook parts: B24_DOMAIN may carry a scheme and port; https by default', () => {
    expect(loadConfig({ B24_DOMAIN: 'http://127.0.0.1:8080/', B24_WEBHOOK_USER_ID: '7', B24_WEBHOOK_CODE: 'k3y' }, cwd)).toMatchObject({
      baseUrl: 'http://127.0.0.1:8080',
      auth: { mode: 'webhook', userId: '7', code: 'k3y' },
    });
    expect(loadConfig({ B24_DOMAIN: 'acme.bitrix24.de', B24_AUTH_MODE: 'webhook', B24_WEBHOOK_USER_ID: '1', B24_WEBHOOK_CODE: 'k3y' }, cwd).baseUrl).toBe('https://acme.bitrix24.de');
  });

  it('oauth: tokens, client, token server and token file (relative to cwd)', () => {
    const c = loadConfig(
      { B24_AUTH_MODE: 'oauth', B24_DOMAIN: 'acme.bitrix24.com', B24_ACCESS_TOKEN: 'at-123456', B24_REFRESH_TOKEN: 'rt-123456', B24_CLIENT_ID: 'local.1', B24_CLIENT_SECRET: 'sec-123456', B24_PLAN: 'enterprise' },
      cwd,
    );
    expect(c).toEqual({
      baseUrl: 'https://acme.bitrix24.com',
      plan: 'enterprise',
      auth: { mode: 'oauth', accessToken: 'at-123456', refreshToken: 'rt-123456', clientId: 'local.1', clientSecret: 'sec-123456', oauthUrl: 'https://oauth.bitrix.info', tokenFile: join(cwd, '.rules/tokens.json') },
    });
  });

  it('reads .env in cwd; real environment variables win', async () => {
    await writeFile(
      join(cwd, '.env'),
      ['# comment', 'export B24_DOMAIN=from-file.bitrix24.com', 'B24_WEBHOOK_USER_ID="3"', "B24_WEBHOOK_CODE='filecode99' ", 'B24_PLAN=standard # inline comment', ''].join('\n'),
    );
    expect(loadConfig({}, cwd)).toMatchObject({ baseUrl: 'https://from-file.bitrix24.com', auth: { userId: '3', code: 'filecode99' } });
    expect(loadConfig({ B24_WEBHOOK_CODE: 'envcode77' }, cwd).auth).toMatchObject({ code: 'envcode77' });
  });

  it('registers every secret it reads for redaction', () => {
    loadConfig({ B24_WEBHOOK_URL: 'https://p.bitrix24.com/rest/1/zz9secretcode/' }, cwd);
    expect(redact('code is zz9secretcode')).toBe('code is [REDACTED]');
    loadConfig({ B24_AUTH_MODE: 'oauth', B24_DOMAIN: 'p.bitrix24.com', B24_ACCESS_TOKEN: 'acc-tok-5555', B24_REFRESH_TOKEN: 'ref-tok-5555', B24_CLIENT_ID: 'x', B24_CLIENT_SECRET: 'cli-sec-5555' }, cwd);
    expect(redact('acc-tok-5555 ref-tok-5555 cli-sec-5555')).toBe('[REDACTED] [REDACTED] [REDACTED]');
  });

  it.each([
    [{}, /no Bitrix24 connection configured.*B24_WEBHOOK_URL/],
    [{ B24_AUTH_MODE: 'token' }, /B24_AUTH_MODE must be 'webhook' or 'oauth'; got 'token'/],
    [{ B24_WEBHOOK_URL: 'https://p.bitrix24.com/api/1/x/' }, /B24_WEBHOOK_URL must look like 'https:\/\/your-portal.bitrix24.com\/rest\/\{user id\}\/\{webhook code\}\/'/],
    [{ B24_WEBHOOK_CODE: 'abc' }, /webhook mode needs B24_DOMAIN/],
    [{ B24_DOMAIN: 'p.bitrix24.com', B24_WEBHOOK_CODE: 'abc', B24_WEBHOOK_USER_ID: 'admin' }, /B24_WEBHOOK_USER_ID must be the numeric ID.*got 'admin'/],
    [{ B24_DOMAIN: 'ftp://p', B24_WEBHOOK_CODE: 'abc', B24_WEBHOOK_USER_ID: '1' }, /B24_DOMAIN must use http or https/],
    [{ B24_AUTH_MODE: 'oauth', B24_DOMAIN: 'p.bitrix24.com' }, /oauth mode needs B24_ACCESS_TOKEN and\/or B24_REFRESH_TOKEN/],
    [{ B24_AUTH_MODE: 'oauth', B24_DOMAIN: 'p.bitrix24.com', B24_REFRESH_TOKEN: 'r' }, /B24_CLIENT_ID and B24_CLIENT_SECRET/],
    [{ B24_WEBHOOK_URL: 'https://p.bitrix24.com/rest/1/abc/', B24_PLAN: 'pro' }, /B24_PLAN must be 'standard' or 'enterprise'; got 'pro'/],
  ])('%j is a clear ConfigError', (env, message) => {
    const err = configError(env as Record<string, string>);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(message);
  });

  it('a bad .env line names the file and line', async () => {
    await writeFile(join(cwd, '.env'), 'B24_DOMAIN=x\nthis is not an assignment\n');
    expect(configError({}).message).toMatch(/\.env:2: expected KEY=value/);
  });
});

describe('parseDotenv', () => {
  it('handles quotes, escapes, export and comments', () => {
    expect(parseDotenv('A=1\nexport B = two words # c\nC="x\\ny \\"q\\""\nD=\'#lit\'\n#E=no\nF=')).toEqual({ A: '1', B: 'two words', C: 'x\ny "q"', D: '#lit', F: '' });
  });
});
