/**
 * The checks shared by every part of one rule while it compiles: templates and
 * json-logic (syntax and the names they read), `env.` references, name
 * conflicts and Bitrix24 method names. Each problem goes to the rule's Reporter.
 */
import { compileLogic, logicRefs, type LogicError, type LogicNode } from '../logic/index.js';
import { closest } from '../suggest.js';
import { compileTemplate, compileValue, TemplateError, type CompiledTemplate, type CompiledValue } from '../template/index.js';
import { actionKind } from './action-kind.js';
import type { CalendarSet } from './calendars.js';
import { isReadMethod, type CatalogIndex } from './catalog.js';
import { joinPointer } from './json-pointer.js';
import type { RawRule } from './raw.js';
import { Reporter, type ReportOptions } from './reporter.js';
import type { Scope } from './scope.js';
import type { SourceDocument } from './source.js';
import type { Template } from './types.js';

export interface CompileContext {
  file: string;
  catalog: CatalogIndex;
  /** Environment to check `env:` names against (warnings); absent: not checked. */
  env?: Record<string, string | undefined>;
  /** The calendars `within:` may name (the folder's calendars.yaml). @default none */
  calendars?: CalendarSet;
}

/** Checks of one rule document, reporting into one Reporter. */
export class RuleChecker {
  readonly reporter: Reporter;
  /** The rule's `env:` list. */
  readonly envNames: readonly string[];
  readonly ruleId: string;
  // Every name the rule declares, to tell "defined later" from "not defined at all".
  private readonly declared = new Map<string, string>();

  constructor(
    raw: RawRule,
    readonly doc: SourceDocument,
    readonly ctx: CompileContext,
  ) {
    this.reporter = new Reporter(doc, ctx.file, raw.id);
    this.envNames = raw.env ?? [];
    this.ruleId = raw.id;
    for (const name of Object.keys(raw.load ?? {})) this.declare(name, `load '${name}'`);
    for (const name of Object.keys(raw.let ?? {})) this.declare(name, `let '${name}'`);
    raw.actions.forEach((a, i) => {
      const kind = actionKind(a);
      const opts = kind ? (a[kind] as Record<string, unknown> | null) : null;
      if (opts && typeof opts.as === 'string') this.declare(opts.as, `actions[${i}].as`);
    });
  }

  /** Report a diagnostic (see Reporter.report). */
  report(code: string, pointer: string, message: string, hint?: string, opts: ReportOptions = {}): void {
    this.reporter.report(code, pointer, message, hint, opts);
  }

  /** Compile every template in `value` and check the names it reads. */
  templated(value: unknown, pointer: string, scope: Scope, where: string): CompiledValue {
    const compiled = compileValue(value, (err, rel) => this.templateError(err, pointer + rel));
    for (const { pointer: rel, template } of compiled.templates) this.checkTemplateRefs(template, pointer + rel, scope, where);
    return compiled;
  }

  /** Compile one template string and check the names it reads; a broken template renders its source. */
  template(value: string | number, pointer: string, scope: Scope, where: string): Template {
    if (typeof value === 'number') return { source: String(value), refs: [], render: () => value };
    try {
      const t = compileTemplate(value);
      this.checkTemplateRefs(t, pointer, scope, where);
      return t;
    } catch (err) {
      this.templateError(err, pointer);
      return { source: value, refs: [], render: () => value };
    }
  }

  /** Check a json-logic expression (operators, arguments, names); returns the compiled node when valid. */
  logic(expr: unknown, pointer: string, scope: Scope, where: string): LogicNode | undefined {
    const problems: LogicError[] = [];
    const node = compileLogic(expr, problems);
    for (const p of problems) {
      // Operator problems point at the operator's key; argument problems at the argument.
      const last = p.path[p.path.length - 1];
      if (typeof last === 'string') this.report(p.code, joinPointer(pointer, ...p.path.slice(0, -1)), p.message, p.hint, { key: last });
      else this.report(p.code, joinPointer(pointer, ...p.path), p.message, p.hint);
    }
    for (const at of templateStrings(expr)) {
      this.report('LOGIC_TEMPLATE', joinPointer(pointer, ...at), 'templates ({{ }}) are not expanded inside json-logic; this string is compared literally', 'read values with { var: deal.ID } instead of "{{ deal.ID }}"', { severity: 'warning' });
    }
    for (const ref of logicRefs(expr)) {
      if (ref.name === 'env' && scope.has('env')) this.checkEnvRef(ref.varPath.split('.')[1], joinPointer(pointer, ...ref.path));
      else if (!scope.has(ref.name)) {
        const { message, hint } = this.unknownName(scope, ref.name, where);
        this.report('LOGIC_UNKNOWN_NAME', joinPointer(pointer, ...ref.path), message, hint);
      }
    }
    return problems.length === 0 ? node : undefined;
  }

