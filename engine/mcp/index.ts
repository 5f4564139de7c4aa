/** `rules mcp`: the MCP server for AI assistants (docs/mcp.md). */
export { createMcpServer, serveStdio } from './server.js';
export { McpContext, portalName, type McpOptions } from './context.js';
export { portalLookup, type LookupEntity, type LookupKind, type LookupMatch } from './portal-lookup.js';
export { resourceFiles, type ResourceFile } from './resources.js';
