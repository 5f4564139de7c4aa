/**
 * The loop's tools: validate (files or an inline YAML text), dry_run (the
 * plan JSON `rules dry-run --format json` writes) and run_tests (per case,
 * with the diff of a failure), each through the same functions as the CLI.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { isRatePlan, parseAt, renderJson } from '../plan/index.js';
import { formatDiagnostics, loadRules, loadRuleSource, type LoadResult } from '../rules/index.js';
import { defaultRunnerDeps, discoverTestFiles, runTests, summaryLine } from '../testing/index.js';
import { portalName, type McpContext } from './context.js';
import { readOnly, registerTool, type ToolAnswer } from './tool-kit.js';

const paths = z.array(z.string()).optional().describe('Rule files or folders, relative to the server\'s working directory (default: rules/)');
const diagnostic = z.looseObject({ severity: z.enum(['error', 'warning']), code: z.string(), message: z.string(), file: z.string(), line: z.number(), col: z.number() });

/** The rules named by `paths`, or the inline text as one file. */
async function load(ctx: McpContext, given: string[] | undefined, text: string | undefined, fileName: string | undefined): Promise<LoadResult> {
  if (text !== undefined) {
    if (given && given.length > 0) throw new UsageError('give either paths or text, not both');
    return loadRuleSource(text, ctx.path(fileName ?? 'inline.yaml'));
  }
  return loadRules(ctx.paths(given));
}

/** `rules validate --format json`'s document for a load result. */
function validation(result: LoadResult): Record<string, unknown> {
  const doc = JSON.parse(formatDiagnostics(result.diagnostics, 'json', result)) as Record<string, unknown>;
  return { valid: !result.diagnostics.some((d) => d.severity === 'error') && result.files.length > 0, ...doc };
}

function validationSummary(result: LoadResult): string {
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (result.files.length === 0) return 'no rule files found';
  const lines = result.diagnostics.map((d) => `${d.file}:${d.line}:${d.col} ${d.severity} ${d.code}${d.ruleId ? ` [${d.ruleId}]` : ''}: ${d.message}${d.hint ? ` (hint: ${d.hint})` : ''}`);
  return [errors.length === 0 ? `valid: ${result.rules.length} rule(s)` : `${errors.length} error(s)`, ...lines].join('\n');
}

