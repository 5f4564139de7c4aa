/**
 * The external services the scenario rules call, served locally for the demo:
 * an enrichment API (rules/02: `POST /enrich` → person and company profile),
 * an OpenAI-style chat completion (rules/05: `POST /ai/chat/completions`) and
 * a sync target (rules/06, 08: `PUT /sync/deals/ID`, `/sync/contacts/ID`), a
 * task tracker (rules/14: `PUT /tasks-sync/tasks/ID`) and an ERP invoicing
 * endpoint (rules/15: `POST /erp/invoices`).
 * Each checks its bearer token, as the real ones would, and records what it
 * received so the demo can show it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface StubRequest {
  service: 'enrich' | 'ai' | 'sync' | 'tasks' | 'erp';
  method: string;
  path: string;
  body: unknown;
}

export interface StubServices {
  readonly url: string;
  /** Environment variables pointing the rules at this server (ENRICH_URL, AI_API_URL, SYNC_URL, TASKS_SYNC_URL, INVOICING_URL and their keys). */
  readonly env: Record<string, string>;
  readonly received: StubRequest[];
  /** Called for each request served. */
  onRequest?: (r: StubRequest) => void;
  close(): Promise<void>;
}

/** Path prefix of each service: the rules' *_URL variables point below it. */
const PREFIX = { enrich: '/enrich', ai: '/ai', sync: '/sync', tasks: '/tasks-sync', erp: '/erp' } as const;

const COMPANIES: Record<string, { name: string; industry: string }> = {
  'acme.example': { name: 'Acme Robotics GmbH', industry: 'MANUFACTURING' },
  'globex.example': { name: 'Globex Logistics', industry: 'DELIVERY' },
  'initech.example': { name: 'Initech Software', industry: 'IT' },
};
const TITLES = ['Head of Procurement', 'Operations Manager', 'CTO', 'Purchasing Lead'];
const CITIES = ['Berlin', 'Munich', 'Hamburg', 'Vienna'];

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
      } catch {
        resolve(null);
      }
    });
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
}

/** Start the stub server on a loopback port. */
export async function startStubServices(): Promise<StubServices> {
  const keys = { enrich: randomBytes(12).toString('hex'), ai: randomBytes(12).toString('hex'), sync: randomBytes(12).toString('hex'), tasks: randomBytes(12).toString('hex'), erp: randomBytes(12).toString('hex') };
  let invoices = 0;
  const received: StubRequest[] = [];
  const self: { onRequest?: (r: StubRequest) => void } = {};

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const body = await readJson(req);
      const auth = req.headers.authorization ?? '';
      const service = (['enrich', 'ai', 'sync', 'tasks', 'erp'] as const).find((s) => url.pathname === PREFIX[s] || url.pathname.startsWith(`${PREFIX[s]}/`)) ?? null;
      if (!service) return json(res, 404, { error: 'not found' });
      if (auth !== `Bearer ${keys[service]}`) return json(res, 401, { error: 'bad api key' });
      const r: StubRequest = { service, method: req.method ?? 'GET', path: url.pathname, body };
      received.push(r);
      self.onRequest?.(r);
      if (service === 'enrich') {
        const b = (body ?? {}) as Record<string, string>;
        const email = String(b.email ?? '');
        const domain = email.split('@')[1] ?? '';
        const company = COMPANIES[domain];
        const h = hash(email || String(b.phone ?? '') || String(b.lead_id ?? ''));
        return json(res, 200, {
          person: { title: TITLES[h % TITLES.length], city: CITIES[h % CITIES.length] },
          company: company ?? null,
        });
      }
      if (service === 'ai') {
        const messages = ((body as { messages?: Array<{ content?: string }> } | null)?.messages ?? []).map((m) => m.content ?? '');
        const deal = /Deal: (.*)/.exec(messages.join('\n'))?.[1] ?? 'this deal';
        const stage = /Stage: (\S+)/.exec(messages.join('\n'))?.[1] ?? 'the current stage';
        return json(res, 200, {
          id: `chatcmpl-${randomBytes(6).toString('hex')}`,
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              finish_reason: 'stop',
              message: { role: 'assistant', content: `${deal} moved to ${stage}; the customer is engaged and the amount is confirmed. Next step: schedule a call this week to agree on the delivery date.` },
            },
          ],
        });
      }
      if (service === 'erp') {
        invoices++;
        return json(res, 201, { number: `INV-2026-${String(invoices).padStart(4, '0')}`, status: 'issued' });
      }
      return json(res, 200, { ok: true, id: url.pathname.split('/').pop() });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    env: {
      ENRICH_URL: `${url}/enrich`,
      ENRICH_API_KEY: keys.enrich,
      AI_API_URL: `${url}/ai/chat/completions`,
      AI_API_KEY: keys.ai,
      AI_MODEL: 'demo-model',
      SYNC_URL: `${url}/sync`,
      SYNC_TOKEN: keys.sync,
      TASKS_SYNC_URL: `${url}/tasks-sync`,
      TASKS_SYNC_TOKEN: keys.tasks,
      INVOICING_URL: `${url}/erp`,
      INVOICING_TOKEN: keys.erp,
    },
    received,
    set onRequest(fn: ((r: StubRequest) => void) | undefined) {
      self.onRequest = fn;
    },
    get onRequest() {
      return self.onRequest;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
