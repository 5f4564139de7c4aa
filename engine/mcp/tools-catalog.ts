/** The catalog's tools: catalog_search, method_info, list_events (catalog/ as the project carries it; no portal is called). */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { eventInfo, listEvents, methodInfo, searchCatalog } from '../catalog/index.js';
import { readOnly, registerTool } from './tool-kit.js';

/** Register catalog_search, method_info and list_events. */
export function registerCatalogTools(server: McpServer): void {
  registerTool(server, {
    name: 'catalog_search',
    title: 'Search Bitrix24 methods and events',
    description:
      "Search the Bitrix24 REST catalog b24-rules carries (1,666 methods from the official docs, and the events): every word of `query` must appear in the name ('deal update', 'timeline comment', 'ONCRMDEAL'). Each hit has its scope, read or write, API version and doc page. Use method_info for a method's parameters.",
    input: {
      query: z.string().describe('Words of the method or event name'),
      type: z.enum(['method', 'event', 'any']).optional().describe('Only methods, only events, or both (default)'),
      scope: z.string().optional().describe('Only what this scope allows, e.g. crm'),
      limit: z.number().int().min(1).max(100).optional().describe('At most this many hits (default 20)'),
    },
    output: { hits: z.array(z.looseObject({ type: z.enum(['method', 'event']) })) },
    annotations: readOnly(false),
    async run(args) {
      const hits = searchCatalog(args.query, { ...(args.type ? { type: args.type } : {}), ...(args.scope ? { scope: args.scope } : {}), ...(args.limit ? { limit: args.limit } : {}) });
      return { structured: { hits }, summary: `${hits.length} hit(s)` };
    },
  });

  registerTool(server, {
    name: 'method_info',
    title: 'A Bitrix24 method: scope, read or write, parameters, doc page',
    description:
      "One Bitrix24 REST method from the catalog: its scope (what the webhook or app needs), whether it reads or writes (a dry run's read-only client refuses writes), its parameters (name, type, required), API version, deprecation and doc page URL. An unknown name answers found: false with the closest known name.",
    input: { method: z.string().describe('e.g. crm.deal.update') },
    output: { found: z.boolean() },
    annotations: readOnly(false),
    async run(args) {
      const r = methodInfo(args.method);
      if (!r.found) return { structured: { found: false, ...(r.suggestion ? { suggestion: r.suggestion } : {}) }, summary: `${args.method} is not in the catalog${r.suggestion ? `; did you mean ${r.suggestion}?` : ''}` };
      return { structured: { found: true, ...r.info }, summary: `${r.info.method}: scope ${r.info.scope}, ${r.info.kind ?? r.info.clientKind}, ${r.info.url}` };
    },
  });

  registerTool(server, {
    name: 'list_events',
    title: 'Bitrix24 events',
    description:
      "The Bitrix24 events a rule's trigger (trigger: { event: ... }) or wait_for can bind, with the scope each needs and the record the engine loads for it (ONCRMDEALUPDATE: scope crm, the deal, loaded as {{ deal }}). `query` filters by a part of the name (ONCRMDEAL, TASK); an exact name answers that event.",
    input: {
      query: z.string().optional().describe('A part of the event name, case-insensitive'),
      scope: z.string().optional().describe('Only events of this scope'),
    },
    output: { events: z.array(z.looseObject({ event: z.string() })) },
    annotations: readOnly(false),
    async run(args) {
      const exact = args.query ? eventInfo(args.query) : undefined;
      const events = exact?.found && !args.scope ? [exact.info] : listEvents({ ...(args.query ? { query: args.query } : {}), ...(args.scope ? { scope: args.scope } : {}) });
      const suggestion = events.length === 0 && exact && !exact.found ? exact.suggestion : undefined;
      return { structured: { events, ...(suggestion ? { suggestion } : {}) }, summary: `${events.length} event(s)${suggestion ? `; did you mean ${suggestion}?` : ''}` };
    },
  });
}
