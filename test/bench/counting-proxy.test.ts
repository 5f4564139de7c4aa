/**
 * The benchmarks' counting proxy in front of a real node:http server standing
 * in for the portal: it forwards requests and answers unchanged and counts
 * what each request was (batch commands one by one, the queue's requests,
 * token refreshes, pushes to a client), as the daemon-path bench reads them.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { describeRequest, formatCommands, requestFloor, startCountingProxy, tallyRequests, type CountingProxy } from '../../bench/index.js';

const servers: Server[] = [];
const proxies: CountingProxy[] = [];
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close();
  for (const s of servers.splice(0)) await new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r())));
});

interface Seen {
  path: string;
  body: string;
}

async function serve(answer: (req: IncomingMessage, body: string) => { status: number; body: unknown }): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', body });
      const a = answer(req, body);
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const post = (url: string, body: string, type = 'application/json') => fetch(url, { method: 'POST', headers: { 'content-type': type }, body });

describe('the counting proxy', () => {
  it('forwards requests and answers unchanged and counts each request and its commands', async () => {
    const portal = await serve((req) => {
      if (req.url?.startsWith('/rest/event.offline.get')) return { status: 200, body: { result: { process_id: 'p1', events: [{ ID: 1 }, { ID: 2 }, { ID: 3 }] } } };
      if (req.url?.startsWith('/oauth/')) return { status: 200, body: { access_token: 'a' } };
      return { status: 200, body: { result: { ok: true } } };
    });
    const proxy = await startCountingProxy(portal.url);
    proxies.push(proxy);
    const batch = JSON.stringify({ halt: 0, cmd: { a: 'crm.lead.list?filter[@ID][0]=1&filter[@ID][1]=2', b: 'crm.lead.update?id=7&fields[ASSIGNED_BY_ID]=9', c: 'im.notify.system.add?USER_ID=9&MESSAGE=x', d: 'event.offline.clear?process_id=p0&message_id[0]=m' } });
    const answer = await post(`${proxy.url}/rest/batch.json`, batch);
    expect(await answer.json()).toEqual({ result: { ok: true } });
    await (await post(`${proxy.url}/rest/event.offline.get.json`, JSON.stringify({ clear: 0, auth: 't' }))).arrayBuffer();
    await (await post(`${proxy.url}/rest/event.offline.clear.json`, JSON.stringify({ process_id: 'p1' }))).arrayBuffer();
    // The webhook form, form-encoded as a PHP client sends it.
    await (await post(`${proxy.url}/rest/1/secret/crm.lead.get.json`, 'id=42', 'application/x-www-form-urlencoded')).arrayBuffer();
    await (await fetch(`${proxy.url}/oauth/token/?grant_type=refresh_token`)).arrayBuffer();
    // The portal got every request as sent.
    expect(portal.seen.map((s) => s.path)).toEqual(['/rest/batch.json', '/rest/event.offline.get.json', '/rest/event.offline.clear.json', '/rest/1/secret/crm.lead.get.json', '/oauth/token/?grant_type=refresh_token']);
    expect(portal.seen[0]?.body).toBe(batch);

    expect(proxy.records.map((r) => r.kind)).toEqual(['batch', 'event.offline.get', 'event.offline.clear', 'crm.lead.get', 'oauth']);
    expect(proxy.records[0]?.commands).toEqual([
      { method: 'crm.lead.list', write: false },
      { method: 'crm.lead.update', write: true, id: '7' },
      { method: 'im.notify.system.add', write: true },
      { method: 'event.offline.clear', write: true },
    ]);
    expect(proxy.records[1]?.events).toBe(3);
    expect(proxy.records[3]?.commands).toEqual([{ method: 'crm.lead.get', write: false, id: '42' }]);

    const t = tallyRequests(proxy.records);
    expect(t).toMatchObject({ httpRequests: 4, batch: 1, offlineGet: 1, offlineClear: 1, other: 1, oauth: 1, writeCommands: 2, readCommands: 2, largestQueuePage: 3, failed: 0 });
    // The queue's clear rode along in the batch: it is a command, not a request of its own, and not a CRM write.
    expect(t.commands['event.offline.clear']).toBe(2);
    expect(t.lastWriteAt).toBe(proxy.records[0]?.answeredAt);
    expect(formatCommands(t.commands)).toBe('event.offline.clear 2, crm.lead.get 1, crm.lead.list 1, crm.lead.update 1, event.offline.get 1, im.notify.system.add 1');
  });

  it('forwards /push to the target it is given (a client\'s receiver), counted apart; without one it answers 503', async () => {
    const portal = await serve(() => ({ status: 200, body: { result: true } }));
    const daemon = await serve(() => ({ status: 200, body: { ok: true } }));
    const proxy = await startCountingProxy(portal.url);
    proxies.push(proxy);
    expect((await post(`${proxy.url}/push`, 'event=ONOFFLINEEVENT', 'application/x-www-form-urlencoded')).status).toBe(503);
    proxy.setPushTarget(`${daemon.url}/b24/events`);
    expect((await post(`${proxy.url}/push`, 'event=ONOFFLINEEVENT', 'application/x-www-form-urlencoded')).status).toBe(200);
    expect(daemon.seen).toEqual([{ path: '/b24/events', body: 'event=ONOFFLINEEVENT' }]);
    expect(portal.seen).toEqual([]);
    expect(proxy.records.map((r) => r.kind)).toEqual(['push', 'push']);
    expect(tallyRequests(proxy.records).httpRequests).toBe(0);
  });

  it('a portal that cannot be reached: 502 to the client, counted as a failed request; waitFor sees it', async () => {
    const gone = await serve(() => ({ status: 200, body: {} }));
    const url = gone.url;
    await new Promise<void>((r) => servers.pop()?.close(() => r()));
    const proxy = await startCountingProxy(url);
    proxies.push(proxy);
    const seen = proxy.waitFor((r) => r.kind === 'crm.lead.get', 10_000);
    expect((await post(`${proxy.url}/rest/crm.lead.get.json`, '{"id":1}')).status).toBe(502);
    expect((await seen)?.status).toBe(0);
    expect(tallyRequests(proxy.records)).toMatchObject({ httpRequests: 1, failed: 1 });
  });
});

describe('request arithmetic', () => {
  it('the floor of the issue: ceil(writes / 50) + ceil(records read / 2,500) + queue requests', () => {
    // The workload with merged updates: 1,000 updates and 1,000 notifications, 1,000 leads read, 3 queue requests.
    expect(requestFloor(2000, 1000, 3)).toBe(40 + 1 + 3);
    expect(requestFloor(3000, 1000, 46)).toBe(60 + 1 + 46);
    expect(requestFloor(0, 0, 0)).toBe(0);
  });

  it('names requests by their path in both auth forms', () => {
    expect(describeRequest('/rest/crm.lead.get.json', new URLSearchParams('id=5'), {}).commands).toEqual([{ method: 'crm.lead.get', write: false, id: '5' }]);
    expect(describeRequest('/rest/12/abc/Event.Offline.Get', new URLSearchParams(), {}).kind).toBe('event.offline.get');
    expect(describeRequest('/b24/events', new URLSearchParams(), {}).kind).toBe('other');
    expect(describeRequest('/rest/batch.json', new URLSearchParams(), { 'cmd[a]': 'crm.deal.get?id=1' }).commands).toEqual([{ method: 'crm.deal.get', write: false, id: '1' }]);
  });
});
