/**
 * Semantic checks and compilation of one schema-valid rule document into a
 * CompiledRule: cron and time zone, event names, json-logic operators, template
 * syntax, references to undefined names, Bitrix24 method names, reads that
 * write, bulk writes without a dedupe key. Every problem becomes a Diagnostic
 * with its position; the rule compiles only when there is no error.
 *
 * The parts compile in the rule's order, each seeing the names of the parts
 * before it: trigger (compile-trigger.ts), foreach, load and let
 * (compile-loads.ts), condition, dedupe and concurrency (here), actions
 * (compile-actions.ts), then the whole-rule write checks (write-safety.ts).
 */
import { compileCondition } from '../logic/index.js';
import { compileActions } from './compile-actions.js';
import { compileForeach, compileLets, compileLoads } from './compile-loads.js';
import { compileRollout } from './compile-rollout.js';
import { compileTrigger } from './compile-trigger.js';
import { joinPointer } from './json-pointer.js';
import { DEFAULTS } from './limits.js';
import type { RawRule } from './raw.js';
import { requireEnvTemplate } from './require-env.js';
import { RuleChecker, type CompileContext } from './rule-checker.js';
import { ruleHash } from './rule-hash.js';
import { Scope } from './scope.js';
import type { SourceDocument } from './source.js';
import type { CompiledRule, Condition, Diagnostic, ForeachSpec } from './types.js';
import { checkBulkWrites, checkLoopRisk } from './write-safety.js';

/** Compile a schema-valid rule document. */
export function compileRule(raw: RawRule, doc: SourceDocument, ctx: CompileContext): { rule?: CompiledRule; diagnostics: Diagnostic[] } {
  const check = new RuleChecker(raw, doc, ctx);
  const r = check.reporter;

  const { trigger, autoload, scope: base } = compileTrigger(raw.trigger, check);

  if (ctx.env) {
    raw.env?.forEach((name, i) => {
      const value = ctx.env![name];
      if (value === undefined || value === '') {
        const what = value === undefined ? 'is not set' : 'is set but empty';
        r.report('ENV_MISSING', joinPointer('/env', i), `environment variable ${name} ${what}`, `set ${name} in the environment or .env before running`, { severity: 'warning' });
      }
    });
  }

  const scope = new Scope(base);
  let foreach: ForeachSpec | undefined;
  if (raw.foreach) foreach = compileForeach(raw.foreach, trigger, scope, check);
  const load = compileLoads(raw, autoload, scope, check);
  const lets = compileLets(raw, scope, check);

  let condition: Condition | undefined;
  if (raw.condition !== undefined) {
    const node = check.logic(raw.condition, '/condition', scope, 'the condition');
    if (node) condition = compileCondition(raw.condition, node);
  }
  const dedupe = raw.dedupe !== undefined ? requireEnvTemplate(check.template(raw.dedupe, '/dedupe', scope, 'dedupe'), raw.id) : undefined;
  const concurrency: CompiledRule['concurrency'] = { mode: raw.concurrency?.mode ?? 'serial' };
  if (raw.concurrency?.key !== undefined) concurrency.key = requireEnvTemplate(check.template(raw.concurrency.key, '/concurrency/key', scope, 'concurrency.key'), raw.id);

  const rollout = compileRollout(raw, trigger, foreach, scope, check);
  const actions = compileActions(raw, scope, check);

  checkBulkWrites(raw, trigger, foreach, check);
  checkLoopRisk(raw, trigger, check);

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
    env: [...check.envNames],
  };
  if (foreach) rule.foreach = foreach;
  if (condition) rule.condition = condition;
  if (dedupe) rule.dedupe = dedupe;
  if (raw.group !== undefined) rule.group = raw.group;
  if (raw.priority !== undefined) rule.priority = raw.priority;
  if (raw.mode === 'shadow') rule.mode = 'shadow';
  if (rollout) rule.rollout = rollout;
  return { rule, diagnostics: r.diagnostics };
}
