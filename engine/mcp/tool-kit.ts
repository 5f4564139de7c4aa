/**
 * Registering a tool the same way every time: a JSON input schema (zod,
 * published as JSON Schema), an output schema the answer's
 * `structuredContent` is checked against, honest annotations, the answer
 * also as JSON text (for clients that read only `content`), and errors as
 * tool errors carrying the project's stable code.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { B24RulesError } from '../errors.js';
import { redact } from '../redact.js';

type Shape = Record<string, z.ZodType>;

/** What a tool's run answers: the structured result, and whether it is a failure the agent should act on. */
export interface ToolAnswer {
  structured: Record<string, unknown>;
  /** A one-line summary put before the JSON text. */
  summary?: string;
  isError?: boolean;
}

/** A tool: name, what it does (for the agent), its schemas and annotations, and what it runs. */
export interface ToolDef<I extends Shape> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: Shape;
  annotations: Omit<ToolAnnotations, 'title'>;
  run(args: z.infer<z.ZodObject<I>>): Promise<ToolAnswer>;
}

/** The answer as MCP wants it. A tool error has no structuredContent (clients check that against the output schema): its JSON is in the text. */
export function toResult(answer: ToolAnswer): CallToolResult {
  const json = JSON.stringify(answer.structured, null, 2);
  const content: CallToolResult['content'] = [{ type: 'text', text: answer.summary ? `${answer.summary}\n\n${json}` : json }];
  return answer.isError ? { content, isError: true } : { content, structuredContent: answer.structured };
}

/** An error as a tool error: its code and message (redacted), never a stack. */
export function errorAnswer(err: unknown): ToolAnswer {
  if (err instanceof B24RulesError) return { structured: { error: { code: err.code, message: err.message } }, summary: `${err.code}: ${err.message}`, isError: true };
  const message = redact(err instanceof Error ? err.message : String(err));
  return { structured: { error: { code: 'UNEXPECTED', message } }, summary: `UNEXPECTED: ${message}`, isError: true };
}

/** Register `def` on `server`. */
export function registerTool<I extends Shape>(server: McpServer, def: ToolDef<I>): void {
  server.registerTool(
    def.name,
    {
      title: def.title,
      description: def.description,
      inputSchema: def.input,
      // Extra keys are allowed: the documents (plans, traces) carry more than the schema names.
      outputSchema: z.looseObject(def.output),
      annotations: { title: def.title, ...def.annotations },
    },
    (async (args: z.infer<z.ZodObject<I>>) => {
      try {
        return toResult(await def.run(args));
      } catch (err) {
        return toResult(errorAnswer(err));
      }
    }) as never,
  );
}

/** Annotations of a tool that reads only: nothing changes, calling it again changes nothing. `openWorld`: it may read the portal. */
export function readOnly(openWorld: boolean): Omit<ToolAnnotations, 'title'> {
  return { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: openWorld };
}
