/**
 * The emulator of the lists benchmark's scale variants, in a process of its
 * own so that its CPU time and memory are measured apart from the client's:
 * `node dist/bench/lists-emulator.js ROWS` (forked with an IPC channel by
 * bench/lists.ts). It seeds ROWS deals, then answers messages:
 *
 * - `{op: 'start'}`: clear the call log, note the CPU time, reply `{started: true}`;
 * - `{op: 'stop'}`: reply with the CPU time since `start`, the requests and
 *   list commands it answered, its resident set size and its peak;
 * - `{op: 'exit'}` (or the parent going away): close and exit.
 *
 * Its first message is `{ready: true, webhookUrl, seededRssBytes, seedMs}`.
 */
import { pathToFileURL } from 'node:url';
import { startEmulator } from '../emulator/index.js';
import { BARE_PORTAL, UNTHROTTLED } from './portal.js';

/** What the child reports when it stops measuring. */
export interface ScanReport {
  /** User + system CPU time of the emulator process between `start` and `stop`, ms. */
  cpuMs: number;
  httpRequests: number;
  listCommands: number;
  /** Resident set size now, bytes. */
  rssBytes: number;
  /** Peak resident set size over the process's life (seeding included), bytes. */
  peakRssBytes: number;
}

/** The first message. */
export interface ReadyMessage {
  ready: true;
  webhookUrl: string;
  /** Resident set size after seeding (after a full GC when --expose-gc is on), bytes. */
  seededRssBytes: number;
  /** Peak resident set size of the process up to the end of seeding, bytes. */
  seedPeakRssBytes: number;
  seedMs: number;
}

/** The seeded deal number `i` (from 0): two stages, four owners, amounts. */
function scanDeal(i: number): Record<string, unknown> {
  return { TITLE: `Scan deal ${i}`, STAGE_ID: i % 3 === 0 ? 'WON' : 'NEW', OPPORTUNITY: (i % 97) * 100, ASSIGNED_BY_ID: 1 + (i % 4), COMMENTS: `Deal ${i} of the scan` };
}

async function main(rows: number): Promise<void> {
  const send = (msg: unknown): void => {
    process.send?.(msg);
  };
  const t0 = performance.now();
  const emu = await startEmulator({
    data: { ...BARE_PORTAL, users: [1, 2, 3, 4].map((id) => ({ ID: id, NAME: `User ${id}`, ACTIVE: true, ADMIN: id === 1 })) },
    limits: UNTHROTTLED,
  });
  const chunk = 5000;
  for (let i = 0; i < rows; i += chunk) emu.store.seed('deal', Array.from({ length: Math.min(chunk, rows - i) }, (_, k) => scanDeal(i + k)));
  if (emu.store.count('deal') !== rows) throw new Error(`lists-emulator: seeded ${emu.store.count('deal')} deals, expected ${rows}`);
  const seedMs = performance.now() - t0;
  (globalThis as { gc?: () => void }).gc?.();
  let cpu = process.cpuUsage();
  // resourceUsage().maxRSS is in kilobytes.
  const ready: ReadyMessage = { ready: true, webhookUrl: emu.webhookUrl, seededRssBytes: process.memoryUsage().rss, seedPeakRssBytes: process.resourceUsage().maxRSS * 1024, seedMs };
  send(ready);
  process.on('message', (msg: { op?: string }) => {
    if (msg.op === 'start') {
      emu.calls.clear();
      cpu = process.cpuUsage();
      send({ started: true });
    } else if (msg.op === 'stop') {
      const d = process.cpuUsage(cpu);
      send({
        cpuMs: (d.user + d.system) / 1000,
        httpRequests: emu.calls.httpRequests,
        listCommands: emu.calls.of('crm.deal.list').length,
        rssBytes: process.memoryUsage().rss,
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
      } satisfies ScanReport);
    } else if (msg.op === 'exit') {
      void emu.close().finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => {
    void emu.close().finally(() => process.exit(0));
  });
}

const rows = Number(process.argv[2]);
const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntry && process.send && Number.isInteger(rows) && rows > 0) {
  main(rows).catch((err: unknown) => {
    process.stderr.write(`lists-emulator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
