/**
 * One list of error codes (engine/error-codes.ts): every code the source
 * raises is in it with the kind it is raised with, errors take their kind from
 * it, and docs/errors.md shows exactly the list.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ActionConfigError } from '../../engine/actions/errors.js';
import { AuthError, B24ApiError, NetworkError, OutcomeUnknownError, RateLimitError, WriteRefusedError, type B24ApiErrorCode } from '../../engine/client/errors.js';
import { ApplyError } from '../../engine/daemon/apply-rule.js';
import { StateFileMissingError } from '../../engine/daemon/state-file.js';
import { ERROR_CODES, errorKindOf, isErrorCode, type ErrorCode } from '../../engine/error-codes.js';
import { B24RulesError, ConfigError, toB24RulesError, UsageError } from '../../engine/errors.js';
import { LogicError, type LogicErrorCode } from '../../engine/logic/errors.js';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { InputFileError, PlanStaleError } from '../../engine/plan/errors.js';
import { RequestBodyError } from '../../engine/sources/http-body.js';
import { ScheduleError } from '../../engine/sources/schedule.js';
import { ListenError } from '../../engine/status/server.js';
import { StateNotFoundError, StateStoreError } from '../../engine/store/errors.js';
import { TemplateError } from '../../engine/template/errors.js';
import { EmulatorDataError } from '../../emulator/portal-data.js';
import { scanErrorCodes, sourceFiles } from './error-code-scan.js';

const DOC = join(PACKAGE_ROOT, 'docs', 'errors.md');
const SCANNED = ['engine', 'cli', 'emulator', 'demo'];

/** The rows of the table under `heading` in docs/errors.md. */
function docTable(heading: string): string[] {
  const md = readFileSync(DOC, 'utf8');
  const start = md.indexOf(`\n## ${heading}\n`);
  expect(start, `docs/errors.md has no '## ${heading}' section`).toBeGreaterThanOrEqual(0);
  const rest = md.slice(start + heading.length + 5);
  const end = rest.search(/\n## /);
  return (end < 0 ? rest : rest.slice(0, end))
    .split('\n')
    .filter((l) => l.startsWith('| `'));
}

function row(code: string): string {
  const info = ERROR_CODES[code as ErrorCode];
  return `| \`${code}\` | ${info.kind} | ${info.meaning} | ${info.action} |`;
}

describe('the list of error codes', () => {
  it('is well formed: UPPER_SNAKE codes, one-line texts that fit a table cell', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(['user', 'operational', 'bug']).toContain(info.kind);
      for (const text of [info.meaning, info.action]) {
        expect(text, code).not.toMatch(/[|\n]/);
        expect(text.trim(), code).not.toBe('');
      }
    }
  });

  it('holds the codes the new pipeline raises', () => {
    for (const code of ['EFFECT_FAILED', 'EFFECT_IN_DOUBT', 'RULE_NOT_LOADED', 'RUN_EVALUATE_FAILED', 'LOAD_FAILED', 'MATCH_FAILED', 'FOREACH_INVALID', 'FOREACH_LIMIT', 'ACTION_PLAN', 'UNEXPECTED', 'EVALUATE_FAILED']) {
      expect(isErrorCode(code), code).toBe(true);
    }
    expect(isErrorCode('QUERY_LIMIT_EXCEEDED'), "the portal's codes are not ours").toBe(false);
    expect(isErrorCode('toString')).toBe(false);
  });

  it('gives an error its kind', () => {
    expect(new B24RulesError('LOAD_FAILED', 'x').kind).toBe('operational');
    expect(new B24RulesError('EFFECT_FAILED', 'x').kind).toBe('user');
    expect(new B24RulesError('MATCH_FAILED', 'x').kind).toBe('bug');
    expect(toB24RulesError(new Error('boom')).toJSON()).toMatchObject({ code: 'UNEXPECTED', kind: 'bug', message: 'boom' });
    expect(toB24RulesError(new Error('read failed'), 'LOAD_FAILED').kind).toBe('operational');
    const own = new B24RulesError('PLAN_STALE', 'x');
    expect(toB24RulesError(own, 'UNEXPECTED')).toBe(own);
    expect(errorKindOf('NOT_A_CODE')).toBe('bug');
  });
});

