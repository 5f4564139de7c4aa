/**
 * Issue 14, done when: `rules scopes rules/` prints the scopes of the
 * scenarios, checked against the catalog. The scopes are checked against
 * what the scenarios really call: each scenario's rule tests run on their
 * fixture portals, every method the portal answered or a plan would send has
 * its catalog scope among the scopes `rules scopes` gives for that file
 * (enough), and every scope given for rules/ is the scope of some call or
 * bound event (no more). Every catalog event has a scope of the catalog.
 */
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalog, eventScope, scopeAlternatives, scopesOf } from '../../engine/catalog/index.js';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import type { FixturePortal, StartFixturePortal } from '../../engine/plan/index.js';
import { loadRules } from '../../engine/rules/index.js';
import { defaultRunnerDeps, discoverTestFiles, runTests } from '../../engine/testing/index.js';
import { startFixturePortal } from '../../cli/fixture-portal.js';
import { runCli } from '../helpers/cli.js';

const RULES = join(PACKAGE_ROOT, 'rules');

/** The methods a test file's cases make the portal answer, and the writes their plans would send. */
async function methodsCalledBy(testFile: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const recording: StartFixturePortal = async (data, options) => {
    const portal = await startFixturePortal(data, options);
    const wrapped: FixturePortal = {
      config: portal.config,
      calls: () => portal.calls(),
      close: async () => {
        for (const c of portal.calls()) seen.add(c.method);
        await portal.close();
      },
    };
    return wrapped;
  };
  const deps = defaultRunnerDeps({ startFixturePortal: recording });
  const plan = deps.plan;
  deps.plan = async (input) => {
    const doc = await plan(input);
    // An http: action is a plain HTTP request outside the portal: it needs no scope.
    for (const f of doc.firings) for (const c of f.calls) if (c.action?.kind !== 'http') seen.add(c.method.toLowerCase());
    return doc;
  };
  const results = await runTests([testFile], deps, { cwd: PACKAGE_ROOT });
  expect(results.filter((r) => r.status === 'failed' || r.status === 'error'), testFile).toEqual([]);
  // The engine's plumbing: batch carries reads, and basic is open to every webhook and app.
  seen.delete('batch');
  return seen;
}

function scopeOf(method: string): string[] {
  const entry = catalog().byName.get(method.toLowerCase());
  expect(entry, `${method} is in catalog/methods.json`).toBeDefined();
  return scopeAlternatives(entry?.scope ?? '');
}

describe('rules scopes', () => {
  it('prints the scopes of the scenarios in rules/, each the catalog scope of a method or event they use', async () => {
    const r = await runCli(['scopes', RULES]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe("For the webhook's or app's settings: bizproc, crm, im, task, user");
    const json = await runCli(['scopes', RULES, '--format', 'json']);
    const doc = JSON.parse(json.stdout) as { scopes: string[]; needs: Array<{ scope: string; alternatives: string[]; methods: string[]; events: string[] }>; unknown_methods: unknown[]; unresolved: unknown[] };
    expect(doc.scopes).toEqual(['bizproc', 'crm', 'im', 'task', 'user']);
    expect(doc.unknown_methods).toEqual([]);
    expect(doc.unresolved).toEqual([]);
    for (const need of doc.needs) {
      expect(need.methods.length + need.events.length, need.scope).toBeGreaterThan(0);
      for (const m of need.methods) expect(scopeOf(m), m).toContain(need.scope);
      for (const e of need.events) expect(scopeAlternatives(eventScope(e).scope ?? ''), e).toContain(need.scope);
    }
    expect(doc.needs.find((n) => n.scope === 'user')?.alternatives).toEqual(['user_brief', 'user_basic']);
  });

  it('gives each scenario enough: every method its rule tests call or plan is allowed by its file\'s scopes, and every scope given is used', async () => {
    const used = new Set<string>();
    const files = discoverTestFiles([RULES], PACKAGE_ROOT);
    expect(files.length).toBeGreaterThanOrEqual(15);
    for (const testFile of files) {
      // Beside its test (rules/demo/ holds the demo's shadow twin and its test).
      const ruleFile = join(dirname(testFile), basename(testFile).replace(/\.test\.yaml$/, '.yaml'));
      const loaded = await loadRules([ruleFile]);
      expect(loaded.diagnostics.filter((d) => d.severity === 'error'), ruleFile).toEqual([]);
      const report = scopesOf(loaded.rules);
      const granted = report.scopes.flatMap((s) => [s.scope, ...s.alternatives]);
      for (const method of await methodsCalledBy(testFile)) {
        const scopes = scopeOf(method);
        if (scopes.includes('basic')) continue;
        expect(scopes.some((s) => granted.includes(s)), `${basename(testFile)} calls ${method} (scope ${scopes.join(',')}); rules scopes gives ${granted.join(', ')}`).toBe(true);
        for (const s of scopes) used.add(s);
      }
      for (const r of report.rules) for (const e of r.events) for (const s of scopeAlternatives(eventScope(e).scope ?? '')) used.add(s);
    }
    const all = scopesOf((await loadRules([RULES])).rules).scopes.map((s) => s.scope);
    for (const s of all) expect(used.has(s), `scope ${s} is given but no scenario call or event needs it`).toBe(true);
  });

  it('knows the scope of every event in catalog/events.txt, from the catalog\'s methods', () => {
    const scopes = new Set(catalog().methods.flatMap((m) => scopeAlternatives(m.scope)));
    for (const e of catalog().events) {
      const s = eventScope(e).scope;
      expect(s, e).toBeDefined();
      for (const x of scopeAlternatives(s ?? '')) expect(scopes.has(x), `${e}: ${x}`).toBe(true);
    }
    expect(eventScope('ONCRMDEALUPDATE').scope).toBe('crm');
    expect(eventScope('ONTASKADD').scope).toBe('task');
    expect(eventScope('ONCRMDYNAMICITEMUPDATE_147').scope).toBe('crm');
    expect(eventScope('ONIMBOTMESSAGEADD').scope).toBe('imbot');
    expect(eventScope('ONAPPINSTALL').scope).toBe('basic');
  });
});
