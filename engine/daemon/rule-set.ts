/**
 * The daemon's rule set: load the rule files, log their warnings, and refuse a
 * set with errors (or with no rules) as one RuleSetInvalidError. Diagnostics
 * are printed through the rules' one formatter, which redacts.
 */
import { B24RulesError } from '../errors.js';
import type { Logger } from '../logger.js';
import { redact } from '../redact.js';
import { formatDiagnostics, loadRules, type CompiledRule, type Diagnostic } from '../rules/index.js';

/** The rule set has errors: the daemon does not start with it (or keeps the old one on reload). */
export class RuleSetInvalidError extends B24RulesError {
  constructor(readonly diagnostics: Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const listed = formatDiagnostics(errors, 'text').trimEnd().replace(/^/gm, '  ');
    super('RULES_INVALID', `the rule set has ${errors.length} error(s):\n${listed}`, { kind: 'user' });
  }
}

/** One diagnostic as a log message (file:line:col: severity CODE [rule] message, then the hint), redacted. */
export function diagnosticLine(d: Diagnostic): string {
  return formatDiagnostics([d], 'text').trimEnd();
}

/**
 * Load the rules at `paths`; warnings are logged, errors (or an empty set) throw RuleSetInvalidError.
 * With `env`, a variable a rule lists under `env:` that is unset there is a warning (ENV_MISSING) naming the rule, the variable and file:line.
 */
export async function loadRuleSet(paths: string[], logger: Logger, env?: Record<string, string | undefined>): Promise<CompiledRule[]> {
  const result = await loadRules(paths, env ? { env } : {});
  for (const d of result.diagnostics) {
    if (d.severity === 'warning') logger.warn({ file: d.file, line: d.line, rule: d.ruleId, code: d.code }, diagnosticLine(d));
  }
  if (result.diagnostics.some((d) => d.severity === 'error')) throw new RuleSetInvalidError(result.diagnostics);
  if (result.rules.length === 0) {
    throw new RuleSetInvalidError([
      { severity: 'error', code: 'NO_RULES', message: `no rules found in ${paths.join(', ')}`, file: paths[0] ?? '.', line: 1, col: 1, hint: 'pass the directory or files that hold your rule YAML files' },
    ]);
  }
  return result.rules;
}

/** A rule reload the daemon refused: the files on disk have errors, the running set kept working. */
export interface RefusedReload {
  /** When (ms since epoch). */
  at: number;
  /** The error diagnostics (file:line:col, rule, code, message, hint). */
  diagnostics: Diagnostic[];
  /** The refusal in one message (redacted). */
  message: string;
}

/** What the daemon remembers of a refused reload (the web console shows it). */
export function refusedReload(err: unknown, at: number): RefusedReload {
  const diagnostics = err instanceof RuleSetInvalidError ? err.diagnostics.filter((d) => d.severity === 'error') : [];
  return { at, diagnostics, message: redact(err instanceof Error ? err.message : String(err)) };
}

/** Log why a reloaded set was refused: each error diagnostic on its own line, then the summary. */
export function logRefusedReload(logger: Logger, err: unknown): void {
  const diagnostics = err instanceof RuleSetInvalidError ? err.diagnostics.filter((d) => d.severity === 'error') : [];
  for (const d of diagnostics) logger.error({ file: d.file, line: d.line, col: d.col, rule: d.ruleId, code: d.code }, diagnosticLine(d));
  logger.error({ err: diagnostics.length ? undefined : err, errors: diagnostics.length }, 'rule reload refused; the running rule set keeps working');
}
