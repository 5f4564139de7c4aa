/** Build the engine-facing Condition and Expression objects (engine/rules/types.ts) from json-logic. */
import type { Condition, Expression, Facts } from '../rules/index.js';
import { compileLogic, logicRefs, type LogicNode } from './compile.js';
import { explainFalse, explainTrue } from './explain.js';

const rootsOf = (expr: unknown) => [...new Set(logicRefs(expr).map((r) => r.name))];

/** Compile a json-logic expression into an Expression. Throws LogicError on an invalid one. */
export function compileExpression(source: unknown, node: LogicNode = compileLogic(source)): Expression {
  return { source, refs: rootsOf(source), evaluate: (facts: Facts) => node.evaluate(facts, facts) };
}

/** Compile a json-logic expression into a Condition whose false result names the false part. Throws LogicError on an invalid one. */
export function compileCondition(source: unknown, node: LogicNode = compileLogic(source)): Condition {
  const test = node.test;
  const explain = (facts: Facts) => explainFalse(node, facts, facts);
  return {
    source,
    refs: rootsOf(source),
    evaluate: (facts: Facts) => (test(facts, facts) ? { value: true } : { value: false, reason: explain(facts) }),
    test: (facts: Facts) => test(facts, facts),
    explain,
    explainTrue: (facts: Facts) => explainTrue(node, facts, facts),
  };
}
