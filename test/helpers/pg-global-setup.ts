/**
 * vitest globalSetup: a throwaway PostgreSQL server for the PostgreSQL suite.
 *
 * When PostgreSQL's server binaries are installed (initdb and pg_ctl under /usr/lib/postgresql/<version>/bin, the
 * newest version wins; or on PATH), it creates a cluster in a fresh temp dir, starts it on a free port of 127.0.0.1
 * with its unix socket in that dir (trust auth, no fsync: the data is thrown away), and provides its URL to the tests
 * as `inject('pgUrl')`. When they are not installed, `pgUrl` is null and ONE line says so; the PostgreSQL tests skip.
 * B24_TEST_DATABASE_URL names an existing server instead (nothing is started). As root, initdb refuses to run, so
 * the binaries run as the `postgres` user (runuser) on a dir chowned to it.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The throwaway PostgreSQL server's URL (database `postgres`), or null when there is none. */
    pgUrl: string | null;
  }
}

const MISSING = 'PostgreSQL server binaries not found: the PostgreSQL suite is skipped (apt-get install postgresql)';

/** The directory holding initdb and pg_ctl: the newest /usr/lib/postgresql/<v>/bin, else PATH; null when absent. */
function findBinDir(): string | null {
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

interface Server {
  dir: string;
  bin: string;
  asPostgres: boolean;
}

/** Runs a server binary (as the postgres user when we are root); throws with its output when it fails. */
function run(server: Server, program: string, args: string[]): void {
  const exe = join(server.bin, program);
  const [cmd, argv] = server.asPostgres ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  const result = spawnSync(cmd, argv, { encoding: 'utf8', cwd: server.dir });
  if (result.status !== 0) {
    throw new Error(`${program} failed (exit ${result.status}): ${result.error?.message ?? ''}${result.stdout}${result.stderr}`);
  }
}

function stop(server: Server): void {
  try {
    run(server, 'pg_ctl', ['stop', '-D', join(server.dir, 'data'), '-m', 'immediate', '-s']);
  } catch {
    // already stopped or never started: removing the dir is all that is left
  }
  rmSync(server.dir, { recursive: true, force: true });
}

/** Starts the throwaway server (or not) and provides `pgUrl`; returns the teardown that stops it and removes its dir. */
export default async function setup(project: TestProject): Promise<() => void> {
  const existing = process.env.B24_TEST_DATABASE_URL;
  if (existing) {
    project.provide('pgUrl', existing);
    return () => {};
  }
  const bin = findBinDir();
  if (bin === null) {
    console.log(MISSING);
    project.provide('pgUrl', null);
    return () => {};
  }
  const asPostgres = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'b24-rules-pg-'));
  const server: Server = { dir, bin, asPostgres };
  if (asPostgres) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gids = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (ids.status !== 0) throw new Error('running as root, but there is no `postgres` user to run the PostgreSQL server as');
    chownSync(dir, Number(ids.stdout.trim()), Number(gids.stdout.trim()));
  }
  const onExit = () => stop(server);
  process.once('exit', onExit);
  try {
    const data = join(dir, 'data');
    run(server, 'initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
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
        run(server, 'pg_ctl', ['start', '-D', data, '-w', '-t', '120', '-s', '-l', join(dir, 'server.log'), '-o', options]);
        project.provide('pgUrl', `postgres://postgres@127.0.0.1:${port}/postgres`);
        break;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  } catch (error) {
    stop(server);
    process.removeListener('exit', onExit);
    throw error;
  }
  return () => {
    process.removeListener('exit', onExit);
    stop(server);
  };
}
