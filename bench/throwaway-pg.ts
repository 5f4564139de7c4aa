/**
 * A throwaway PostgreSQL server, for the PostgreSQL test suite (test/helpers/pg-global-setup.ts) and the benchmarks
 * that need one: a cluster in a fresh temp dir from the installed server binaries (initdb and pg_ctl under
 * /usr/lib/postgresql/<version>/bin, the newest version wins; or on PATH), on a free port of 127.0.0.1 with its
 * unix socket in that dir, trust auth, no fsync (the data is thrown away). As root, initdb refuses to run, so the
 * binaries run as the `postgres` user (runuser) on a dir chowned to it. stop() (or the process's exit) stops the
 * server and removes the dir.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The one line said when there are no server binaries. */
export const POSTGRES_MISSING = 'PostgreSQL server binaries not found: the PostgreSQL suite is skipped (apt-get install postgresql)';

/** A running throwaway server. */
export interface ThrowawayPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  /** Stops the server and removes its dir. Idempotent. */
  stop(): void;
}

/** The directory holding initdb and pg_ctl: the newest /usr/lib/postgresql/<v>/bin, else PATH; null when absent. */
export function findPostgresBinaries(): string | null {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')) && existsSync(join(base, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
    if (versions[0] !== undefined) return join(base, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb && command -v pg_ctl'], { encoding: 'utf8' });
  if (which.status === 0) {
    const initdb = which.stdout.split('\n')[0]?.trim();
    if (initdb) return initdb.slice(0, initdb.lastIndexOf('/'));
  }
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface Cluster {
  dir: string;
  bin: string;
  asPostgres: boolean;
}

/** Runs a server binary (as the postgres user when we are root); throws with its output when it fails. */
function run(cluster: Cluster, program: string, args: string[]): void {
  const exe = join(cluster.bin, program);
  const [cmd, argv] = cluster.asPostgres ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  const result = spawnSync(cmd, argv, { encoding: 'utf8', cwd: cluster.dir });
  if (result.status !== 0) {
    throw new Error(`${program} failed (exit ${result.status}): ${result.error?.message ?? ''}${result.stdout}${result.stderr}`);
  }
}

/** Starts a throwaway server from the binaries in `bin` (findPostgresBinaries()). */
export async function startThrowawayPostgres(bin: string): Promise<ThrowawayPostgres> {
  const asPostgres = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'b24-rules-pg-'));
  const cluster: Cluster = { dir, bin, asPostgres };
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', stop);
    try {
      run(cluster, 'pg_ctl', ['stop', '-D', join(dir, 'data'), '-m', 'immediate', '-s']);
    } catch {
      // already stopped or never started: removing the dir is all that is left
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  try {
    if (asPostgres) {
      const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
      const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
      if (uid.status !== 0) throw new Error('running as root, but there is no `postgres` user to run the PostgreSQL server as');
      chownSync(dir, Number(uid.stdout.trim()), Number(gid.stdout.trim()));
    }
    const data = join(dir, 'data');
    run(cluster, 'initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    // The free port may be taken by another process before the server binds it: try another.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const options = [
        `-p ${port}`,
        `-k ${dir}`,
        '-c listen_addresses=127.0.0.1',
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c max_connections=200',
        '-c shared_buffers=32MB',
      ].join(' ');
      try {
        run(cluster, 'pg_ctl', ['start', '-D', data, '-w', '-t', '120', '-s', '-l', join(dir, 'server.log'), '-o', options]);
        return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop };
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  } catch (error) {
    stop();
    throw error;
  }
}