  /** Add `name` to `scope`, reporting NAME_CONFLICT when something there already has it. */
  claim(scope: Scope, name: string, origin: string, pointer: string, key?: string): void {
    const prior = scope.names.get(name);
    if (prior !== undefined) {
      this.report('NAME_CONFLICT', pointer, `the name '${name}' (${origin}) is already taken by ${prior}`, 'pick another name', key === undefined ? {} : { key });
    }
    scope.add(name, origin);
  }

  /** Check a Bitrix24 method name against the catalog; with `mustRead`, also that it only reads. */
  checkMethod(method: string, pointer: string, mustRead: boolean, where: string): void {
    const entry = this.ctx.catalog.get(method);
    if (!entry) {
      const guess = closest(method, this.ctx.catalog.names);
      this.report('METHOD_UNKNOWN', pointer, `unknown Bitrix24 method '${method}'${guess ? `; did you mean '${guess}'?` : ''}`, 'method names are listed in catalog/methods.json (from the official REST docs)');
      return;
    }
    if (mustRead && !isReadMethod(entry)) {
      this.report(
        'LOAD_WRITE_METHOD',
        pointer,
        `${where} uses '${entry.method}', which ${entry.kind === 'write' ? 'writes' : 'the catalog does not classify as a read'}; loads and foreach may only read`,
        'move the call into actions: (- call: { method, params }), or use a read method such as crm.deal.list',
      );
    }
  }

  private declare(name: string, origin: string): void {
    if (!this.declared.has(name)) this.declared.set(name, origin);
  }

  private unknownName(scope: Scope, root: string, where: string): { message: string; hint: string } {
    const guess = closest(root, scope.names.keys());
    const later = this.declared.get(root);
    const known = [...scope.names.keys()].sort().join(', ');
    if (later !== undefined) return { message: `'${root}' is used in ${where} but only defined later, by ${later}`, hint: `names available here: ${known}` };
    return { message: `unknown name '${root}' in ${where}${guess ? `; did you mean '${guess}'?` : ''}`, hint: `names available here: ${known}` };
  }

  private checkEnvRef(name: string | undefined, pointer: string, offset?: number): void {
    const envNames = this.envNames;
    if (name === undefined) {
      this.report('ENV_NOT_DECLARED', pointer, `'env' needs a variable name, e.g. env.FORM_SECRET`, 'list the variable under env: at the top of the rule', offset === undefined ? {} : { offset });
    } else if (!envNames.includes(name)) {
      this.report('ENV_NOT_DECLARED', pointer, `env.${name} is not listed under env: in this rule`, `add it: env: [${[...envNames, name].join(', ')}]`, offset === undefined ? {} : { offset });
    }
  }

  private templateError(err: unknown, pointer: string): void {
    if (err instanceof TemplateError) this.report(err.code, pointer, `template error: ${err.message}`, err.hint, { offset: err.offset });
    else throw err;
  }

  private checkTemplateRefs(t: CompiledTemplate, pointer: string, scope: Scope, where: string): void {
    for (const e of t.exprs) {
      const root = e.path[0]!;
      if (root === 'env' && scope.has('env')) this.checkEnvRef(e.path[1], pointer, e.start);
      else if (!scope.has(root)) {
        const { message, hint } = this.unknownName(scope, root, where);
        this.report('TEMPLATE_UNKNOWN_NAME', pointer, message, hint, { offset: e.start });
      }
    }
  }
}

/** Paths of strings inside a json-logic expression that look like templates. */
function templateStrings(expr: unknown, path: Array<string | number> = [], depth = 0): Array<Array<string | number>> {
  if (depth > 64) return [];
  if (typeof expr === 'string') return expr.includes('{{') ? [path] : [];
  if (Array.isArray(expr)) return expr.flatMap((x, i) => templateStrings(x, [...path, i], depth + 1));
  if (expr !== null && typeof expr === 'object') return Object.entries(expr).flatMap(([k, v]) => templateStrings(v, [...path, k], depth + 1));
  return [];
}
