/**
 * Issue 13, item 13: a portal with a self-signed or private-CA certificate
 * (here `startEmulator({ tls: true })`, which writes its certificate to
 * `caFile`). B24_CA_FILE makes the client trust it for REST calls and the token
 * server; without it the error is typed, not retried, and says how to fix it.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { createClient, loadConfig, provedNotRun, UntrustedCertificateError, type B24Client, type ClientConfig } from '../../engine/client/index.js';
import { ConfigError } from '../../engine/errors.js';
import { fakeClock } from './helpers/fake-clock.js';

let dir: string;
const emulators: Emulator[] = [];
let client: B24Client | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'b24-tls-'));
});

afterEach(async () => {
  await client?.close();
  client = undefined;
  for (const e of emulators.splice(0)) await e.close();
  await rm(dir, { recursive: true, force: true });
});

async function tlsEmulator(): Promise<Emulator> {
  const e = await startEmulator({ tls: true, limits: { burst: 1_000_000 } });
  emulators.push(e);
  return e;
}

/** The webhook config loadConfig() builds from B24_WEBHOOK_URL and B24_CA_FILE. */
function webhookEnv(e: Emulator, caFile?: string): ClientConfig {
  return loadConfig({ B24_WEBHOOK_URL: e.webhookUrl, ...(caFile !== undefined ? { B24_CA_FILE: caFile } : {}) }, dir);
}

