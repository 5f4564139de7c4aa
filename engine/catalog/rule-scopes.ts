/**
 * The least-privilege scopes a set of rules needs: the catalog's scope of
 * every method the rules call and every event they bind (`rules scopes`,
 * and what `rules validate --scopes` compares with the portal's). `basic`
 * (event.bind, event.offline.*, batch, app.info) is open to every webhook
 * and app and never listed. A method the catalog does not know is reported.
 */
import type { CompiledRule } from '../rules/index.js';
import { catalog, scopeAlternatives } from './catalog-data.js';
import { eventScope } from './event-scopes.js';
import { ruleUses, type RuleUses } from './rule-uses.js';

/** One scope the rules need, with who needs it and for what. */
export interface NeededScope {
  scope: string;
  /** Other scopes that would do instead (from `a,b` in the catalog), when every need it answers allows them. */
  alternatives: string[];
  rules: string[];
  methods: string[];
  events: string[];
}

/** Everything `rules scopes` reports. */
export interface ScopeReport {
  scopes: NeededScope[];
  /** Methods the catalog does not know (their scope is unknown), with the rules that call them. */
  unknownMethods: Array<{ method: string; rules: string[] }>;
  /** Events with no scope in the catalog. */
  unknownEvents: Array<{ event: string; rules: string[] }>;
  /** Parts of rules whose methods depend on a template. */
  unresolved: Array<{ rule: string; file: string; line: number; what: string }>;
  /** Per rule: its methods and events. */
  rules: RuleUses[];
}

interface Need {
  options: string[];
  rule: string;
  method?: string;
  event?: string;
}

const ALWAYS = 'basic';

/** The scopes `rules` need, fewest first chosen: a need with alternatives is met by a scope already needed when it can be. */
export function scopesOf(rules: readonly CompiledRule[]): ScopeReport {
  const uses = rules.map(ruleUses);
  const needs: Need[] = [];
  const unknownMethods = new Map<string, Set<string>>();
  const unknownEvents = new Map<string, Set<string>>();
  for (const u of uses) {
    for (const m of u.methods) {
      const entry = catalog().byName.get(m.method.toLowerCase());
      if (!entry) {
        unknownMethods.set(m.method, (unknownMethods.get(m.method) ?? new Set()).add(u.ruleId));
        continue;
      }
      needs.push({ options: scopeAlternatives(entry.scope), rule: u.ruleId, method: entry.method });
    }
    for (const e of u.events) {
      const s = eventScope(e).scope;
      if (s === undefined) {
        unknownEvents.set(e, (unknownEvents.get(e) ?? new Set()).add(u.ruleId));
        continue;
      }
      needs.push({ options: scopeAlternatives(s), rule: u.ruleId, event: e });
    }
  }
  const open = needs.filter((n) => !n.options.includes(ALWAYS));
  // A need with one option fixes its scope; the others take a fixed one when they allow it, else their first option.
  const chosen = new Set(open.filter((n) => n.options.length === 1).map((n) => n.options[0] as string));
  for (const n of open) if (!n.options.some((o) => chosen.has(o))) chosen.add(n.options[0] as string);
  const metBy = (n: Need) => n.options.find((o) => chosen.has(o)) as string;
  const scopes: NeededScope[] = [...chosen].sort().map((scope) => {
    const mine = open.filter((n) => metBy(n) === scope);
    const alternatives = (mine[0]?.options ?? []).filter((o) => o !== scope && mine.every((n) => n.options.includes(o)));
    return {
      scope,
      alternatives,
      rules: [...new Set(mine.map((n) => n.rule))].sort(),
      methods: [...new Set(mine.flatMap((n) => (n.method ? [n.method] : [])))].sort(),
      events: [...new Set(mine.flatMap((n) => (n.event ? [n.event] : [])))].sort(),
    };
  });
  return {
    scopes,
    unknownMethods: [...unknownMethods].map(([method, r]) => ({ method, rules: [...r].sort() })),
    unknownEvents: [...unknownEvents].map(([event, r]) => ({ event, rules: [...r].sort() })),
    unresolved: uses.flatMap((u) => u.unresolved.map((what) => ({ rule: u.ruleId, file: u.file, line: u.line, what }))),
    rules: uses,
  };
}

/** Whether `granted` (the portal's `scope` answer) covers a need written as the catalog's `a,b` string. */
export function grants(granted: readonly string[], scope: string): boolean {
  return scopeAlternatives(scope).some((s) => s === ALWAYS || granted.includes(s));
}