describe('the source', () => {
  const sites = scanErrorCodes(PACKAGE_ROOT, sourceFiles(PACKAGE_ROOT, SCANNED));

  it('finds the codes where they are written (the scan works)', () => {
    const found = new Set(sites.map((s) => s.code));
    // One of each form: new X('C'), both arms of ?:, super('C'), toB24RulesError(e, 'C'), a code union, a default, an error record.
    for (const code of ['DLQ_NOT_FOUND', 'B24_SERVER_ERROR', 'B24_BAD_RESPONSE', 'FOREACH_LIMIT', 'WRITE_REFUSED', 'TEMPLATE_SYNTAX', 'LOGIC_NO_CLOCK', 'UNEXPECTED', 'STATE_FILE_TOO_NEW', 'AUTH_REFRESH_FAILED']) {
      expect(found, code).toContain(code);
    }
    expect(found.size).toBeGreaterThan(50);
  });

  it('raises no code that is not in the list', () => {
    const unlisted = sites.filter((s) => !isErrorCode(s.code)).map((s) => `${s.where}: ${s.code}`);
    expect(unlisted, 'add these to engine/error-codes.ts (and docs/errors.md), or use a listed code').toEqual([]);
  });

  it('raises each code with the kind the list gives it', () => {
    const wrong = sites.filter((s) => s.kind !== undefined && isErrorCode(s.code) && ERROR_CODES[s.code].kind !== s.kind).map((s) => `${s.where}: ${s.code} raised as ${s.kind}, listed as ${ERROR_CODES[s.code as ErrorCode].kind}`);
    expect(wrong).toEqual([]);
  });

  it('builds every error class with its code and the kind the list gives it', () => {
    const details = { method: 'crm.deal.get', status: 400, error: 'X', errorDescription: 'y' };
    const errors: B24RulesError[] = [
      new ConfigError('x'),
      new UsageError('x'),
      ...(['B24_API_ERROR', 'B24_METHOD_NOT_FOUND', 'B24_PORTAL_MOVED', 'B24_SERVER_ERROR', 'B24_BAD_RESPONSE'] satisfies B24ApiErrorCode[]).map((c) => new B24ApiError(c, details)),
      ...(['RATE_LIMITED', 'OPERATION_TIME_LIMIT', 'OVERLOAD_LIMIT'] as const).map((c) => new RateLimitError(c, details)),
      ...(['AUTH_FAILED', 'AUTH_REFRESH_FAILED', 'AUTH_INSUFFICIENT_SCOPE', 'AUTH_WRONG_TYPE'] as const).map((c) => new AuthError(c, details)),
      new NetworkError('crm.deal.get', 'ECONNRESET', true),
      new NetworkError('crm.deal.get', 'UND_ERR_HEADERS_TIMEOUT', true, { timeout: true }),
      new OutcomeUnknownError('crm.deal.add', {}),
      new WriteRefusedError('crm.deal.add'),
      new ActionConfigError('comment', 'x'),
      ...(['RULE_NOT_FOUND', 'RULE_NOT_APPLICABLE', 'RULE_DISABLED', 'APPLY_NOT_STORED'] as const).map((c) => new ApplyError(c, 'x')),
      new StateFileMissingError('/tmp/none.db'),
      ...(['EVENTS_INVALID', 'FIXTURES_INVALID', 'RULE_TEST_INVALID', 'PLAN_FILE_INVALID'] as const).map((c) => new InputFileError(c, 'f.yaml', 1, 'x')),
      new PlanStaleError([]),
      new RequestBodyError(400, 'x'),
      new ScheduleError('x', 'rule'),
      new ListenError('x'),
      new StateStoreError('x'),
      new StateStoreError('x', { code: 'STATE_FILE_TOO_NEW' }),
      new StateNotFoundError('run', 1),
      ...(['LOGIC_UNKNOWN_OPERATOR', 'LOGIC_ARGUMENTS', 'LOGIC_INVALID', 'REGEX_UNSAFE', 'REGEX_INVALID', 'LOGIC_NO_CLOCK', 'LOGIC_NO_EVALUATOR'] satisfies LogicErrorCode[]).map((c) => new LogicError(c, 'x')),
      ...(['TEMPLATE_SYNTAX', 'TEMPLATE_UNKNOWN_FILTER', 'TEMPLATE_FILTER_ARGUMENT'] as const).map((c) => new TemplateError(c, 'x', 0)),
      new EmulatorDataError('x'),
    ];
    for (const e of errors) {
      expect(isErrorCode(e.code), `${e.name} ${e.code}`).toBe(true);
      expect(e.kind, `${e.name} ${e.code}`).toBe(ERROR_CODES[e.code].kind);
    }
  });
});

describe('docs/errors.md', () => {
  it("shows exactly the list: the same codes, in the same order, with the same kind, meaning and action", () => {
    expect(docTable("The project's codes")).toEqual(Object.keys(ERROR_CODES).map(row));
  });

  it("lists every Bitrix24 code the client treats specially", () => {
    const portal = docTable("Bitrix24's codes").join('\n');
    const client = readFileSync(join(PACKAGE_ROOT, 'engine', 'client', 'answer-errors.ts'), 'utf8');
    const cases = [...client.matchAll(/case '([A-Za-z_]+)':/g)].map((m) => m[1]!);
    expect(cases.length).toBeGreaterThan(5);
    for (const code of [...cases, 'expired_token', 'invalid_token', 'ACCESS_DENIED', 'NOT_FOUND']) expect(portal, code).toContain(`\`${code}\``);
  });
});
