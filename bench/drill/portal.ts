/**
 * The drill's portal: the emulator (`startEmulator`, what `rules emulator`
 * runs) in the drill's own process on 127.0.0.1, so the drill reads its record
 * directly (the records, the offline queue) and changes its faults while it
 * runs. In front of its token server sits a pass-through proxy: the daemon
 * refreshes through it, and the drill learns every token the portal hands out
 * (to look for them in the logs) and counts the refreshes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmulator, stringifyPhpQuery, type CallRecord, type Emulator, type PortalData } from '../../emulator/index.js';
import { FAULT_RATES, type FaultSegment, type LeadSpec } from './plan.js';

/** A secret the drill looks for in every log line: its value and a name to report it by (never the value). */
export interface Secret {
  name: string;
  value: string;
}

/** One request to the token server, as the proxy saw it. */
export interface TokenGrant {
  at: number;
  status: number;
}

/** The running fault schedule. */
export interface FaultSchedule {
  /** No fault at all until `resume()`. */
  pause(): void;
  /** The schedule goes on where it was. */
  resume(): void;
  /**
   * While paused: lose exactly one answer of `method` (the next call of it
   * runs and its connection is dropped), no other fault meanwhile. `prepare`
   * runs first, while every call of `method` is answered 500 without running
   * (and without taking from the rate limit), so nothing it sets up is taken
   * before the lost call. Resolves with that call's record, or null when none
   * came within `timeoutMs`. No fault after it either.
   */
  loseOneAnswer(method: string, timeoutMs: number, prepare?: () => Promise<void>): Promise<CallRecord | null>;
  stop(): void;
}

/** The smallest portal the rules need: the admin user (the tasks' responsible). */
const DRILL_PORTAL: PortalData = {
  users: [{ ID: 1, NAME: 'Drill', LAST_NAME: 'Admin', EMAIL: 'admin@example.test', ACTIVE: true, ADMIN: true }],
};

export interface DrillPortal {
  emu: Emulator;
  /** What the daemon gets as B24_OAUTH_URL: the proxy. */
  oauthUrl: string;
  /** Every credential seen so far: the app's, the webhook's and every token pair the token server issued. */
  secrets(): Secret[];
  /** Add a secret the drill made itself (form secrets). */
  addSecret(name: string, value: string): void;
  /** Requests to the token server (refreshes), in order. */
  readonly grants: readonly TokenGrant[];
  /** Create the backlog's leads through the incoming webhook, 50 per `batch`; returns their IDs in order. */
  createLeads(leads: readonly LeadSpec[]): Promise<string[]>;
  /** Cycle through the fault segments until stopped; `stop()` turns every fault off. */
  startFaults(segments: readonly FaultSegment[], seed: number): FaultSchedule;
  close(): Promise<void>;
}

