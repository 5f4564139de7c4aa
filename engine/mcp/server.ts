/**
 * `rules mcp`: the Model Context Protocol server (stdio) that gives an AI
 * assistant the loop a person uses: write a rule, validate it, dry-run it,
 * run its tests, look up methods, events and the portal's IDs, read the
 * journal; and, only when started with --allow-writes, apply a plan or retry
 * dead letters. Nothing may be printed on stdout but the protocol.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { McpContext, type McpOptions } from './context.js';
import { registerResources } from './resources.js';
import { registerCatalogTools } from './tools-catalog.js';
import { registerJournalTools } from './tools-journal.js';
import { registerPortalTools } from './tools-portal.js';
import { registerRuleTools } from './tools-rules.js';
import { registerWriteTools } from './tools-writes.js';

const INSTRUCTIONS = `b24-rules: declarative automation rules for Bitrix24 (YAML). The loop: write the rule (read the resource b24-rules://docs/rule-format.md and the scenario rules b24-rules://rules/...), validate, dry_run on fixtures or events, add a *.test.yaml and run_tests, then show the person the plan. Look IDs up with portal_lookup and methods with method_info rather than guessing. Never apply without a dry-run the person has seen.`;

/** The server with every tool and resource, not yet connected. */
export function createMcpServer(options: McpOptions): McpServer {
  const ctx = new McpContext(options);
  const server = new McpServer({ name: 'b24-rules', version: options.version }, { instructions: INSTRUCTIONS });
  registerRuleTools(server, ctx);
  registerCatalogTools(server);
  registerPortalTools(server, ctx);
  registerJournalTools(server, ctx);
  registerWriteTools(server, ctx);
  registerResources(server);
  return server;
}

/** Serve on stdin/stdout until the client closes the stream; resolves when it has. */
export async function serveStdio(options: McpOptions): Promise<void> {
  const server = createMcpServer(options);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
  });
  await server.connect(transport);
  process.stdin.on('end', () => void server.close());
  await closed;
}
