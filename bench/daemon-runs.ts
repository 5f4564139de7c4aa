/**
 * One repetition of each variant of the daemon-path benchmark, on the shared
 * portal (one `rules emulator` process behind the counting proxy): new leads
 * are created through the webhook while no one reads the queue, so each
 * variant starts with the same backlog of ONCRMLEADADD records, then:
 *
 * - `engine`: a real `rules run` (OAuth, offline events, synchronous=FULL),
 *   fresh state file, until every lead has its manager and score and the
 *   queue is empty; stopped with SIGTERM.
 * - a peer (`naive`, `sdk`) in its own process until it processed every event.
 *
 * The work is checked on the portal afterwards (each lead's manager is in
 * its team, its score is right, the queue is empty): a wrong lead is counted
 * (`wrongLeads`) and the report says so plainly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCountingProxy, type CountingProxy, type ProxyRecord } from './counting-proxy.js';
import { startBenchDaemon } from './daemon-process.js';
import { startEmulatorProcess, type EmulatorProcess } from './emulator-process.js';
import { bindScenarioEvents, checkLeads, createLeads, queueLength, writePortalData, writeRulesDir } from './lead-scenario.js';
import { runPeerProcess } from './peers/peer-process.js';
import type { PeerKind } from './peers/types.js';
import { processCpuMs } from './proc-cpu.js';
import { formatCommands, requestFloor, tallyRequests, type RequestTally } from './request-tally.js';
import type { Sample } from './types.js';

/** What the runs share. */
export interface RunContext {
  emu: EmulatorProcess;
  proxy: CountingProxy;
  rulesDir: string;
  /** Where each daemon gets its own directory. */
  workDir: string;
  /** The index of the next lead to create (leads are never reused). */
  nextLead: number;
}

/** Start the shared portal: the data file, `rules emulator --unthrottled`, the proxy before it, the rules directory, the offline binding. */
export async function openRunContext(): Promise<RunContext & { close(): Promise<void> }> {
  const workDir = mkdtempSync(join(tmpdir(), 'b24-bench-daemon-'));
  const dataFile = join(workDir, 'portal.json');
  writePortalData(dataFile);
  const emu = await startEmulatorProcess(['--data', dataFile, '--token-ttl', '86400']);
  const proxy = await startCountingProxy(emu.ready.url).catch(async (err: unknown) => {
    await emu.stop();
    throw err;
  });
  const close = async () => {
    await proxy.close();
    await emu.stop();
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    await bindScenarioEvents(emu);
  } catch (err) {
    await close();
    throw err;
  }
  return { emu, proxy, rulesDir: writeRulesDir(join(workDir, 'rules')), workDir, nextLead: 0, close };
}

