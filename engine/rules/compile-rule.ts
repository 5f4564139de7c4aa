/**
 * Semantic checks and compilation of one schema-valid rule document into a
 * CompiledRule: cron and time zone, event names, json-logic operators, template
 * syntax, references to undefined names, Bitrix24 method names, reads that
 * write, bulk writes without a dedupe key. Every problem becomes a Diagnostic
 * with its position; the rule compiles only when there is no error.
 */
import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import { compileCondition, compileExpression, compileLogic, logicRefs, LogicError, isValidTimeZone } from '../logic/index.js';
import { closest, compileTemplate, compileValue, TemplateError, type CompiledTemplate, type CompiledValue } from '../template/index.js';
import { isReadMethod, type CatalogIndex } from './catalog.js';
import { eventEntity } from './event-entity.js';
import { DEFAULTS } from './limits.js';
import type { RawRead, RawRule } from './raw.js';
import type { SourceDocument } from './source.js';
import type { ActionSpec, CompiledRule, Condition, Diagnostic, EntityName, Expression, FieldChange, ForeachSpec, LoadSpec, Template, TriggerSpec } from './types.js';

export interface CompileContext {
  file: string;
  catalog: CatalogIndex;
  /** Environment to check `env:` names against (warnings); absent: not checked. */
  env?: Record<string, string | undefined>;
}

const ACTION_KINDS = ['update', 'create', 'comment', 'task', 'todo', 'notify', 'workflow', 'call', 'http', 'round_robin', 'stop'] as const;
type ActionKind = (typeof ACTION_KINDS)[number];

const escapeSeg = (s: string | number) => String(s).replace(/~/g, '~0').replace(/\//g, '~1');
const join = (base: string, ...segs: Array<string | number>) => base + segs.map((s) => `/${escapeSeg(s)}`).join('');

/** sha256 of the canonical JSON (keys sorted) of a value. */
export function ruleHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Names visible at a point of the rule, with where each came from (for messages). */
class Scope {
  readonly names = new Map<string, string>();
  constructor(parent?: Scope) {
    if (parent) for (const [k, v] of parent.names) this.names.set(k, v);
  }
  add(name: string, origin: string): void {
    this.names.set(name, origin);
  }
  has(name: string): boolean {
    return this.names.has(name);
  }
}

class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  constructor(
    private readonly doc: SourceDocument,
    private readonly file: string,
    private readonly ruleId: string,
  ) {}

  report(code: string, pointer: string, message: string, hint?: string, opts: { key?: string; offset?: number; severity?: 'error' | 'warning' } = {}): void {
    const pos = opts.offset !== undefined ? this.doc.locateInString(pointer, opts.offset) : this.doc.locate(pointer, opts.key);
    const d: Diagnostic = { severity: opts.severity ?? 'error', code, message, file: this.file, line: pos.line, col: pos.col, ruleId: this.ruleId, path: opts.key ? join(pointer, opts.key) : pointer };
    if (hint) d.hint = hint;
    this.diagnostics.push(d);
  }

  get failed(): boolean {
    return this.diagnostics.some((d) => d.severity === 'error');
  }
}

