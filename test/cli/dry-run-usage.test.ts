/**
 * `rules dry-run` as a new user runs it, through the built CLI: without events
 * and without --at there is nothing to plan, which is bad usage (exit 2, as
 * the README says), not an error; the Markdown plan counts in the singular
 * where there is one; --json is --format json.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** No portal in the environment: none of these may need one. */
const NO_PORTAL = { B24_WEBHOOK_URL: '', B24_DOMAIN: '', B24_AUTH_MODE: '', B24_ACCESS_TOKEN: '', B24_REFRESH_TOKEN: '', B24_WEBHOOK_CODE: '' };

async function usage(args: string[]): Promise<string> {
  const r = await runCli(args, { env: NO_PORTAL });
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  return r.stderr;
}

describe.concurrent('rules dry-run with nothing to plan', () => {
  it('without events and without --at is bad usage: exit 2, before reading a portal', async () => {
    const stderr = await usage(['dry-run', 'rules/03-route-leads.yaml']);
    expect(stderr).toBe('rules: nothing to plan: no events, and no --at TIME for schedules. Give --events FILE (or --fixtures FILE with events:) and/or --at TIME\n');
    // Fixtures without events: still nothing to plan.
    expect(await usage(['dry-run', 'rules/07-stale-deals.yaml', '--fixtures', 'rules/fixtures/07-stale-deals.fixtures.yaml'])).toContain('nothing to plan');
  });

  it('with --at and no schedule firing then: a plan of nothing, exit 0', async () => {
    const r = await runCli(['dry-run', 'rules/07-stale-deals.yaml', '--fixtures', 'rules/fixtures/07-stale-deals.fixtures.yaml', '--at', '2026-11-24T10:00:00+03:00'], { env: NO_PORTAL });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('rules dry-run: nothing to plan: no events, and no schedule rule fires at 2026-11-24T10:00:00+03:00.\n');
    expect(r.stdout).toContain('No changes.');
  });
});

describe.concurrent('plural forms', () => {
  it('the Markdown plan counts one schedule tick and one rule in the singular', async () => {
    const r = await runCli(['dry-run', 'rules/07-stale-deals.yaml', '--fixtures', 'rules/fixtures/07-stale-deals.fixtures.yaml', '--at', '2026-11-24T09:00:00+03:00', '--format', 'markdown'], { env: NO_PORTAL });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/: 1 rule, 0 events, 1 schedule tick\.\n/);
  });

  it('the --json alias of dry-run is --format json', async () => {
    const args = ['dry-run', 'rules/07-stale-deals.yaml', '--fixtures', 'rules/fixtures/07-stale-deals.fixtures.yaml', '--at', '2026-11-24T09:00:00+03:00'];
    const [a, b] = await Promise.all([runCli([...args, '--json'], { env: NO_PORTAL }), runCli([...args, '--format', 'json'], { env: NO_PORTAL })]);
    expect(a.code).toBe(0);
    const strip = (s: string) => ({ ...(JSON.parse(s) as Record<string, unknown>), generated_at: null });
    expect(strip(a.stdout)).toEqual(strip(b.stdout));
  });
});