describe('TLS with a private certificate authority (issue 13, item 13)', () => {
  it('the emulator writes its certificate owner-only (0600 in a 0700 directory) and removes it on close', async () => {
    const e = await startEmulator({ tls: true });
    const file = e.caFile as string;
    expect(file).toMatch(/ca\.pem$/);
    expect((await readFile(file, 'utf8')).startsWith('-----BEGIN CERTIFICATE-----')).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(file))).mode & 0o777).toBe(0o700);
    await e.close();
    expect(existsSync(file)).toBe(false);
    const plain = await startEmulator();
    expect(plain.caFile).toBeUndefined();
    await plain.close();
  });

  it('with caFile given, the emulator writes the certificate there (0600) and leaves it on close', async () => {
    const file = join(dir, 'certs', 'emulator-ca.pem');
    const e = await startEmulator({ tls: true, caFile: file });
    expect(e.caFile).toBe(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await e.close();
    expect(existsSync(file)).toBe(true);
  });

  it('B24_CA_FILE: REST calls succeed over HTTPS with certificate checks on', async () => {
    const e = await tlsEmulator();
    const config = webhookEnv(e, e.caFile);
    expect(config.tls?.caFile).toBe(e.caFile);
    client = createClient(config, { clock: fakeClock() });
    const env = await client.call<{ ID: string }>('user.current');
    expect(env.result.ID).toBe('1');
  });

  it('B24_CA_FILE also covers the OAuth token server', async () => {
    const e = await tlsEmulator();
    const config = loadConfig(
      {
        B24_AUTH_MODE: 'oauth',
        B24_DOMAIN: e.url,
        B24_ACCESS_TOKEN: 'not-a-token-the-portal-knows',
        B24_REFRESH_TOKEN: e.app.refresh_token,
        B24_CLIENT_ID: e.app.client_id,
        B24_CLIENT_SECRET: e.app.client_secret,
        B24_OAUTH_URL: e.app.oauth_url,
        B24_TOKEN_FILE: join(dir, 'tokens.json'),
        B24_CA_FILE: e.caFile,
      },
      dir,
    );
    client = createClient(config, { clock: fakeClock() });
    const env = await client.call<{ ID: string }>('user.current');
    expect(env.result.ID).toBe('1');
    expect(client.stats.refreshes).toBe(1);
  });

  it('regression: without it, the error is UntrustedCertificateError (CONFIG_INVALID) naming B24_CA_FILE, at once, with nothing sent', async () => {
    const e = await tlsEmulator();
    const clock = fakeClock();
    client = createClient(webhookEnv(e), { clock });
    const err = await client.call('user.current').catch((x: unknown) => x);
    expect(err).toBeInstanceOf(UntrustedCertificateError);
    const u = err as UntrustedCertificateError;
    expect(u.code).toBe('CONFIG_INVALID');
    expect(u.kind).toBe('user');
    expect(u.errno).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(u.message).toContain('B24_CA_FILE');
    expect(u.message).toContain('NODE_EXTRA_CA_CERTS');
    expect(provedNotRun(u)).toBe(true);
    // Not retried: a certificate does not become trusted by waiting (it was retried 6 times with backoff).
    expect(client.stats.retries).toBe(0);
    expect(clock.sleeps).toEqual([]);
    expect(e.calls.httpRequests).toBe(0);
  });

  it('a B24_CA_FILE that holds another CA: the error names the file in use', async () => {
    const e = await tlsEmulator();
    const other = await tlsEmulator();
    client = createClient(webhookEnv(e, other.caFile), { clock: fakeClock() });
    const err = (await client.call('user.current').catch((x: unknown) => x)) as UntrustedCertificateError;
    expect(err).toBeInstanceOf(UntrustedCertificateError);
    expect(err.caFile).toBe(other.caFile);
    expect(err.message).toContain(`B24_CA_FILE (${other.caFile as string}) is in use`);
  });

  it('the token server without a trusted certificate: the same typed error, not AUTH_REFRESH_FAILED after three attempts', async () => {
    const e = await tlsEmulator();
    const clock = fakeClock();
    const config = loadConfig(
      {
        B24_AUTH_MODE: 'oauth',
        B24_DOMAIN: e.url,
        B24_REFRESH_TOKEN: e.app.refresh_token,
        B24_CLIENT_ID: e.app.client_id,
        B24_CLIENT_SECRET: e.app.client_secret,
        B24_OAUTH_URL: e.app.oauth_url,
        B24_TOKEN_FILE: join(dir, 'tokens.json'),
      },
      dir,
    );
    client = createClient(config, { clock });
    const err = (await client.call('user.current').catch((x: unknown) => x)) as UntrustedCertificateError;
    expect(err).toBeInstanceOf(UntrustedCertificateError);
    expect(err.method).toBe('oauth/token');
    expect(err.message).toContain('B24_CA_FILE');
    expect(clock.sleeps).toEqual([]);
  });

  it('loadConfig: B24_CA_FILE is resolved against the working directory; a missing or non-PEM file is a ConfigError naming it', async () => {
    const e = await tlsEmulator();
    await writeFile(join(dir, 'ca.pem'), await readFile(e.caFile as string));
    const config = webhookEnv(e, 'ca.pem');
    expect(config.tls?.caFile).toBe(join(dir, 'ca.pem'));
    expect(config.tls?.ca).toContain('-----BEGIN CERTIFICATE-----');
    expect(() => webhookEnv(e, 'missing.pem')).toThrow(ConfigError);
    expect(() => webhookEnv(e, 'missing.pem')).toThrow(/B24_CA_FILE cannot be read: .*missing\.pem \(ENOENT\)/);
    await writeFile(join(dir, 'not-a-cert.pem'), 'hello\n');
    expect(() => webhookEnv(e, 'not-a-cert.pem')).toThrow(/B24_CA_FILE is not a PEM certificate file/);
    expect(webhookEnv(e).tls).toBeUndefined();
  });

  it('loadConfig: NODE_EXTRA_CA_CERTS is kept along with B24_CA_FILE (an explicit CA list makes Node ignore it)', async () => {
    const e = await tlsEmulator();
    const other = await tlsEmulator();
    const config = loadConfig({ B24_WEBHOOK_URL: e.webhookUrl, B24_CA_FILE: other.caFile, NODE_EXTRA_CA_CERTS: e.caFile }, dir);
    expect(config.tls?.ca).toContain(await readFile(e.caFile as string, 'utf8'));
    client = createClient(config, { clock: fakeClock() });
    expect((await client.call<{ ID: string }>('user.current')).result.ID).toBe('1');
  });
});
