/**
 * Persisted OAuth tokens. Bitrix24 rotates the refresh token on every refresh
 * (API-FACTS §4.2), so the new pair must survive a restart: it is written to a
 * temp file (mode 0600) and renamed over the old one, so a crash mid-write
 * leaves either the old file or the new one, never half of each.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface StoredTokens {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires (ms since epoch), if known. */
  expiresAt?: number;
  /** When these tokens were obtained (ms since epoch). */
  obtainedAt: number;
  /** The portal they belong to (ClientConfig.baseUrl). */
  portal: string;
  /** sha256 of the refresh token this chain started from (the one in the environment), to tell a newer chain from a new grant. */
  seed?: string;
  memberId?: string;
}

/**
 * Where a TokenManager keeps its token pair (OAuthAuthConfig.tokenPersistence).
 * The default is the token file (B24_TOKEN_FILE); a worker of several portals
 * keeps each portal's pair in the control plane's database instead.
 */
export interface TokenPersistence {
  /** The stored pair, or undefined when there is none (the configured tokens are used). A throw fails the call that needed a token. */
  read(): Promise<StoredTokens | undefined>;
  /**
   * Commit a rotated pair. It is called before the new pair is used: when it
   * throws, the refresh fails with that error and the pair is not used.
   */
  write(tokens: StoredTokens): Promise<void>;
}

/** Short fingerprint of a token (never the token itself). */
export function fingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 32);
}

/** Read the token file; undefined when it does not exist or is not a token file. */
export async function readTokens(path: string): Promise<StoredTokens | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const data = JSON.parse(text) as Partial<StoredTokens>;
    if (typeof data.accessToken !== 'string' || typeof data.refreshToken !== 'string' || typeof data.portal !== 'string') return undefined;
    return { obtainedAt: 0, ...data } as StoredTokens;
  } catch {
    return undefined;
  }
}

/** Write the token file atomically with mode 0600 (directory created 0700 if missing). */
export async function writeTokens(path: string, tokens: StoredTokens): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
