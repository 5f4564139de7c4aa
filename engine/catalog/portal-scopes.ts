/**
 * What the configured webhook or app may call: the `scope` method answers the
 * scopes of the credentials it is called with (a webhook's permissions, an
 * app's granted scopes); for an app, `app.info` names it. Compared with what
 * the rules need, a missing scope is a SCOPE_MISSING warning on each rule
 * that needs it (`rules validate --scopes`).
 */
import { createClient, loadConfig, type B24ClientApi } from '../client/index.js';
import type { CompiledRule, Diagnostic } from '../rules/index.js';
import { grants, scopesOf, type ScopeReport } from './rule-scopes.js';

/** The scopes of the credentials the client calls with, and the app's code when it is an app. */
export interface GrantedScopes {
  scopes: string[];
  /** `webhook` or `app CODE`: what lacks a scope, for messages. */
  who: string;
}

/** Ask the portal which scopes the configured credentials have (two reads in one batch for an app). */
export async function grantedScopes(client: B24ClientApi, auth: 'webhook' | 'oauth'): Promise<GrantedScopes> {
  if (auth === 'webhook') {
    const env = await client.call<unknown>('scope');
    return { scopes: asStrings(env.result), who: 'webhook' };
  }
  const r = await client.batch({ scope: { method: 'scope' }, app: { method: 'app.info' } }, { halt: false });
  const code = (r.app?.ok ? (r.app.result as { CODE?: unknown } | undefined)?.CODE : undefined) ?? undefined;
  return { scopes: r.scope?.ok ? asStrings(r.scope.result) : [], who: typeof code === 'string' && code !== '' ? `app ${code}` : 'app' };
}

function asStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

/** A SCOPE_MISSING warning per rule and scope the granted scopes lack, at the rule's file:line. */
export function missingScopes(report: ScopeReport, granted: GrantedScopes, portal: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const need of report.scopes) {
    const options = [need.scope, ...need.alternatives].join(',');
    if (grants(granted.scopes, options)) continue;
    for (const ruleId of need.rules) {
      const rule = report.rules.find((r) => r.ruleId === ruleId);
      if (!rule) continue;
      const what = [...need.methods.filter((m) => rule.methods.some((x) => x.method === m)), ...need.events.filter((e) => rule.events.includes(e))];
      out.push({
        severity: 'warning',
        code: 'SCOPE_MISSING',
        message: `the ${granted.who} of ${portal} lacks the scope '${need.scope}'${need.alternatives.length ? ` (or ${need.alternatives.join(', ')})` : ''} this rule needs for ${what.join(', ')}`,
        file: rule.file,
        line: rule.line,
        col: 1,
        ruleId,
        hint: `add '${need.scope}' to the ${granted.who === 'webhook' ? "webhook's permissions" : "app's scopes (and reinstall it)"} in Bitrix24; 'rules scopes' lists every scope the rules need`,
      });
    }
  }
  return out;
}

/**
 * The SCOPE_MISSING warnings of `rules` against the portal configured in
 * `env` (and ./.env), asked through a read-only client. The portal is named
 * by its host, never by its webhook URL.
 */
export async function checkGrantedScopes(rules: readonly CompiledRule[], env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Promise<Diagnostic[]> {
  const config = loadConfig(env, cwd);
  const client = createClient(config, { readOnly: true });
  try {
    const granted = await grantedScopes(client, config.auth.mode);
    return missingScopes(scopesOf(rules), granted, new URL(config.baseUrl).host);
  } finally {
    await client.close();
  }
}
