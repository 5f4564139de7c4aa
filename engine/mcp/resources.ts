/**
 * The server's resources: the JSON Schemas (schemas/), the rule format
 * (docs/rule-format.md) and the scenario rules (rules/*.yaml, their tests
 * and calendars), read from the package, so an agent writes rules against
 * the format and examples of the version it runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { PACKAGE_ROOT, RULES_DIR, SCHEMAS_DIR } from '../paths.js';

/** One resource: its URI, file and type. */
export interface ResourceFile {
  uri: string;
  name: string;
  file: string;
  mimeType: string;
  description: string;
}

/** Every resource the server lists. */
export function resourceFiles(): ResourceFile[] {
  const out: ResourceFile[] = [];
  for (const f of readdirSync(SCHEMAS_DIR).filter((n) => n.endsWith('.json')).sort()) {
    out.push({ uri: `b24-rules://schemas/${f}`, name: `schema ${f}`, file: join(SCHEMAS_DIR, f), mimeType: 'application/schema+json', description: `JSON Schema ${f} (rule files: rule.schema.json; rule tests: rule-test.schema.json)` });
  }
  out.push({ uri: 'b24-rules://docs/rule-format.md', name: 'rule format', file: join(PACKAGE_ROOT, 'docs', 'rule-format.md'), mimeType: 'text/markdown', description: 'The rule format: triggers, conditions, loads, actions, templates, time, errors' });
  for (const f of readdirSync(RULES_DIR).filter((n) => n.endsWith('.yaml')).sort()) {
    const kind = f.endsWith('.test.yaml') ? 'the rule tests of a scenario' : f === 'calendars.yaml' ? 'the business calendars the scenarios use' : 'a scenario rule file';
    out.push({ uri: `b24-rules://rules/${f}`, name: `rules/${f}`, file: join(RULES_DIR, f), mimeType: 'application/yaml', description: `${kind} (rules/${f})` });
  }
  return out;
}

/** Register every resource file. */
export function registerResources(server: McpServer): void {
  for (const r of resourceFiles()) {
    server.registerResource(r.name, r.uri, { title: r.name, description: r.description, mimeType: r.mimeType }, async (uri) => ({
      contents: [{ uri: uri.href, mimeType: r.mimeType, text: readFileSync(r.file, 'utf8') }],
    }));
  }
}
