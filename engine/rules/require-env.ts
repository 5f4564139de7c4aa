/**
 * A template that reads `env.NAME` fails when NAME is not set, with an error
 * that names the variable and the rule ("env.CRM_SYNC_URL is not set (rule
 * sync-deals)"), instead of rendering `undefined` into a URL or a field and
 * failing later with a message that names neither ("url is not an absolute
 * URL: undefined"). An expression with a `default` filter supplies its own
 * value and is left alone. The daemon and `rules validate --env` warn about
 * such variables before any run (ENV_MISSING).
 */
import { ConfigError } from '../errors.js';
import type { CompiledValue, TemplateExpr } from '../template/index.js';
import type { Facts, Template } from './types.js';

/** Names read as `env.NAME` without a `default` filter. */
export function envNamesRequired(exprs: readonly TemplateExpr[]): string[] {
  const names = exprs.filter((e) => e.path[0] === 'env' && e.path[1] !== undefined && !e.filters.some((f) => f.name === 'default')).map((e) => e.path[1]!);
  return [...new Set(names)];
}

function guarded<T extends { render(facts: Facts): unknown }>(value: T, names: string[], ruleId: string): T {
  if (names.length === 0) return value;
  const render = value.render;
  return {
    ...value,
    render(facts: Facts) {
      const env = facts.env as Record<string, unknown> | undefined;
      const missing = names.filter((n) => env?.[n] === undefined);
      if (missing.length) {
        const list = missing.map((n) => `env.${n}`).join(', ');
        throw new ConfigError(`${list} ${missing.length === 1 ? 'is' : 'are'} not set (rule ${ruleId}): set ${missing.join(', ')} in the daemon's environment or .env`);
      }
      return render(facts);
    },
  };
}

/** `value` (every template in it), failing with ConfigError when it would read an unset `env.NAME`. */
export function requireEnvValue(value: CompiledValue, ruleId: string): CompiledValue {
  return guarded(value, envNamesRequired(value.templates.flatMap((t) => t.template.exprs)), ruleId);
}

/** `template`, failing with ConfigError when it would read an unset `env.NAME`. */
export function requireEnvTemplate(template: Template, ruleId: string): Template {
  const exprs = (template as { exprs?: TemplateExpr[] }).exprs ?? [];
  return guarded(template, envNamesRequired(exprs), ruleId);
}
