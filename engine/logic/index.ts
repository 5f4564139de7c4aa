/** json-logic with the project's operators, compiled once into closures (docs/rule-format.md). */
export { compileLogic, isOperation, logicRefs, LOGIC_LIMITS, type LogicNode } from './compile.js';
export { compileCondition, compileExpression } from './build.js';
export { describe, explainFalse } from './explain.js';
export { LogicError, type LogicErrorCode } from './errors.js';
export { CUSTOM_OPERATOR_NAMES, EAGER_OPERATORS, LAZY_OPERATORS, OPERATOR_NAMES, truthy, varLookup, type OpContext, type OperatorDef } from './operators.js';
export { REGEX_LIMITS, safeRegExp, unsafeReason } from './safe-regex.js';
export { addUnits, formatDate, isValidTimeZone, parseDate, unitsSince } from './dates.js';
