/**
 * Compilation of templates. `compileTemplate` turns one string into a Template;
 * `compileValue` walks an object/array and compiles every string in it into a
 * TemplatedValue. A string that is exactly one `{{ }}` keeps the value's type;
 * in mixed text a missing value renders as '' (never "undefined") and objects
 * as JSON.
 */
import type { Facts, Template, TemplatedValue } from '../rules/index.js';
import { FILTERS } from './filters.js';
import { hasTemplate, parseTemplate, type TemplateExpr, type TemplatePart } from './parse.js';
import { resolvePath } from './resolve.js';

/** A compiled template, with its parsed expressions (for reference checks). */
export interface CompiledTemplate extends Template {
  exprs: TemplateExpr[];
}

/** A compiled value, with every template in it and where (JSON pointer relative to the value). */
export interface CompiledValue extends TemplatedValue {
  templates: Array<{ pointer: string; template: CompiledTemplate }>;
}

function evalExpr(expr: TemplateExpr, facts: Facts): unknown {
  let v = resolvePath(facts, expr.path);
  for (const f of expr.filters) v = FILTERS[f.name]!.apply(v, f.arg);
  return v;
}

function toText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Compile one template string. Throws TemplateError (with the offset) on bad syntax or an unknown filter. */
export function compileTemplate(source: string): CompiledTemplate {
  const parts: TemplatePart[] = hasTemplate(source) ? parseTemplate(source) : [{ kind: 'text', text: source }];
  const exprs = parts.flatMap((p) => (p.kind === 'expr' ? [p.expr] : []));
  const refs = [...new Set(exprs.map((e) => e.path[0]!))];
  const only = parts.length === 1 && parts[0]?.kind === 'expr' ? parts[0].expr : undefined;
  const render = only
    ? (facts: Facts) => evalExpr(only, facts)
    : (facts: Facts) => parts.map((p) => (p.kind === 'text' ? p.text : toText(evalExpr(p.expr, facts)))).join('');
  return { source, render, refs, exprs };
}

const escapePointer = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Compile every string inside `value`. `onError` receives template errors with
 * the pointer of the string (compilation goes on with the other strings; the
 * failing string renders as its source). Without `onError`, errors are thrown.
 */
export function compileValue(value: unknown, onError?: (err: unknown, pointer: string) => void): CompiledValue {
  const templates: CompiledValue['templates'] = [];
  const build = (v: unknown, pointer: string): ((facts: Facts) => unknown) => {
    if (typeof v === 'string') {
      if (!hasTemplate(v)) return () => v;
      try {
        const t = compileTemplate(v);
        templates.push({ pointer, template: t });
        return t.render;
      } catch (err) {
        if (!onError) throw err;
        onError(err, pointer);
        return () => v;
      }
    }
    if (Array.isArray(v)) {
      const items = v.map((x, i) => build(x, `${pointer}/${i}`));
      return (facts) => items.map((f) => f(facts));
    }
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v).map(([k, x]) => [k, build(x, `${pointer}/${escapePointer(k)}`)] as const);
      return (facts) => {
        const out: Record<string, unknown> = {};
        for (const [k, f] of entries) Object.defineProperty(out, k, { value: f(facts), enumerable: true, writable: true, configurable: true });
        return out;
      };
    }
    return () => v;
  };
  const render = build(value, '');
  const refs = [...new Set(templates.flatMap((t) => t.template.refs))];
  return { render, refs, templates };
}
