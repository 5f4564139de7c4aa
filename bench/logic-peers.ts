/**
 * The condition peers of the logic bench, set up on the same conditions: the
 * routing conditions of scenario 03 and the enrichment condition of scenario
 * 02, verbatim. Each peer gets the project's two operators those conditions
 * use (`in_list`, compared loosely, and `matches`, on the same RE2 regexes
 * through safeRegExp), so every variant computes the same thing; the bench
 * checks that they agree before it times them.
 */
import { LogicEngine } from 'json-logic-engine';
import jsonLogic from 'json-logic-js';
import { Engine, type TopLevelCondition } from 'json-rules-engine';
import { isOperation, safeRegExp, truthy } from '../engine/logic/index.js';
import type { Facts } from '../engine/rules/index.js';

const REGION = 'сибир|урал|siberia|ural|новосибирск|екатеринбург';
const unassigned = { in_list: [{ var: 'lead.ASSIGNED_BY_ID' }, [1, '']] };
const isNew = { '==': [{ var: 'lead.STATUS_ID' }, 'NEW'] };
const small = { '<': [{ var: 'lead.OPPORTUNITY' }, 1000000] };
const eastern = { matches: [{ var: 'region' }, REGION, 'i'] };

/** rules/03-route-leads.yaml (its four conditions) and rules/02-enrich-leads.yaml. */
export const PEER_CONDITIONS: readonly unknown[] = [
  { and: [unassigned, isNew, { '>=': [{ var: 'lead.OPPORTUNITY' }, 1000000] }] },
  { and: [unassigned, isNew, small, { '==': [{ var: 'lead.SOURCE_ID' }, 'PARTNER'] }] },
  { and: [unassigned, isNew, small, { '!=': [{ var: 'lead.SOURCE_ID' }, 'PARTNER'] }, eastern] },
  { and: [unassigned, isNew, small, { '!=': [{ var: 'lead.SOURCE_ID' }, 'PARTNER'] }, { '!': [eastern] }] },
  { or: [{ '==': [{ var: 'lead.HAS_EMAIL' }, 'Y'] }, { '==': [{ var: 'lead.HAS_PHONE' }, 'Y'] }] },
];

const inbound = { in: [{ var: 'lead.ASSIGNED_BY_ID' }, ['1', '']] };
const easternRegions = { in: [{ var: 'region' }, ['Новосибирская область', 'Свердловская обл. (Урал)']] };

/**
 * The same routing in json-logic's standard operators only (`in` for in_list
 * and for the regex): what every json-logic implementation runs natively, so
 * json-logic-engine's generated code calls no custom operator.
 */
export const STANDARD_CONDITIONS: readonly unknown[] = [
  { and: [inbound, isNew, { '>=': [{ var: 'lead.OPPORTUNITY' }, 1000000] }] },
  { and: [inbound, isNew, small, { '==': [{ var: 'lead.SOURCE_ID' }, 'PARTNER'] }] },
  { and: [inbound, isNew, small, { '!=': [{ var: 'lead.SOURCE_ID' }, 'PARTNER'] }, easternRegions] },
  { and: [inbound, isNew, small, { '!=': [{ var: 'lead.SOURCE_ID' }, 'PARTNER'] }, { '!': [easternRegions] }] },
  { or: [{ '==': [{ var: 'lead.HAS_EMAIL' }, 'Y'] }, { '==': [{ var: 'lead.HAS_PHONE' }, 'Y'] }] },
];

/** New leads as the portal sends them (strings for IDs and amounts), with the region a `let` of scenario 03 computes. */
export function peerFacts(n: number): Facts[] {
  const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length]!;
  const regions = ['Новосибирская область', 'Москва', 'Свердловская обл. (Урал)', 'Berlin', ''];
  return Array.from({ length: n }, (_, i) => ({
    now: '2026-03-02T10:00:00.000Z',
    env: {},
    lead: {
      ID: String(i + 1),
      TITLE: `Lead ${i + 1}`,
      ASSIGNED_BY_ID: pick(['1', '', '7', '12'], i),
      STATUS_ID: pick(['NEW', 'NEW', 'IN_PROCESS'], i),
      OPPORTUNITY: String((i * 7919) % 2_000_000),
      SOURCE_ID: pick(['PARTNER', 'WEB', 'CALL'], i),
      HAS_EMAIL: pick(['Y', 'N'], i),
      HAS_PHONE: pick(['N', 'N', 'Y'], i),
    },
    region: pick(regions, i * 7),
  }));
}

