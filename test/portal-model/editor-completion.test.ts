/**
 * Issue 15, done when: the editor completes stage IDs in a rule. The real
 * yaml-language-server (the server of VS Code's YAML extension) runs over
 * stdio with a rule file whose modeline points at the overlay `rules portal
 * pull` wrote; completion at `to:` of a STAGE_ID change offers the demo
 * portal's stage IDs with their pipelines and names.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { runCli } from '../helpers/cli.js';

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown> & { items?: unknown[] };
  result?: unknown;
}
interface CompletionItem {
  label: string;
  documentation?: string | { value: string };
}

const SETTINGS = { validate: true, completion: true, hover: true, schemas: {}, schemaStore: { enable: false } };

/** A language-server client over stdio: JSON-RPC with Content-Length framing. */
class LanguageServer {
  readonly #child: ChildProcessWithoutNullStreams;
  #buffer = Buffer.alloc(0);
  #id = 0;
  readonly #pending = new Map<number, (m: Message) => void>();

  constructor(bin: string) {
    this.#child = spawn(process.execPath, [bin, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stdout.on('data', (d: Buffer) => this.#read(d));
  }

  #read(data: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, data]);
    for (;;) {
      const head = this.#buffer.indexOf('\r\n\r\n');
      if (head < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.#buffer.subarray(0, head).toString())?.[1]);
      if (this.#buffer.length < head + 4 + length) return;
      const message = JSON.parse(this.#buffer.subarray(head + 4, head + 4 + length).toString()) as Message;
      this.#buffer = this.#buffer.subarray(head + 4 + length);
      if (message.id !== undefined && message.method) {
        // The server asks for the client's settings (workspace/configuration) and registers capabilities.
        this.send({ id: message.id, result: message.method === 'workspace/configuration' ? (message.params?.items ?? []).map(() => SETTINGS) : null });
      } else if (message.id !== undefined) this.#pending.get(message.id)?.(message);
    }
  }

  send(message: Record<string, unknown>): void {
    const text = JSON.stringify({ jsonrpc: '2.0', ...message });
    this.#child.stdin.write(`Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  }

  request(method: string, params: unknown): Promise<Message> {
    const id = ++this.#id;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.send({ id, method, params });
    });
  }

  stop(): void {
    this.#child.kill();
  }
}

let emulator: Emulator;
let repo: string;
let server: LanguageServer;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, limits: { burst: 10_000, drainPerSec: 10_000 } });
  repo = mkdtempSync(join(tmpdir(), 'portal-editor-'));
  const pull = await runCli(['portal', 'pull'], { env: { B24_WEBHOOK_URL: emulator.webhookUrl, B24_DOMAIN: '', B24_AUTH_MODE: '', B24_ACCESS_TOKEN: '', B24_WEBHOOK_CODE: '' }, cwd: repo });
  expect(pull.code, pull.stderr).toBe(0);
  mkdirSync(join(repo, 'rules'));
  const pkg = createRequire(import.meta.url).resolve('yaml-language-server/package.json');
  server = new LanguageServer(join(dirname(pkg), 'bin', 'yaml-language-server'));
  const root = pathToFileURL(repo).href;
  await server.request('initialize', {
    processId: process.pid,
    rootUri: root,
    workspaceFolders: [{ uri: root, name: 'rules-repo' }],
    capabilities: { textDocument: { completion: { completionItem: { documentationFormat: ['markdown', 'plaintext'] } } }, workspace: { configuration: true } },
  });
  server.send({ method: 'initialized', params: {} });
  server.send({ method: 'workspace/didChangeConfiguration', params: { settings: { yaml: SETTINGS } } });
});
afterAll(async () => {
  server?.stop();
  await emulator.close();
  rmSync(repo, { recursive: true, force: true });
});

async function complete(name: string, text: string, line: number, character: number): Promise<CompletionItem[]> {
  const uri = pathToFileURL(join(repo, 'rules', name)).href;
  server.send({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'yaml', version: 1, text } } });
  const answer = await server.request('textDocument/completion', { textDocument: { uri }, position: { line, character } });
  const result = answer.result as { items?: CompletionItem[] } | CompletionItem[] | null;
  return Array.isArray(result) ? result : (result?.items ?? []);
}

const doc = (i: CompletionItem): string => (typeof i.documentation === 'string' ? i.documentation : (i.documentation?.value ?? ''));

describe('editor completion from the overlay (yaml-language-server over stdio)', () => {
  it('completes the portal stage IDs, with pipeline and stage names, at a STAGE_ID change', async () => {
    const text = ['# yaml-language-server: $schema=../.rules/schema.json', 'id: won-followup', 'trigger:', '  event: ONCRMDEALUPDATE', '  changed:', '    STAGE_ID:', '      to: ', 'actions:', '  - notify: { user: 1, message: Won }', ''].join('\n');
    const items = await complete('won.yaml', text, 6, 10);
    const stages = items.filter((i) => /^(C\d+:)?[A-Z_]+$/.test(i.label)).map((i) => `${i.label} = ${doc(i)}`);
    expect(stages).toEqual([
      'NEW = Sales / New',
      'PREPARATION = Sales / Prepare documents',
      'PREPAYMENT_INVOICE = Sales / Prepayment invoice',
      'EXECUTING = Sales / In progress',
      'FINAL_INVOICE = Sales / Final invoice',
      'WON = Sales / Deal won',
      'LOSE = Sales / Deal lost',
      'APOLOGY = Sales / Analyze failure',
      'C1:NEW = Renewals / Renewal due',
      'C1:NEGOTIATION = Renewals / Negotiation',
      'C1:WON = Renewals / Renewed',
      'C1:LOSE = Renewals / Churned',
      'C2:NEW = Service / Kick-off',
      'C2:EXECUTING = Service / In delivery',
      'C2:WON = Service / Delivered',
      'C2:LOSE = Service / Cancelled',
    ]);
  });

  it('completes field codes with their labels under an update’s fields:', async () => {
    const text = ['# yaml-language-server: $schema=../.rules/schema.json', 'id: set-region', 'trigger: { event: ONCRMDEALUPDATE }', 'actions:', '  - update:', '      entity: deal', '      id: "{{ deal.ID }}"', '      fields:', '        ', ''].join('\n');
    const items = await complete('fields.yaml', text, 8, 8);
    const region = items.find((i) => i.label === 'UF_CRM_REGION');
    expect(region && doc(region)).toContain('Deals: Region (string)');
    expect(items.map((i) => i.label)).toContain('STAGE_ID');
  });
});
