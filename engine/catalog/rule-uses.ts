/**
 * What a compiled rule asks of the portal, read from the rule alone: the REST
 * methods its trigger, loads, foreach and actions call (as the planner and
 * the executor make them, in-doubt lookups included) and the events it binds.
 * Plain HTTP, round_robin, stop and delay call nothing. A value that is a
 * template where the method depends on it (an `entity:` written as
 * `{{ ... }}`) cannot be known before a run: it is reported, not guessed.
 */
import { ENTITIES, isEntityName } from '../facts/index.js';
import type { ActionSpec, CompiledRule, EntityName } from '../rules/index.js';

/** One method a rule calls, and why. */
export interface MethodUse {
  method: string;
  /** e.g. `trigger ONCRMDEALUPDATE loads the deal`, `actions[1] (comment)`. */
  why: string;
}

/** What one rule needs. */
export interface RuleUses {
  ruleId: string;
  file: string;
  line: number;
  methods: MethodUse[];
  /** Events it binds (its trigger's, its wait_for's). */
  events: string[];
  /** Parts whose methods depend on a template: `actions[2] (update): entity is '{{ x }}'`. */
  unresolved: string[];
}

const ACTIVITY_EVENT = /^ONCRMACTIVITY/;

function entityMethods(entity: EntityName, ops: Array<'get' | 'list' | 'update' | 'add'>): string[] {
  const def = ENTITIES[entity];
  const out: string[] = [];
  for (const op of ops) {
    if (op === 'get') out.push(def.get('0', 1).method);
    else if (op === 'list' && def.list) out.push(def.list);
    else if (op === 'update' && def.update) out.push(def.update('0', {}, 1).method);
    else if (op === 'add' && def.add) out.push(def.add({}, 1).method);
  }
  return out;
}

/** The methods an action kind calls for `entity`: its write and the reads the executor makes to settle a call in doubt. */
function actionMethods(kind: ActionSpec['kind'], entity: EntityName | undefined, raw: Record<string, unknown>): string[] | undefined {
  switch (kind) {
    case 'update':
      return entity ? entityMethods(entity, ['get', 'update']) : undefined;
    case 'create':
      return entity ? entityMethods(entity, ['add', 'list']) : undefined;
    case 'comment':
      return ['crm.timeline.comment.add', 'crm.timeline.comment.list'];
    case 'task':
      return ['tasks.task.add', 'tasks.task.list'];
    case 'todo':
      return ['crm.activity.todo.add', 'crm.activity.list'];
    case 'notify':
      return ['im.notify.system.add'];
    case 'workflow':
      return ['bizproc.workflow.start', 'bizproc.workflow.instances'];
    case 'call':
      return typeof raw.method === 'string' && !raw.method.includes('{{') ? [raw.method] : undefined;
    default:
      return [];
  }
}

/** The entity an action names, or why it cannot be known. */
function literalEntity(raw: Record<string, unknown>): { entity?: EntityName; template?: string } {
  const e = raw.entity;
  if (isEntityName(e)) return { entity: e };
  return typeof e === 'string' ? { template: e } : {};
}

/** The methods and events of one rule. */
export function ruleUses(rule: CompiledRule): RuleUses {
  const out: RuleUses = { ruleId: rule.id, file: rule.location.file, line: rule.location.line, methods: [], events: [], unresolved: [] };
  const add = (methods: string[], why: string) => {
    for (const method of methods) if (!out.methods.some((m) => m.method === method)) out.methods.push({ method, why });
  };
  const t = rule.trigger;
  if (t.kind === 'event') {
    out.events.push(t.event.toUpperCase());
    if (t.entity && t.entity !== 'item') add(entityMethods(t.entity, ['get']), `trigger ${t.event} loads the ${t.entity}`);
    else if (t.entity === 'item') add(['crm.item.get'], `trigger ${t.event} loads the item`);
  }
  if (rule.foreach) {
    const f = rule.foreach;
    if (f.method) add([f.method], `foreach calls ${f.method}`);
    else if (f.entity) add(entityMethods(f.entity, ['list']), `foreach lists ${f.entity} records`);
  }
  for (const l of rule.load) {
    if (l.kind === 'method') add([l.method], `load ${l.name}`);
    else if (l.kind === 'list') {
      if (l.method) add([l.method], `load ${l.name}`);
      else if (l.entity) add(entityMethods(l.entity, ['list']), `load ${l.name}`);
    } else add(entityMethods(l.entity, ['get']), `load ${l.name}`);
  }
  for (const a of rule.actions) {
    const label = `actions[${a.index}] (${a.kind})`;
    if (a.kind === 'wait_for' && a.waitFor) {
      const ev = a.waitFor.event.toUpperCase();
      if (!out.events.includes(ev)) out.events.push(ev);
      if (ACTIVITY_EVENT.test(ev)) add(['crm.activity.get'], `${label} reads the activity of ${ev}`);
      continue;
    }
    const { entity, template } = literalEntity(a.raw);
    const methods = actionMethods(a.kind, entity, a.raw);
    if (methods === undefined) {
      const what = a.kind === 'call' ? `method is '${String(a.raw.method)}'` : `entity is '${template ?? '(none)'}'`;
      out.unresolved.push(`${label}: ${what}`);
      continue;
    }
    add(methods, label);
  }
  return out;
}