/** Compile a schema-valid rule document. */
export function compileRule(raw: RawRule, doc: SourceDocument, ctx: CompileContext): { rule?: CompiledRule; diagnostics: Diagnostic[] } {
  const r = new Reporter(doc, ctx.file, raw.id);
  const envNames = raw.env ?? [];
  // Every name the rule declares, to tell "defined later" from "not defined at all".
  const declared = new Map<string, string>();
  const declare = (name: string, origin: string) => {
    if (!declared.has(name)) declared.set(name, origin);
  };
  for (const name of Object.keys(raw.load ?? {})) declare(name, `load '${name}'`);
  for (const name of Object.keys(raw.let ?? {})) declare(name, `let '${name}'`);
  raw.actions.forEach((a, i) => {
    const kind = actionKind(a);
    const opts = kind ? (a[kind] as Record<string, unknown> | null) : null;
    if (opts && typeof opts.as === 'string') declare(opts.as, `actions[${i}].as`);
  });

  const unknownName = (scope: Scope, root: string, where: string): { message: string; hint: string } => {
    const guess = closest(root, scope.names.keys());
    const later = declared.get(root);
    const known = [...scope.names.keys()].sort().join(', ');
    if (later !== undefined) return { message: `'${root}' is used in ${where} but only defined later, by ${later}`, hint: `names available here: ${known}` };
    return { message: `unknown name '${root}' in ${where}${guess ? `; did you mean '${guess}'?` : ''}`, hint: `names available here: ${known}` };
  };

  const checkEnvRef = (name: string | undefined, pointer: string, offset?: number) => {
    if (name === undefined) {
      r.report('ENV_NOT_DECLARED', pointer, `'env' needs a variable name, e.g. env.FORM_SECRET`, 'list the variable under env: at the top of the rule', offset === undefined ? {} : { offset });
    } else if (!envNames.includes(name)) {
      r.report('ENV_NOT_DECLARED', pointer, `env.${name} is not listed under env: in this rule`, `add it: env: [${[...envNames, name].join(', ')}]`, offset === undefined ? {} : { offset });
    }
  };

  /** Compile every template in `value` and check the names it reads. */
  const templated = (value: unknown, pointer: string, scope: Scope, where: string): CompiledValue => {
    const compiled = compileValue(value, (err, rel) => templateError(err, join(pointer) + rel));
    for (const { pointer: rel, template } of compiled.templates) checkTemplateRefs(template, pointer + rel, scope, where);
    return compiled;
  };
  const templateError = (err: unknown, pointer: string) => {
    if (err instanceof TemplateError) r.report(err.code, pointer, `template error: ${err.message}`, err.hint, { offset: err.offset });
    else throw err;
  };
  const checkTemplateRefs = (t: CompiledTemplate, pointer: string, scope: Scope, where: string) => {
    for (const e of t.exprs) {
      const root = e.path[0]!;
      if (root === 'env' && scope.has('env')) checkEnvRef(e.path[1], pointer, e.start);
      else if (!scope.has(root)) {
        const { message, hint } = unknownName(scope, root, where);
        r.report('TEMPLATE_UNKNOWN_NAME', pointer, message, hint, { offset: e.start });
      }
    }
  };
  const template = (value: string | number, pointer: string, scope: Scope, where: string): Template => {
    if (typeof value === 'number') return { source: String(value), refs: [], render: () => value };
    try {
      const t = compileTemplate(value);
      checkTemplateRefs(t, pointer, scope, where);
      return t;
    } catch (err) {
      templateError(err, pointer);
      return { source: value, refs: [], render: () => value };
    }
  };

  /** Check a json-logic expression (operators, arguments, names); returns the compiled node when valid. */
  const logic = (expr: unknown, pointer: string, scope: Scope, where: string) => {
    const problems: LogicError[] = [];
    const node = compileLogic(expr, problems);
    for (const p of problems) {
      // Operator problems point at the operator's key; argument problems at the argument.
      const last = p.path[p.path.length - 1];
      if (typeof last === 'string') r.report(p.code, join(pointer, ...p.path.slice(0, -1)), p.message, p.hint, { key: last });
      else r.report(p.code, join(pointer, ...p.path), p.message, p.hint);
    }
    for (const at of templateStrings(expr)) {
      r.report('LOGIC_TEMPLATE', join(pointer, ...at), 'templates ({{ }}) are not expanded inside json-logic; this string is compared literally', 'read values with { var: deal.ID } instead of "{{ deal.ID }}"', { severity: 'warning' });
    }
    for (const ref of logicRefs(expr)) {
      if (ref.name === 'env' && scope.has('env')) checkEnvRef(ref.varPath.split('.')[1], join(pointer, ...ref.path));
      else if (!scope.has(ref.name)) {
        const { message, hint } = unknownName(scope, ref.name, where);
        r.report('LOGIC_UNKNOWN_NAME', join(pointer, ...ref.path), message, hint);
      }
    }
    return problems.length === 0 ? node : undefined;
  };

  const claim = (scope: Scope, name: string, origin: string, pointer: string, key?: string) => {
    const prior = scope.names.get(name);
    if (prior !== undefined) {
      r.report('NAME_CONFLICT', pointer, `the name '${name}' (${origin}) is already taken by ${prior}`, 'pick another name', key === undefined ? {} : { key });
    }
    scope.add(name, origin);
  };

  const checkMethod = (method: string, pointer: string, mustRead: boolean, where: string) => {
    const entry = ctx.catalog.get(method);
    if (!entry) {
      const guess = closest(method, ctx.catalog.names);
      r.report('METHOD_UNKNOWN', pointer, `unknown Bitrix24 method '${method}'${guess ? `; did you mean '${guess}'?` : ''}`, 'method names are listed in catalog/methods.json (from the official REST docs)');
      return;
    }
    if (mustRead && !isReadMethod(entry)) {
      r.report(
        'LOAD_WRITE_METHOD',
        pointer,
        `${where} uses '${entry.method}', which ${entry.kind === 'write' ? 'writes' : 'the catalog does not classify as a read'}; loads and foreach may only read`,
        'move the call into actions: (- call: { method, params }), or use a read method such as crm.deal.list',
      );
    }
  };

  // 1. Trigger.
  const base = new Scope();
  base.add('now', 'the engine clock');
  base.add('env', 'the env: list');
  let trigger: TriggerSpec;
  let autoload: { entity: EntityName } | undefined;
  const t = raw.trigger;
  if (t.event !== undefined) {
    const event = t.event.toUpperCase();
    if (ctx.catalog.events && !ctx.catalog.events.has(event)) {
      const guess = closest(event, ctx.catalog.events);
      r.report('EVENT_UNKNOWN', '/trigger/event', `'${t.event}' is not a known Bitrix24 event${guess ? `; did you mean '${guess}'?` : ''}`, 'event names are listed in catalog/events.txt', { severity: 'warning' });
    }
    const { entity, autoload: canLoad } = eventEntity(event);
    trigger = { kind: 'event', event };
    if (entity) trigger.entity = entity;
    if (t.changed && !canLoad) {
      r.report(
        'CHANGED_NOT_SUPPORTED',
        '/trigger',
        `changed: needs an event whose record the engine loads (it compares the record with its last snapshot); ${event} ${entity ? 'loads no record' : 'names no record'}`,
        'use it with ONCRM{LEAD,DEAL,CONTACT,COMPANY}UPDATE or ONTASKUPDATE, or drop changed:',
        { key: 'changed' },
      );
    }
    if (t.changed) {
      const changed: Record<string, FieldChange> = {};
      for (const [field, ch] of Object.entries(t.changed)) {
        const fc: FieldChange = {};
        if (ch.from !== undefined) fc.from = Array.isArray(ch.from) ? ch.from : [ch.from];
        if (ch.to !== undefined) fc.to = Array.isArray(ch.to) ? ch.to : [ch.to];
        Object.defineProperty(changed, field, { value: fc, enumerable: true, writable: true, configurable: true });
      }
      trigger.changed = changed;
    }
    base.add('event', 'the event trigger');
    base.add('changes', 'the event trigger');
    if (entity && canLoad) {
      autoload = { entity };
      base.add(entity, `the record of ${event}, loaded automatically`);
    }
  } else if (t.schedule !== undefined) {
    const timezone = t.schedule.timezone ?? DEFAULTS.timezone;
    if (!isValidTimeZone(timezone)) {
      const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
      const guess = closest(timezone, zones);
      r.report('TIMEZONE_INVALID', '/trigger/schedule/timezone', `unknown time zone '${timezone}'${guess ? `; did you mean '${guess}'?` : ''}`, 'use an IANA name such as UTC, Europe/Berlin, Europe/Moscow, America/New_York');
    }
    const cronProblem = checkCron(t.schedule.cron, isValidTimeZone(timezone) ? timezone : 'UTC');
    if (cronProblem) r.report('CRON_INVALID', '/trigger/schedule/cron', cronProblem, 'five fields: minute hour day-of-month month day-of-week, e.g. "0 9 * * 1-5" (09:00 Mon–Fri); an optional sixth, leading field is seconds');
    trigger = { kind: 'schedule', cron: t.schedule.cron, timezone };
    base.add('schedule', 'the schedule trigger');
  } else if (t.webhook !== undefined) {
    trigger = { kind: 'webhook', path: t.webhook.path };
    if (t.webhook.secret !== undefined) {
      const envOnly = new Scope();
      envOnly.add('env', 'the env: list');
      trigger.secret = template(t.webhook.secret, '/trigger/webhook/secret', envOnly, 'the webhook secret');
    }
    base.add('request', 'the webhook trigger');
  } else {
    trigger = { kind: 'manual' };
    base.add('params', 'the manual trigger');
  }

  if (ctx.env) {
    raw.env?.forEach((name, i) => {
      if (ctx.env![name] === undefined) r.report('ENV_MISSING', join('/env', i), `environment variable ${name} is not set`, `set ${name} in the environment or .env before running`, { severity: 'warning' });
    });
  }

  // 2. foreach.
  const scope = new Scope(base);
  let foreach: ForeachSpec | undefined;
  if (raw.foreach) {
    const f = raw.foreach;
    if (trigger.kind !== 'schedule' && trigger.kind !== 'manual') {
      r.report('FOREACH_NOT_ALLOWED', '/foreach', `foreach is for schedule and manual rules; this rule has ${trigger.kind === 'event' ? 'an' : 'a'} ${trigger.kind} trigger`, 'drop foreach, or use a load: with a filter to read a list');
    }
    if (f.method !== undefined) checkMethod(f.method, '/foreach/method', true, 'foreach');
    const as = f.as ?? f.entity!;
    foreach = { as, maxRecords: f.max_records ?? DEFAULTS.maxRecords };
    fillRead(foreach, f, '/foreach', scope, 'foreach');
    claim(scope, as, 'the foreach row', '/foreach', f.as !== undefined ? 'as' : 'entity');
  }

  // 3. load (the event's record first).
  const load: LoadSpec[] = [];
  if (autoload) {
    load.push({ name: autoload.entity, kind: 'record', entity: autoload.entity, id: compileTemplate('{{ event.id }}') });
  }
  for (const [name, l] of Object.entries(raw.load ?? {})) {
    const ptr = join('/load', name);
    if (l.method !== undefined) {
      checkMethod(l.method, join(ptr, 'method'), true, `load '${name}'`);
      load.push({ name, kind: 'method', method: l.method, params: templated(l.params ?? {}, join(ptr, 'params'), scope, `load '${name}'`) });
    } else if (l.id !== undefined) {
      const spec: LoadSpec = { name, kind: 'record', entity: l.entity as EntityName, id: template(l.id, join(ptr, 'id'), scope, `load '${name}'`) };
      if (l.entity_type_id !== undefined) spec.entityTypeId = l.entity_type_id;
      if (l.select) spec.select = l.select;
      load.push(spec);
    } else {
      const spec: Extract<LoadSpec, { kind: 'list' }> = { name, kind: 'list', entity: l.entity as EntityName, limit: l.limit ?? DEFAULTS.listLimit };
      if (l.entity_type_id !== undefined) spec.entityTypeId = l.entity_type_id;
      if (l.filter) spec.filter = templated(l.filter, join(ptr, 'filter'), scope, `load '${name}'`);
      if (l.select) spec.select = l.select;
      if (l.order) spec.order = normalizeOrder(l.order);
      load.push(spec);
    }
    if (l.entity === 'item' && l.entity_type_id === undefined) r.report('SCHEMA', ptr, `load '${name}' reads smart-process items and needs entity_type_id`, 'e.g. entity_type_id: 128');
    if (autoload && name === autoload.entity) {
      r.report('NAME_CONFLICT', '/load', `load '${name}' clashes with the record ${raw.trigger.event} loads automatically as '${name}'`, `use ${name}.FIELD directly, or give this load another name`, { key: name });
    } else claim(scope, name, `load '${name}'`, '/load', name);
  }

  // 4. let.
  const lets: Array<{ name: string; expr: Expression }> = [];
  for (const [name, expr] of Object.entries(raw.let ?? {})) {
    const node = logic(expr, join('/let', name), scope, `let '${name}'`);
    if (node) lets.push({ name, expr: compileExpression(expr, node) });
    claim(scope, name, `let '${name}'`, '/let', name);
  }

  // 5. condition, dedupe, concurrency.
  let condition: Condition | undefined;
  if (raw.condition !== undefined) {
    const node = logic(raw.condition, '/condition', scope, 'the condition');
    if (node) condition = compileCondition(raw.condition, node);
  }
  const dedupe = raw.dedupe !== undefined ? template(raw.dedupe, '/dedupe', scope, 'dedupe') : undefined;
  const concurrency: CompiledRule['concurrency'] = { mode: raw.concurrency?.mode ?? 'serial' };
  if (raw.concurrency?.key !== undefined) concurrency.key = template(raw.concurrency.key, '/concurrency/key', scope, 'concurrency.key');

  // 6. actions.
  const actions: ActionSpec[] = [];
  const actionScope = new Scope(scope);
  raw.actions.forEach((item, index) => {
    const kind = actionKind(item);
    if (!kind) return;
    const ptr = join('/actions', index);
    const opts = (item[kind] ?? {}) as Record<string, unknown>;
    const where = `actions[${index}] (${kind})`;
    if (kind === 'call' && typeof opts.method === 'string') checkMethod(opts.method, join(ptr, kind, 'method'), false, where);
    if ((kind === 'update' || kind === 'create') && opts.entity === 'item' && opts.entity_type_id === undefined) {
      r.report('SCHEMA', join(ptr, kind), `${kind} of smart-process items needs entity_type_id`, 'e.g. entity_type_id: 128');
    }
    let when: Condition | undefined;
    if (item.when !== undefined) {
      const node = logic(item.when, join(ptr, 'when'), actionScope, `${where} when:`);
      if (node) when = compileCondition(item.when, node);
    }
    const config = templated(opts, join(ptr, kind), actionScope, where);
    const pos = doc.locate(ptr);
    const spec: ActionSpec = { kind, index, config, raw: opts, location: { file: ctx.file, line: pos.line, col: pos.col } };
    if (when) spec.when = when;
    if (typeof opts.as === 'string') {
      spec.as = opts.as;
      claim(actionScope, opts.as, `actions[${index}].as`, join(ptr, kind), 'as');
    }
    actions.push(spec);
  });

  // 7. Bulk writes need a dedupe key.
  if ((trigger.kind === 'schedule' || raw.foreach) && raw.dedupe === undefined) {
    const firstWrite = raw.actions.findIndex((a) => isWriteAction(a, ctx.catalog));
    if (firstWrite >= 0) {
      const kind = actionKind(raw.actions[firstWrite]!);
      const what = trigger.kind === 'schedule' ? 'a schedule rule' : 'a foreach rule';
      r.report(
        'UNSAFE_BULK_WRITE',
        join('/actions', firstWrite),
        `${what} writes (${kind} at actions[${firstWrite}]) but has no dedupe key: a re-run after a crash or an overlapping tick would repeat the write`,
        foreach ? `add a key naming the row and the state it acts on, e.g. dedupe: "${raw.id}:{{ ${foreach.as}.ID }}"` : `add a key naming what the run acts on, e.g. dedupe: "${raw.id}:{{ schedule.at }}"`,
      );
    }
  }

  // 8. Records the engine creates come back as *ADD events (creations carry no auth_connector, so other
  // rules can act on them): a rule that creates a record of the kind that triggers it feeds itself.
  if (trigger.kind === 'event' && /ADD$/i.test(trigger.event) && trigger.entity) {
    const entity = trigger.entity;
    raw.actions.forEach((a, index) => {
      const kind = actionKind(a);
      const opts = (kind ? a[kind] : undefined) as Record<string, unknown> | undefined;
      const creates =
        (kind === 'create' && opts?.entity === entity) ||
        (kind === 'task' && entity === 'task') ||
        (kind === 'call' && typeof opts?.method === 'string' && opts.method.toLowerCase() === (entity === 'task' ? 'tasks.task.add' : `crm.${entity}.add`));
      if (creates) {
        r.report(
          'LOOP_RISK',
          join('/actions', index),
          `this rule runs on ${trigger.event} and creates a ${entity} (actions[${index}]): each record it creates raises ${trigger.event} again and runs this rule again`,
          'add a condition that is false for the records this rule creates (e.g. on SOURCE_ID or a marker field it sets), or a dedupe key',
          { severity: 'warning' },
        );
      }
    });
  }

  if (r.failed) return { diagnostics: r.diagnostics };
  const rule: CompiledRule = {
    id: raw.id,
    description: raw.description ?? '',
    enabled: raw.enabled ?? true,
    hash: ruleHash(raw),
    location: { file: ctx.file, line: doc.line, col: doc.col },
    trigger,
    load,
    let: lets,
    actions,
    concurrency,
    onError: { retries: raw.on_error?.retries ?? DEFAULTS.retries, then: raw.on_error?.then ?? 'dead_letter' },
    env: [...envNames],
  };
  if (foreach) rule.foreach = foreach;
  if (condition) rule.condition = condition;
  if (dedupe) rule.dedupe = dedupe;
  return { rule, diagnostics: r.diagnostics };

  function fillRead(spec: ForeachSpec, f: RawRead, ptr: string, sc: Scope, where: string) {
    if (f.entity !== undefined) spec.entity = f.entity as EntityName;
    if (f.entity_type_id !== undefined) spec.entityTypeId = f.entity_type_id;
    if (f.method !== undefined) spec.method = f.method;
    if (f.params !== undefined) spec.params = templated(f.params, join(ptr, 'params'), sc, where);
    if (f.filter !== undefined) spec.filter = templated(f.filter, join(ptr, 'filter'), sc, where);
    if (f.select !== undefined) spec.select = f.select;
    if (f.order !== undefined) spec.order = normalizeOrder(f.order);
    if (f.entity === 'item' && f.entity_type_id === undefined) r.report('SCHEMA', ptr, `${where} reads smart-process items and needs entity_type_id`, 'e.g. entity_type_id: 128');
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

function normalizeOrder(order: Record<string, string>): Record<string, 'ASC' | 'DESC'> {
  const out: Record<string, 'ASC' | 'DESC'> = {};
  for (const [k, v] of Object.entries(order)) Object.defineProperty(out, k, { value: v.toUpperCase() as 'ASC' | 'DESC', enumerable: true, writable: true, configurable: true });
  return out;
}

/** The action's kind: its one key besides `when`. */
export function actionKind(item: Record<string, unknown>): ActionKind | undefined {
  return ACTION_KINDS.find((k) => Object.hasOwn(item, k));
}

/** Whether an action changes something outside the engine (REST writes, notifications, non-GET http). */
export function isWriteAction(item: Record<string, unknown>, catalog: CatalogIndex): boolean {
  const kind = actionKind(item);
  if (!kind || kind === 'stop' || kind === 'round_robin') return false;
  const opts = (item[kind] ?? {}) as Record<string, unknown>;
  if (kind === 'call') return typeof opts.method !== 'string' || !isReadMethod(catalog.get(opts.method));
  if (kind === 'http') {
    const method = typeof opts.method === 'string' ? opts.method : opts.body !== undefined ? 'POST' : 'GET';
    return method !== 'GET';
  }
  return true;
}

/** Why a cron expression is invalid, or undefined. */
export function checkCron(expr: string, timezone: string): string | undefined {
  const trimmed = expr.trim();
  if (!trimmed.startsWith('@')) {
    const fields = trimmed.split(/\s+/).length;
    if (fields !== 5 && fields !== 6) return `cron expression "${expr}" has ${fields} field${fields === 1 ? '' : 's'}; it needs 5 (or 6 with seconds first)`;
  }
  try {
    const job = new Cron(trimmed, { paused: true, timezone });
    const next = job.nextRun();
    job.stop();
    if (!next) return `cron expression "${expr}" never fires`;
    return undefined;
  } catch (err) {
    return `invalid cron expression "${expr}": ${err instanceof Error ? err.message : String(err)}`;
  }
}
