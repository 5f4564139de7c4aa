/** json-logic with the project's operators, compiled once into closures (docs/rule-format.md). */
import { compileCondition, compileExpression } from './build.js';
import { compileLogic, isOperation, logicRefs, LOGIC_LIMITS, type LogicNode } from './compile.js';
import { addUnits, formatDate, isValidTimeZone, parseDate, unitsSince } from './dates.js';
import { LogicError, type LogicErrorCode } from './errors.js';
import { describe, explainFalse, explainTrue } from './explain.js';
import { checkCondition, CONDITION_FALSE, CONDITION_TRUE, ConditionSkip, FalseCondition, type ConditionOutcome } from './lazy-reason.js';
import { CUSTOM_OPERATOR_NAMES, EAGER_OPERATORS, LAZY_OPERATORS, OPERATOR_NAMES, truthy, varLookup, type OpContext, type OperatorDef } from './operators.js';
import { REGEX_LIMITS, safeRegExp, unsafeReason } from './safe-regex.js';

export type { ConditionOutcome, LogicErrorCode, LogicNode, OpContext, OperatorDef };
export {
  addUnits,
  checkCondition,
  compileCondition,
  compileExpression,
  compileLogic,
  CONDITION_FALSE,
  CONDITION_TRUE,
  ConditionSkip,
  CUSTOM_OPERATOR_NAMES,
  describe,
  EAGER_OPERATORS,
  explainFalse,
  explainTrue,
  FalseCondition,
  formatDate,
  isOperation,
  isValidTimeZone,
  LAZY_OPERATORS,
  LOGIC_LIMITS,
  LogicError,
  logicRefs,
  OPERATOR_NAMES,
  parseDate,
  REGEX_LIMITS,
  safeRegExp,
  truthy,
  unitsSince,
  unsafeReason,
  varLookup,
};
