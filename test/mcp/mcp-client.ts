/** The SDK's own client on `rules mcp` (the built CLI) over stdio, for the MCP tests. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { existsSync } from 'node:fs';
import { CLI } from '../helpers/cli.js';

/** A connected client, what the server wrote on stderr, and a way to close both. */
export interface McpSession {
  client: Client;
  stderr: () => string;
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** Start `rules mcp ARGS` in `cwd` with only `env` (and the SDK's default variables: PATH, HOME...) and connect to it. */
export async function startMcp(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<McpSession> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first (npm test does it)`);
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', ...args], cwd: options.cwd, env: { ...getDefaultEnvironment(), NO_COLOR: '1', ...options.env }, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'b24-rules-test', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    stderr: () => stderr,
    call: async (name, a) => (await client.callTool({ name, arguments: a })) as CallToolResult,
    close: () => client.close(),
  };
}

/** The text of a tool answer's first content block. */
export function textOf(r: CallToolResult): string {
  const first = r.content[0];
  return first && first.type === 'text' ? first.text : '';
}