/** A sample and the tally behind it (its commands by method, for the report). */
export interface RunOutcome {
  sample: Sample;
  tally: RequestTally;
  /** Leads left wrong (a bug in what is measured: the report says so; the figures still count what was sent). */
  wrong: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A time limit that grows with the work: a loaded machine is slow, not broken. */
function limitMs(events: number): number {
  return 120_000 + events * 100;
}

async function seedBacklog(ctx: RunContext, events: number): Promise<{ ids: string[]; first: number }> {
  const first = ctx.nextLead;
  const ids = await createLeads(ctx.emu, first, events);
  ctx.nextLead += events;
  const queued = await queueLength(ctx.emu);
  if (queued !== events) throw new Error(`the offline queue holds ${queued} records after creating ${events} leads; a previous run left some behind`);
  return { ids, first };
}

/** The leads that are wrong on the portal; throws when the queue was not emptied (the next run would start from a wrong backlog). */
async function checkWork(ctx: RunContext, ids: string[], first: number, variant: string): Promise<string[]> {
  const left = await queueLength(ctx.emu);
  if (left !== 0) throw new Error(`${variant}: ${left} records left in the offline queue`);
  return checkLeads(ctx.emu, ids, first);
}

function figures(t: RequestTally, events: number, wallMs: number, cpuMs: number, emulatorCpuMs: number | null): Sample {
  const queue = t.offlineGet + t.offlineClear;
  return {
    httpRequests: t.httpRequests,
    batch: t.batch,
    offlineGet: t.offlineGet,
    offlineClear: t.offlineClear,
    other: t.other,
    oauth: t.oauth,
    writeCommands: t.writeCommands,
    readCommands: t.readCommands,
    floor: requestFloor(t.writeCommands, events, queue),
    largestQueuePage: t.largestQueuePage,
    failed: t.failed,
    wallMs,
    cpuMs,
    cpuPerEventMs: cpuMs / events,
    cpuOfWallPct: wallMs > 0 ? (cpuMs / wallMs) * 100 : 0,
    ...(emulatorCpuMs === null ? {} : { emulatorCpuMs }),
  };
}

/** Every lead of the run got its notification and an update: the writes are done (the check on the portal follows). */
function writesDone(records: readonly ProxyRecord[], ids: readonly string[]): boolean {
  let notified = 0;
  const updated = new Set<string>();
  for (const r of records) {
    for (const c of r.commands) {
      if (c.method === 'im.notify.system.add') notified++;
      else if (c.method === 'crm.lead.update' && c.id !== undefined) updated.add(c.id);
    }
  }
  return notified >= ids.length && ids.every((id) => updated.has(id));
}

/** The engine: a real daemon over the backlog of `events` new leads. */
export async function runEngine(ctx: RunContext, events: number): Promise<RunOutcome> {
  const { ids, first } = await seedBacklog(ctx, events);
  const dir = mkdtempSync(join(ctx.workDir, 'daemon-'));
  ctx.proxy.clear();
  let pid: number | undefined;
  // The daemon's CPU counts from its first request to the portal: loading Node and the rules before it is start-up, not work.
  const firstRequest = ctx.proxy.waitFor(() => true, limitMs(events)).then((r) => ({ at: r?.at ?? Date.now(), cpuMs: processCpuMs(pid) ?? 0 }));
  const emuCpu0 = processCpuMs(ctx.emu.pid);
  const daemon = await startBenchDaemon({ rulesDir: ctx.rulesDir, workDir: dir, portalUrl: ctx.proxy.url, app: ctx.emu.ready, onSpawn: (p) => (pid = p) });
  try {
    const deadline = Date.now() + limitMs(events);
    while (!writesDone(ctx.proxy.records, ids)) {
      if (Date.now() > deadline) {
        const t = tallyRequests(ctx.proxy.records);
        throw new Error(`engine: the writes of ${events} events were not done within ${limitMs(events) / 1000} s; the daemon sent ${t.httpRequests} requests (${formatCommands(t.commands)}); its warnings: ${daemon.problems.slice(0, 3).join(' | ') || 'none'}`);
      }
      await sleep(50);
    }
    while ((await queueLength(ctx.emu)) > 0) {
      if (Date.now() > deadline) throw new Error(`engine: the offline queue was not cleared within ${limitMs(events) / 1000} s`);
      await sleep(100);
    }
    const cpuEnd = daemon.cpuMs() ?? 0;
    const emuCpu1 = processCpuMs(ctx.emu.pid);
    const start = await firstRequest;
    const tally = tallyRequests(ctx.proxy.records);
    const wrong = await checkWork(ctx, ids, first, 'engine');
    const emulatorCpuMs = emuCpu0 === null || emuCpu1 === null ? null : emuCpu1 - emuCpu0;
    return { sample: { ...figures(tally, events, tally.lastWriteAt - start.at, cpuEnd - start.cpuMs, emulatorCpuMs), wrongLeads: wrong.length }, tally, wrong };
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A peer process over the backlog of `events` new leads. */
export async function runPeer(ctx: RunContext, kind: PeerKind, events: number): Promise<RunOutcome> {
  const { ids, first } = await seedBacklog(ctx, events);
  ctx.proxy.clear();
  const emuCpu0 = processCpuMs(ctx.emu.pid);
  const result = await runPeerProcess({ kind, portalUrl: ctx.proxy.url, app: ctx.emu.ready, events, timeoutMs: limitMs(events) });
  const emuCpu1 = processCpuMs(ctx.emu.pid);
  if (result.processed !== events) throw new Error(`${kind}: processed ${result.processed} of ${events} events`);
  const tally = tallyRequests(ctx.proxy.records);
  const wrong = await checkWork(ctx, ids, first, kind);
  const emulatorCpuMs = emuCpu0 === null || emuCpu1 === null ? null : emuCpu1 - emuCpu0;
  return { sample: { ...figures(tally, events, tally.lastWriteAt - result.startedAt, result.cpuMs, emulatorCpuMs), wrongLeads: wrong.length }, tally, wrong };
}