/** Register validate, dry_run and run_tests. */
export function registerRuleTools(server: McpServer, ctx: McpContext): void {
  registerTool(server, {
    name: 'validate',
    title: 'Validate rules',
    description:
      'Validate b24-rules rule files (YAML) as `rules validate` does: YAML syntax, the JSON Schemas, cron and time zones, json-logic, templates, Bitrix24 method names, duplicate ids, unsafe bulk writes. Give `paths` (default rules/) or an inline `text` (one file; `file_name` names it in diagnostics). Every diagnostic has file, line, col, the rule id and a hint. Reads files only.',
    input: {
      paths,
      text: z.string().optional().describe('A rule file\'s YAML text, validated as one file instead of paths'),
      file_name: z.string().optional().describe('The name the inline text gets in diagnostics (default inline.yaml). An inline text sees no calendars.yaml and no portal snapshot: for those, write the file and validate its path'),
    },
    output: { valid: z.boolean(), format_version: z.number(), diagnostics: z.array(diagnostic) },
    annotations: readOnly(false),
    async run(args): Promise<ToolAnswer> {
      const result = await load(ctx, args.paths, args.text, args.file_name);
      return { structured: validation(result), summary: validationSummary(result) };
    },
  });

  registerTool(server, {
    name: 'dry_run',
    title: 'Dry-run rules',
    description:
      'Plan what rules would do, writing nothing (as `rules dry-run --format json`): per rule run the trigger, the record, the condition and why, the exact REST calls with fields before and after, batches and the rate-limit estimate. Run it on `events` (JSON lines as event.offline.get returns them, or outgoing-webhook payloads) or an `events_file`, and/or `at` (ISO 8601 with offset: the schedule rules that fire then). Portal data from a `fixtures` file (served by an in-process emulator), else the configured portal is read through a read-only client that refuses every write. Answers the plan and the portal used.',
    input: {
      paths,
      text: z.string().optional().describe('Rules as an inline YAML text instead of paths'),
      file_name: z.string().optional(),
      fixtures: z.string().optional().describe('A fixtures file (records, and events: to plan on)'),
      events: z.string().optional().describe('Events as JSON lines'),
      events_file: z.string().optional().describe('A JSON-lines events file'),
      at: z.string().optional().describe('ISO 8601 time with an offset, e.g. 2026-11-24T09:00:00+03:00'),
      plan: z.enum(['standard', 'enterprise']).optional().describe('Rate-limit profile for the estimate (default B24_PLAN or standard)'),
      state: z.string().optional().describe("The daemon's state file, to plan with its dedupe keys and snapshots (read through a private copy)"),
    },
    output: { portal: z.string(), plan: z.looseObject({ format_version: z.number(), summary: z.looseObject({}), firings: z.array(z.unknown()) }) },
    annotations: readOnly(true),
    async run(args): Promise<ToolAnswer> {
      const loaded = await load(ctx, args.paths, args.text, args.file_name);
      if (loaded.diagnostics.some((d) => d.severity === 'error') || loaded.files.length === 0) {
        return { structured: { portal: 'none: the rules did not load', ...validation(loaded) }, summary: `the rules have errors; fix them first\n${validationSummary(loaded)}`, isError: true };
      }
      const at = args.at === undefined ? undefined : parseAt(args.at);
      if (at === null) throw new UsageError(`at must be an ISO 8601 time with an offset, e.g. 2026-11-24T09:00:00+03:00; got '${args.at}'`);
      if (args.events !== undefined && args.events_file !== undefined) throw new UsageError('give either events or events_file, not both');
      const planRaw = args.plan ?? (ctx.env.B24_PLAN?.trim() || 'standard');
      if (!isRatePlan(planRaw)) throw new UsageError(`B24_PLAN must be standard or enterprise; got '${planRaw}'`);
      const outcome = await ctx.options.planDryRun({
        loaded,
        ...(args.fixtures ? { fixturesFile: ctx.path(args.fixtures) } : {}),
        ...(args.events_file ? { eventsFile: ctx.path(args.events_file) } : {}),
        ...(args.events !== undefined ? { events: { text: args.events, label: 'events' } } : {}),
        ...(at !== undefined && args.at !== undefined ? { at, atText: args.at } : {}),
        ratePlan: planRaw,
        ...(args.state ? { statePath: ctx.path(args.state) } : {}),
        liveConfig: () => ctx.config(),
      });
      const portal = outcome.portal.kind === 'fixtures' ? `fixtures ${outcome.portal.file} (an in-process emulator; no portal was read)` : portalName(outcome.portal.baseUrl);
      const plan = JSON.parse(renderJson(outcome.plan)) as Record<string, unknown>;
      const s = outcome.plan.summary;
      return { structured: { portal, plan, ...(outcome.note ? { note: outcome.note } : {}) }, summary: `portal: ${portal}; ${outcome.plan.firings.length} firing(s), ${s.writes} write(s), ${s.errors} error(s)${outcome.note ? `; ${outcome.note}` : ''}` };
    },
  });

  registerTool(server, {
    name: 'run_tests',
    title: 'Run rule tests',
    description:
      'Run rule tests (*.test.yaml beside the rules) as `rules test` does: each case plans its event or time on its fixtures through an in-process emulator and compares the planned calls with the expected ones. Answers every case (passed, failed, error, skipped) with file:line and, for a failure, the diff of expected and planned calls. Reads files only.',
    input: { paths: z.array(z.string()).optional().describe('Test files or folders (default: rules/)') },
    output: { passed: z.number(), failed: z.number(), summary: z.string(), cases: z.array(z.looseObject({ file: z.string(), name: z.string(), status: z.string() })) },
    annotations: readOnly(false),
    async run(args): Promise<ToolAnswer> {
      const files = discoverTestFiles(ctx.paths(args.paths), ctx.cwd);
      if (files.length === 0) throw new UsageError(`no *.test.yaml files in ${ctx.paths(args.paths).join(', ')}`);
      const results = await runTests(files, defaultRunnerDeps({ startFixturePortal: ctx.options.startFixturePortal }), { cwd: ctx.cwd });
      const cases = results.map((r) => ({ file: r.file, line: r.line, name: r.name, status: r.status, ...(r.failure ? { failure: r.failure } : {}) }));
      const summary = summaryLine(results);
      const passed = results.filter((r) => r.status === 'passed').length;
      const failed = results.filter((r) => r.status === 'failed' || r.status === 'error').length;
      const failures = cases.filter((c) => c.status === 'failed' || c.status === 'error').map((c) => `✗ ${c.name} (${c.file}:${c.line})\n${c.failure ?? ''}`);
      return { structured: { passed, failed, summary, cases }, summary: [summary, ...failures].join('\n') };
    },
  });
}
