import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dealEvent, drain, harness, type Harness } from './harness.js';

let h: Harness | undefined;
let server: Server | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

/** An ERP stand-in: answers 500 for deal 2, an invoice number for the others; records what it got. */
async function erp(): Promise<{ url: string; got: Array<{ deal: string; key: string | undefined }> }> {
  const got: Array<{ deal: string; key: string | undefined }> = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const deal = String((JSON.parse(body) as { deal: unknown }).deal);
      got.push({ deal, key: req.headers['idempotency-key'] as string | undefined });
      if (req.headers['x-erp-key'] !== 'erp-key-0f9a7c') {
        res.writeHead(401).end();
        return;
      }
      if (deal === '2') {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"ledger locked"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ number: `INV-${deal}` }));
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/invoices`, got };
}

describe('http action', () => {
  it('its answer feeds later actions; a failing one retries with backoff, then lands in the DLQ without blocking other events', async () => {
    const { url, got } = await erp();
    h = await harness(
      `
id: invoice
env: [ERP_KEY]
trigger: { event: ONCRMDEALUPDATE }
actions:
  - http: { url: "${url}", method: POST, headers: { X-Erp-Key: "{{ env.ERP_KEY }}" }, body: { deal: "{{ deal.ID }}" }, as: invoice }
  - comment: { entity: deal, id: "{{ deal.ID }}", text: "Invoice {{ invoice.body.number }} (HTTP {{ invoice.status }})" }
on_error: { retries: 2, then: dead_letter }
`,
      { http: fetch as never, engine: { options: { env: { ERP_KEY: 'erp-key-0f9a7c' } } } },
    );
    h.store.inbox.add([dealEvent(1), dealEvent(2), dealEvent(3)]);
    await drain(h.engine, h.clock);

    const comments = h.emu.store.all('timeline_comment').map((c) => `${c.ENTITY_ID}:${c.COMMENT}`);
    expect(comments.sort()).toEqual(['1:Invoice INV-1 (HTTP 200)', '3:Invoice INV-3 (HTTP 200)']);
    // Deal 2: first attempt + 2 retries, always with the same idempotency key.
    const tries = got.filter((g) => g.deal === '2');
    expect(tries).toHaveLength(3);
    expect(new Set(tries.map((t) => t.key)).size).toBe(1);
    const dlq = h.store.dlq.list();
    expect(dlq).toHaveLength(1);
    expect(dlq[0]).toMatchObject({ ruleId: 'invoice' });
    expect(dlq[0]!.error).toMatch(/HTTP 500/);
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 2, dead: 1, pending: 0, running: 0 });
    expect(h.store.inbox.finished('offline').map((i) => i.status).sort()).toEqual(['dead', 'done', 'done']);
    expect(h.engine.stats.runs).toMatchObject({ done: 2, dead: 1 });
    // The env value reached the ERP but no trace or DLQ entry.
    expect(got.length).toBeGreaterThan(0);
    expect(JSON.stringify(h.store.runs.list({ limit: 100 }).map((r) => r.trace))).not.toContain('erp-key-0f9a7c');
    expect(JSON.stringify(h.store.dlq.list())).not.toContain('erp-key-0f9a7c');

    // Retry from the DLQ once the ERP is fixed: the item is matched again and completes.
    server!.removeAllListeners('request');
    server!.on('request', (req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"number":"INV-2"}'));
    });
    h.store.dlq.retry(dlq[0]!.id);
    await drain(h.engine, h.clock);
    expect(h.emu.store.all('timeline_comment').filter((c) => String(c.ENTITY_ID) === '2').map((c) => c.COMMENT)).toEqual(['Invoice INV-2 (HTTP 200)']);
    expect(h.store.inbox.countByStatus()).toMatchObject({ done: 3, dead: 0 });
  });
});
