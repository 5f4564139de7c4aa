/**
 * The journal's tools: runs, trace (why a rule did or did not act) and
 * dlq_list, answering the JSON `rules runs|trace|dlq list --format json`
 * print (engine/daemon/journal-json.ts), from the daemon's state file.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { dlqListJson, formatDlqList, formatRuns, formatTrace, openExistingState, runsJson, traceJson, waitingJson } from '../daemon/index.js';
import { B24RulesError, UsageError } from '../errors.js';
import type { RunStatus, StateStore } from '../store/index.js';
import type { McpContext } from './context.js';
import { readOnly, registerTool } from './tool-kit.js';

const state = z.string().optional().describe("The daemon's state file (default .rules/state.db, or the server's --state)");

/** Open the state file a tool names (or the server's), run `fn`, close it. */
export function withState<T>(ctx: McpContext, path: string | undefined, fn: (store: StateStore) => T): T {
  const store = openExistingState(path ? ctx.path(path) : ctx.statePath);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/** Register runs, trace and dlq_list. */
export function registerJournalTools(server: McpServer, ctx: McpContext): void {
  registerTool(server, {
    name: 'runs',
    title: 'Rule runs',
    description: "Rule runs from the daemon's journal, newest first, as `rules runs --format json`: rule, record, status (done, skipped, failed, dead, waiting, delayed), when, and the skip reason. `waiting` lists the runs waiting on a timer, a retry or their start. Reads the state file only.",
    input: {
      rule: z.string().optional().describe('Only runs of this rule id'),
      failed: z.boolean().optional().describe('Only failed or dead-lettered runs'),
      waiting: z.boolean().optional().describe('Only runs waiting (delayed, waiting for a retry, new), with their timer'),
      limit: z.number().int().min(1).max(500).optional().describe('At most this many (default 50)'),
      state,
    },
    output: { state: z.string(), runs: z.array(z.looseObject({ id: z.number() })) },
    annotations: readOnly(false),
    async run(args) {
      if (args.waiting && args.failed) throw new UsageError('waiting and failed exclude each other');
      return withState(ctx, args.state, (store) => {
        const runs = store.runs.summaries({ ...(args.rule ? { ruleId: args.rule } : {}), failed: args.failed === true, ...(args.waiting ? { status: ['delayed', 'waiting', 'new'] as RunStatus[] } : {}), limit: args.limit ?? 50 });
        const json = args.waiting ? waitingJson(runs, (id) => store.timers.pendingOfRun(id)) : runsJson(runs);
        return { structured: { state: store.path, runs: json as unknown[] }, summary: formatRuns(runs).trimEnd() };
      });
    },
  });

  registerTool(server, {
    name: 'trace',
    title: 'Why a rule did or did not act',
    description: "One run's trace, as `rules trace RUN_ID --format json`: what triggered it, the changed fields, the records it loaded, the condition's value and why it was false, every call it planned and sent with the fields before and after and the portal's answer. The text part is the trace as `rules trace` prints it. Reads the state file only.",
    input: { run_id: z.number().int().min(1).describe('A run id from the runs tool'), state },
    output: { state: z.string(), run: z.looseObject({ id: z.number() }), calls: z.array(z.unknown()) },
    annotations: readOnly(false),
    async run(args) {
      return withState(ctx, args.state, (store) => {
        const run = store.runs.get(args.run_id);
        if (!run) throw new B24RulesError('RUN_NOT_FOUND', `no run ${args.run_id} in ${store.path}; list runs with the runs tool`, { kind: 'user' });
        const effects = store.effects.forRun(args.run_id);
        const json = traceJson(run, effects) as Record<string, unknown>;
        return { structured: { state: store.path, ...json }, summary: formatTrace(run, effects, { full: false }).trimEnd() };
      });
    },
  });

  registerTool(server, {
    name: 'dlq_list',
    title: 'Dead-lettered work',
    description: 'The dead-letter queue, as `rules dlq list --format json`: work that exhausted its retries, with the rule, the error and when. dlq_retry sends an entry back (only with --allow-writes). Reads the state file only.',
    input: { rule: z.string().optional().describe('Only entries of this rule id'), limit: z.number().int().min(1).max(500).optional().describe('At most this many (default 100)'), state },
    output: { state: z.string(), entries: z.array(z.looseObject({ id: z.number() })) },
    annotations: readOnly(false),
    async run(args) {
      return withState(ctx, args.state, (store) => {
        const entries = store.dlq.list({ ...(args.rule ? { ruleId: args.rule } : {}), limit: args.limit ?? 100 });
        return { structured: { state: store.path, entries: dlqListJson(entries) as unknown[] }, summary: formatDlqList(entries).trimEnd() };
      });
    },
  });
}
