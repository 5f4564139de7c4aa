/**
 * The two tools that change something: apply_plan (carries out a saved
 * dry-run plan on the configured portal, as `rules apply --plan`) and
 * dlq_retry (sends dead-lettered work back to the inbox, as `rules dlq
 * retry`). Both are marked destructive and refused with WRITES_NOT_ALLOWED
 * unless the server was started with --allow-writes; without it no tool's
 * client may write (the read-only guard of a dry run).
 */
import { readFileSync } from 'node:fs';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { dlqRetriedJson } from '../daemon/index.js';
import { B24RulesError, UsageError } from '../errors.js';
import { applyPlan, type PlanDocument } from '../plan/index.js';
import type { McpContext } from './context.js';
import { withState } from './tools-journal.js';
import { registerTool } from './tool-kit.js';

function refuseUnlessAllowed(ctx: McpContext, tool: string): void {
  if (!ctx.allowWrites) {
    throw new B24RulesError('WRITES_NOT_ALLOWED', `${tool} changes the portal or the daemon's work, and this server was started without --allow-writes: nothing was done. Show the person the dry-run plan; they apply it themselves (rules apply --plan FILE) or restart the server with --allow-writes.`, { kind: 'user' });
  }
}

function readPlan(ctx: McpContext, plan: Record<string, unknown> | undefined, file: string | undefined): PlanDocument {
  if ((plan === undefined) === (file === undefined)) throw new UsageError('give either plan (the dry_run answer\'s plan) or plan_file, not both and not neither');
  if (plan !== undefined) return plan as unknown as PlanDocument;
  const path = ctx.path(file as string);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PlanDocument;
  } catch (err) {
    throw new UsageError(`cannot read the plan file ${path}: ${(err as Error).message}`);
  }
}

/** Register apply_plan and dlq_retry. */
export function registerWriteTools(server: McpServer, ctx: McpContext): void {
  registerTool(server, {
    name: 'apply_plan',
    title: 'Carry out a dry-run plan (writes to the portal)',
    description:
      "Carry out exactly a plan dry_run made (its `plan`, or a file saved by `rules dry-run --out`) on the configured portal, as `rules apply --plan`: the records it read are checked first and the plan is refused, with nothing sent, if any has changed; then its write calls are sent in batches. WRITES TO THE PORTAL. Refused (WRITES_NOT_ALLOWED) unless the server was started with --allow-writes; never call it before the person has seen the dry-run plan and agreed.",
    input: {
      plan: z.record(z.string(), z.unknown()).optional().describe('The plan object from a dry_run answer'),
      plan_file: z.string().optional().describe('A plan JSON file (rules dry-run --out FILE)'),
    },
    output: { portal: z.string(), sent: z.number(), failed: z.number(), calls: z.array(z.unknown()) },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    async run(args) {
      refuseUnlessAllowed(ctx, 'apply_plan');
      const plan = readPlan(ctx, args.plan, args.plan_file);
      const { client, portal } = ctx.client(true);
      try {
        const result = await applyPlan(client, plan);
        return { structured: { portal, ...result }, summary: `portal: ${portal}; ${result.sent - result.failed} of ${result.sent} call(s) succeeded` };
      } finally {
        await client.close();
      }
    },
  });

  registerTool(server, {
    name: 'dlq_retry',
    title: 'Retry dead-lettered work',
    description:
      "Send a dead-letter entry (or all) back to the inbox, as `rules dlq retry`: a running daemon picks it up at its next tick and carries its calls out on the portal; calls that already succeeded are not repeated (the effect ledger), so retrying an entry twice does nothing more. Refused (WRITES_NOT_ALLOWED) unless the server was started with --allow-writes.",
    input: {
      id: z.union([z.number().int().min(1), z.literal('all')]).describe('A DLQ entry id from dlq_list, or "all"'),
      state: z.string().optional().describe("The daemon's state file (default .rules/state.db, or the server's --state)"),
    },
    output: { state: z.string(), retried: z.array(z.number()) },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    async run(args) {
      refuseUnlessAllowed(ctx, 'dlq_retry');
      return withState(ctx, args.state, (store) => {
        const ids: number[] = [];
        if (args.id === 'all') {
          for (let batch = store.dlq.list({ limit: 500 }); batch.length > 0; batch = store.dlq.list({ limit: 500 })) {
            for (const e of batch) {
              store.dlq.retry(e.id);
              ids.push(e.id);
            }
          }
        } else {
          if (!store.dlq.get(args.id)) throw new B24RulesError('DLQ_NOT_FOUND', `no DLQ entry ${args.id} in ${store.path}; list entries with dlq_list`, { kind: 'user' });
          store.dlq.retry(args.id);
          ids.push(args.id);
        }
        return { structured: { state: store.path, ...dlqRetriedJson(ids) }, summary: `requeued ${ids.length} entr${ids.length === 1 ? 'y' : 'ies'}; a running daemon picks them up at its next tick` };
      });
    },
  });
}
