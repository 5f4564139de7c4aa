/**
 * vitest globalSetup: a throwaway PostgreSQL server for the PostgreSQL suite.
 *
 * When PostgreSQL's server binaries are installed, it starts a throwaway server (bench/throwaway-pg.ts: a cluster
 * in a temp dir, a free port of 127.0.0.1, trust auth, no fsync) and provides its URL to the tests as
 * `inject('pgUrl')`; teardown stops it and removes its dir. When they are not installed, `pgUrl` is null and ONE
 * line says so; the PostgreSQL tests skip. B24_TEST_DATABASE_URL names an existing server instead (nothing is started).
 */
import type { TestProject } from 'vitest/node';
import { findPostgresBinaries, POSTGRES_MISSING, startThrowawayPostgres } from '../../bench/throwaway-pg.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The throwaway PostgreSQL server's URL (database `postgres`), or null when there is none. */
    pgUrl: string | null;
  }
}

/** Starts the throwaway server (or not) and provides `pgUrl`; returns the teardown that stops it. */
export default async function setup(project: TestProject): Promise<() => void> {
  const existing = process.env.B24_TEST_DATABASE_URL;
  if (existing) {
    project.provide('pgUrl', existing);
    return () => {};
  }
  const bin = findPostgresBinaries();
  if (bin === null) {
    console.log(POSTGRES_MISSING);
    project.provide('pgUrl', null);
    return () => {};
  }
  const server = await startThrowawayPostgres(bin);
  project.provide('pgUrl', server.url);
  return () => server.stop();
}
