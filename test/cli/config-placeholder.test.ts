/**
 * The configuration errors a new user meets first show their example URL as
 * written: its placeholder is not shaped like a webhook code, so redaction
 * (which masks every /rest/{user}/{code}/ it sees) leaves it alone, while a
 * real code in the same place is still masked.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const B24_VARS = ['B24_DOMAIN', 'B24_AUTH_MODE', 'B24_WEBHOOK_USER_ID', 'B24_WEBHOOK_CODE', 'B24_ACCESS_TOKEN', 'B24_REFRESH_TOKEN', 'B24_CLIENT_ID', 'B24_CLIENT_SECRET', 'B24_WEBHOOK_URL', 'B24_OAUTH_URL', 'B24_TOKEN_FILE', 'B24_PLAN', 'B24_CA_FILE'];
const NO_B24 = Object.fromEntries(B24_VARS.map((v) => [v, '']));

describe.concurrent('configuration errors show their placeholders', () => {
  it('no B24_* set: the example webhook URL is printed as written', async () => {
    const r = await runCli(['call', 'crm.lead.get'], { env: NO_B24 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('set B24_WEBHOOK_URL (https://your-portal.bitrix24.com/rest/1/{webhook code}/)');
    expect(r.stderr).not.toContain('[REDACTED]');
  });

  it('B24_WEBHOOK_URL that is not a URL: the example is printed as written', async () => {
    const r = await runCli(['call', 'crm.lead.get'], { env: { ...NO_B24, B24_WEBHOOK_URL: 'my portal' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("It looks like 'https://your-portal.bitrix24.com/rest/1/{webhook code}/'");
    expect(r.stderr).not.toContain('[REDACTED]');
  });

  it('a real webhook code in such a URL is still masked', async () => {
    // A portal that refuses the connection at once: the error names the URL, the code in it must not appear.
    const r = await runCli(['call', 'crm.lead.get', '--log-level', 'debug'], { env: { ...NO_B24, B24_WEBHOOK_URL: 'http://127.0.0.1:9/rest/1/realcode4711secret/' } });
    expect(r.code).toBe(1);
    expect(`${r.stdout}${r.stderr}`).not.toContain('realcode4711secret');
  });
});