/** Start the emulator (standard plan: burst 50, 2 requests/s) with short-lived tokens, and the token proxy. */
export async function startDrillPortal(options: { tokenTtlSeconds: number }): Promise<DrillPortal> {
  const emu = await startEmulator({ port: 0, host: '127.0.0.1', data: DRILL_PORTAL, plan: 'standard', tokenTtlSeconds: options.tokenTtlSeconds });
  const secrets = new Map<string, string>();
  const add = (name: string, value: unknown) => {
    if (typeof value === 'string' && value.length >= 6 && !secrets.has(value)) secrets.set(value, name);
  };
  add('client_secret', emu.app.client_secret);
  add('application_token', emu.app.application_token);
  add('access_token #0', emu.app.access_token);
  add('refresh_token #0', emu.app.refresh_token);
  const webhookCode = /\/rest\/\d+\/([^/]+)\/$/.exec(emu.webhookUrl)?.[1];
  add('webhook code', webhookCode);

  const grants: TokenGrant[] = [];
  const proxy: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      fetch(`${emu.url}${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers: req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {},
        ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
      }).then(
        async (answer) => {
          const text = await answer.text();
          grants.push({ at: Date.now(), status: answer.status });
          try {
            const data = JSON.parse(text) as Record<string, unknown>;
            add(`access_token #${grants.length}`, data.access_token);
            add(`refresh_token #${grants.length}`, data.refresh_token);
          } catch {
            // Not JSON: nothing to learn.
          }
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
          res.end(text);
        },
        () => {
          res.writeHead(502).end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const oauthUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  const sendBatch = (cmd: Record<string, string>) => fetch(`${emu.webhookUrl}batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ halt: 1, cmd }) });

  return {
    emu,
    oauthUrl,
    secrets: () => [...secrets].map(([value, name]) => ({ name, value })),
    addSecret: add,
    grants,
    async createLeads(leads) {
      const ids: string[] = [];
      for (let i = 0; i < leads.length; i += 50) {
        const chunk = leads.slice(i, i + 50);
        const cmd = Object.fromEntries(
          chunk.map((l, k) => [
            `l${k}`,
            `crm.lead.add?${stringifyPhpQuery({ fields: { TITLE: l.title, NAME: l.name, LAST_NAME: l.lastName, EMAIL: [{ VALUE: l.email, VALUE_TYPE: 'WORK' }], PHONE: [{ VALUE: l.phone, VALUE_TYPE: 'WORK' }], SOURCE_ID: 'WEB' } })}`,
          ]),
        );
        let answer = await sendBatch(cmd);
        // A big backlog outruns the bucket's burst: a refused request did not run, so it is sent again.
        for (let tries = 0; answer.status === 503 && tries < 120; tries++) {
          await new Promise((r) => setTimeout(r, 600));
          answer = await sendBatch(cmd);
        }
        const data = (await answer.json()) as { result?: { result?: Record<string, number>; result_error?: Record<string, unknown> } };
        const result = data.result?.result ?? {};
        for (let k = 0; k < chunk.length; k++) {
          const id = result[`l${k}`];
          if (id === undefined) throw new Error(`creating the backlog: lead '${chunk[k]?.title}' was not created (HTTP ${answer.status}: ${JSON.stringify(data.result?.result_error ?? data).slice(0, 300)})`);
          ids.push(String(id));
        }
      }
      return ids;
    },
    startFaults(segments, seed) {
      let i = 0;
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      let paused = false;
      emu.setFaults({ seed });
      const next = () => {
        if (stopped || paused) return;
        const s = segments[i++ % segments.length] as FaultSegment;
        emu.setFaults({ ...FAULT_RATES, dropWhen: s.dropWhen, latencyMs: s.latencyMs });
        timer = setTimeout(next, s.ms);
      };
      next();
      const none = () => emu.setFaults({ errorRate: 0, dropRate: 0, latencyMs: 0, methods: [], maxFaults: Infinity });
      return {
        pause() {
          paused = true;
          clearTimeout(timer);
          none();
        },
        resume() {
          if (!paused) return;
          paused = false;
          next();
        },
        async loseOneAnswer(method, timeoutMs, prepare) {
          if (!paused) throw new Error('drill: loseOneAnswer needs the schedule paused');
          const m = method.toLowerCase();
          try {
            emu.setFaults({ errorRate: 1, dropRate: 0, latencyMs: 0, methods: [m], maxFaults: Infinity });
            await prepare?.();
            const since = emu.calls.records[emu.calls.records.length - 1]?.seq ?? 0;
            emu.setFaults({ errorRate: 0, dropRate: 1, dropWhen: 'after', methods: [m], maxFaults: 1 });
            const end = Date.now() + timeoutMs;
            while (Date.now() < end && !stopped) {
              const hit = emu.calls.records.find((r) => r.method === m && r.fault === 'drop' && r.seq > since);
              if (hit) return hit;
              await new Promise((r) => setTimeout(r, 20));
            }
            return null;
          } finally {
            none();
          }
        },
        stop() {
          stopped = true;
          clearTimeout(timer);
          none();
        },
      };
    },
    async close() {
      const closed = new Promise<void>((resolve) => proxy.close(() => resolve()));
      proxy.closeAllConnections();
      await closed;
      await emu.close();
    },
  };
}
