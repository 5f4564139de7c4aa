/**
 * The real yaml-language-server (the server of VS Code's YAML extension, a
 * devDependency) over stdio, as an editor drives it: JSON-RPC with
 * Content-Length framing, answering its workspace/configuration requests with
 * the given `yaml` settings.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown> & { items?: unknown[] };
  result?: unknown;
}

/** One completion item of the answer. */
export interface CompletionItem {
  label: string;
  documentation?: string | { value: string };
}

/** The `yaml` settings an editor sends: validation and completion on, no schema store, `schemas` as in settings.json's `yaml.schemas`. */
export function yamlSettings(schemas: Record<string, string | string[]> = {}): Record<string, unknown> {
  return { validate: true, completion: true, hover: true, schemas, schemaStore: { enable: false } };
}

export class LanguageServer {
  readonly #child: ChildProcessWithoutNullStreams;
  #buffer = Buffer.alloc(0);
  #id = 0;
  readonly #pending = new Map<number, (m: Message) => void>();

  private constructor(private readonly settings: Record<string, unknown>) {
    const pkg = createRequire(import.meta.url).resolve('yaml-language-server/package.json');
    this.#child = spawn(process.execPath, [join(dirname(pkg), 'bin', 'yaml-language-server'), '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stdout.on('data', (d: Buffer) => this.#read(d));
  }

  /** Start the server on the workspace folder `root` with these `yaml` settings. */
  static async start(root: string, settings: Record<string, unknown> = yamlSettings()): Promise<LanguageServer> {
    const server = new LanguageServer(settings);
    const uri = pathToFileURL(root).href;
    await server.request('initialize', {
      processId: process.pid,
      rootUri: uri,
      workspaceFolders: [{ uri, name: 'workspace' }],
      capabilities: { textDocument: { completion: { completionItem: { documentationFormat: ['markdown', 'plaintext'] } } }, workspace: { configuration: true } },
    });
    server.send({ method: 'initialized', params: {} });
    server.send({ method: 'workspace/didChangeConfiguration', params: { settings: { yaml: settings } } });
    return server;
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
        this.send({ id: message.id, result: message.method === 'workspace/configuration' ? (message.params?.items ?? []).map(() => this.settings) : null });
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

  /** Open `file` with `text` and ask for completion at line and character (0-based). */
  async complete(file: string, text: string, line: number, character: number): Promise<CompletionItem[]> {
    const uri = pathToFileURL(file).href;
    this.send({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'yaml', version: 1, text } } });
    const answer = await this.request('textDocument/completion', { textDocument: { uri }, position: { line, character } });
    const result = answer.result as { items?: CompletionItem[] } | CompletionItem[] | null;
    return Array.isArray(result) ? result : (result?.items ?? []);
  }

  stop(): void {
    this.#child.kill();
  }
}