// The project's operators, as operators.ts defines them.
const loose = (x: unknown) => (typeof x === 'number' || typeof x === 'string' ? String(x) : x);
const inList = (value: unknown, list: unknown) => Array.isArray(list) && list.some((x) => loose(x) === loose(value));
const matches = (value: unknown, pattern: unknown, flags: unknown) =>
  value !== null && value !== undefined && typeof pattern === 'string' && safeRegExp(pattern, typeof flags === 'string' ? flags : '').test(String(value));

/** One condition, compiled or set up by a peer: its truth for an event's facts. */
export type ConditionEval = (facts: Facts) => boolean;

/** json-logic-engine in its compiled mode: `build` turns each condition into one JavaScript function. */
export function jsonLogicEngine(conditions: readonly unknown[]): ConditionEval[] {
  const engine = new LogicEngine();
  engine.addMethod('in_list', ([v, list]: unknown[]) => inList(v, list), { deterministic: true });
  engine.addMethod('matches', ([v, p, f]: unknown[]) => matches(v, p, f), { deterministic: true });
  return conditions.map((c) => {
    const fn = engine.build(c) as (data: unknown) => unknown;
    return (facts) => truthy(fn(facts));
  });
}

/** json-logic-js: the reference implementation, interpreting the JSON at each evaluation. */
export function jsonLogicJs(conditions: readonly unknown[]): ConditionEval[] {
  jsonLogic.add_operation('in_list', inList);
  jsonLogic.add_operation('matches', matches);
  return conditions.map((c) => (facts) => truthy(jsonLogic.apply(c as jsonLogic.RulesLogic, facts)));
}

const JRE_OPERATORS: Record<string, string> = { '==': 'equal', '!=': 'notEqual', '<': 'lessThan', '<=': 'lessThanInclusive', '>': 'greaterThan', '>=': 'greaterThanInclusive', in_list: 'in_list', matches: 'matches' };

/** A condition in json-rules-engine's format (its own type for a nested one is not exported). */
export type RulesEngineCondition = { all: RulesEngineCondition[] } | { any: RulesEngineCondition[] } | { not: RulesEngineCondition } | { fact: string; path?: string; operator: string; value: unknown };

/** A json-logic condition of the shape above in json-rules-engine's format: a fact, a JSONPath into it, an operator, a value. */
export function toRulesEngine(expr: unknown): RulesEngineCondition {
  if (!isOperation(expr)) throw new Error(`logic bench: cannot translate ${JSON.stringify(expr)} for json-rules-engine`);
  const op = Object.keys(expr)[0]!;
  const args = expr[op] as unknown[];
  if (op === 'and') return { all: args.map(toRulesEngine) };
  if (op === 'or') return { any: args.map(toRulesEngine) };
  if (op === '!') return { not: toRulesEngine(args[0]) };
  const [left, ...rest] = args as [{ var: string }, ...unknown[]];
  const jre = JRE_OPERATORS[op];
  if (!jre || !isOperation(left) || typeof left.var !== 'string') throw new Error(`logic bench: cannot translate ${JSON.stringify(expr)} for json-rules-engine`);
  const [fact, ...path] = left.var.split('.');
  const value = op === 'matches' ? { pattern: rest[0], flags: rest[1] } : rest[0];
  return { fact: fact!, ...(path.length ? { path: `$.${path.join('.')}` } : {}), operator: jre, value };
}

/** json-rules-engine: one engine per condition with one rule; a run is asynchronous and fires the rule's event when it holds. */
export function jsonRulesEngine(conditions: readonly unknown[]): Array<(facts: Facts) => Promise<boolean>> {
  return conditions.map((c) => {
    const e = new Engine([{ conditions: toRulesEngine(c) as TopLevelCondition, event: { type: 'holds' } }], { allowUndefinedFacts: true });
    e.addOperator('in_list', (fact: unknown, list: unknown) => inList(fact, list));
    e.addOperator('matches', (fact: unknown, re: { pattern: unknown; flags: unknown }) => matches(fact, re.pattern, re.flags));
    return async (facts) => (await e.run(facts)).events.length > 0;
  });
}
