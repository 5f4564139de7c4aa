/** portal_lookup: names to IDs on the configured portal, through a read-only client; the answer names the portal. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { McpContext } from './context.js';
import { portalLookup } from './portal-lookup.js';
import { readOnly, registerTool } from './tool-kit.js';

/** Register portal_lookup. */
export function registerPortalTools(server: McpServer, ctx: McpContext): void {
  registerTool(server, {
    name: 'portal_lookup',
    title: 'Look up IDs on the portal by name',
    description:
      "Find the IDs a rule needs on the configured Bitrix24 portal (B24_WEBHOOK_URL or the OAuth app in the environment or .env), by name: users (active; by name or e-mail → user ID for responsible:, notify: user), pipelines (→ CATEGORY_ID), stages (→ STAGE_ID / STATUS_ID, with their pipeline and semantics) and fields with user fields (→ the field code, e.g. UF_CRM_..., with list values' IDs). Read-only calls; the answer names the portal it read.",
    input: {
      kind: z.enum(['user', 'pipeline', 'stage', 'field']).describe('What to look up'),
      name: z.string().optional().describe('The name (or part of it, or an e-mail, or a list value); omitted: list them'),
      entity: z.enum(['lead', 'deal', 'contact', 'company']).optional().describe('For pipelines, stages and fields: whose (default deal)'),
      limit: z.number().int().min(1).max(200).optional().describe('At most this many matches (default 20)'),
    },
    output: { portal: z.string(), matches: z.array(z.looseObject({ kind: z.string(), id: z.string(), name: z.string() })) },
    annotations: readOnly(true),
    async run(args) {
      const { client, portal } = ctx.client(false);
      try {
        const matches = await portalLookup(client, { kind: args.kind, ...(args.entity ? { entity: args.entity } : {}), ...(args.name ? { query: args.name } : {}), ...(args.limit ? { limit: args.limit } : {}) });
        return { structured: { portal, matches }, summary: `portal: ${portal}; ${matches.length} match(es)${matches.length ? `: ${matches.slice(0, 5).map((m) => `${m.name} = ${m.id}`).join('; ')}` : ''}` };
      } finally {
        await client.close();
      }
    },
  });
}
