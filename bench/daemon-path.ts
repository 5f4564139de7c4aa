/**
 * The daemon path (issue 12's workload): new-lead events through the
 * scenario rules 03 and 09, each variant reading the same kind of backlog
 * from the offline queue of one `rules emulator --unthrottled` process,
 * every request counted by the bench's own proxy:
 *
 * - `engine`: a real `rules run` (OAuth, offline events, synchronous=FULL);
 * - `naive`: one REST call per read and per write, event by event;
 * - `sdk`: the official SDK's batch helper (@bitrix24/b24jssdk batchByChunk).
 *
 * Each in its own process, so its CPU is its own. Then, once, the engine on a
 * larger backlog (5,000 events) for the CPU per event the issue targets.
 */
import { secondsAtRealRate } from './backlog.js';
import { openRunContext, runEngine, runPeer, type RunOutcome } from './daemon-runs.js';
import { alternate, checkTarget, medianSample, ratio, round } from './measure.js';
import { formatCommands } from './request-tally.js';
import type { BenchOptions, BenchResult, ComputedFigure, TargetCheck, VariantResult } from './types.js';

/** Sizes of the full and the quick run. */
export const DAEMON_PATH_DEFAULTS = {
  /** @default 1000 */
  events: 1000,
  /** @default 3 */
  repetitions: 3,
  /** @default 40 */
  quickEvents: 40,
  /** @default 1 */
  quickRepetitions: 1,
  /** The engine alone on this backlog once, for the CPU per event. @default 5000 */
  backlogEvents: 5000,
  /** The issue's targets. */
  targetRequests: 50,
  targetCpuPerEventMs: 0.3,
  targetNaiveOverEngine: 2,
} as const;

export async function runDaemonPathBench(options: BenchOptions = {}): Promise<BenchResult> {
  const d = DAEMON_PATH_DEFAULTS;
  const n = options.quick ? d.quickEvents : d.events;
  const reps = options.repetitions ?? (options.quick ? d.quickRepetitions : d.repetitions);
  const ctx = await openRunContext();
  try {
    const last: Record<string, RunOutcome> = {};
    const keep = (name: string) => (o: RunOutcome) => ((last[name] = o), o.sample);
    const variants = await alternate(
      [
        { name: 'engine', label: 'rules run: OAuth, offline queue, synchronous=FULL, a fresh state file', run: () => runEngine(ctx, n).then(keep('engine')) },
        { name: 'naive', label: 'one REST call per read and per write, event by event (event.offline.get clear=1, default page)', run: () => runPeer(ctx, 'naive', n).then(keep('naive')) },
        { name: 'sdk', label: '@bitrix24/b24jssdk: per queue page, crm.lead.get and the writes through actions.v2.batchByChunk', run: () => runPeer(ctx, 'sdk', n).then(keep('sdk')) },
      ],
      reps,
      options.progress,
    );
    let backlog: VariantResult | undefined;
    if (!options.quick) {
      options.progress?.(`  engine on a backlog of ${d.backlogEvents.toLocaleString('en-US')} events...`);
      const o = await runEngine(ctx, d.backlogEvents);
      last['engine-5k'] = o;
      backlog = { name: 'engine-5k', label: `the engine once on a backlog of ${d.backlogEvents.toLocaleString('en-US')} events (CPU per event)`, samples: [o.sample], median: medianSample([o.sample]) };
      options.progress?.(`  engine-5k #1: ${Object.entries(o.sample).map(([k, x]) => `${k}=${round(x)}`).join(' ')}`);
    }
    const all = backlog ? [...variants, backlog] : variants;
    return report(n, reps, all, last);
  } finally {
    await ctx.close();
  }
}

function med(variants: readonly VariantResult[], name: string, key: string): number {
  return variants.find((v) => v.name === name)?.median[key] ?? Number.NaN;
}

function report(n: number, reps: number, variants: VariantResult[], last: Record<string, RunOutcome>): BenchResult {
  const d = DAEMON_PATH_DEFAULTS;
  const engineReq = med(variants, 'engine', 'httpRequests');
  const cpuName = variants.some((v) => v.name === 'engine-5k') ? 'engine-5k' : 'engine';
  const cpuEvents = cpuName === 'engine-5k' ? d.backlogEvents : n;
  const targets: TargetCheck[] = [
    checkTarget(`HTTP requests, ${n.toLocaleString('en-US')} new-lead events (engine)`, engineReq, '', n === d.events ? d.targetRequests : Math.ceil((d.targetRequests * n) / d.events), false, n === d.events ? undefined : `target scaled from 50 per 1,000 events to ${n}`),
    checkTarget(`engine CPU per event, ${cpuEvents.toLocaleString('en-US')}-event backlog (daemon process)`, med(variants, cpuName, 'cpuPerEventMs'), 'ms', d.targetCpuPerEventMs),
    checkTarget('naive / engine wall time on loopback', med(variants, 'naive', 'wallMs') / med(variants, 'engine', 'wallMs'), '×', d.targetNaiveOverEngine, true),
    checkTarget('engine requests / fewest of a peer (naive, SDK batch helper)', engineReq / Math.min(med(variants, 'naive', 'httpRequests'), med(variants, 'sdk', 'httpRequests')), '×', 1, false, 'fewer requests than any peer: below 1'),
  ];
  const wrongRuns = Object.entries(last).filter(([, o]) => o.wrong.length > 0);
  targets.push(checkTarget('leads left wrong, every variant and repetition', variants.reduce((a, v) => a + v.samples.reduce((b, s) => b + (s.wrongLeads ?? 0), 0), 0), '', 0, false, wrongRuns.length > 0 ? `THE WORK WAS WRONG, e.g. ${wrongRuns.map(([name, o]) => `${name}: ${o.wrong.slice(0, 2).join('; ')}`).join(' / ')}` : undefined));
  const computed: ComputedFigure[] = variants
    .filter((v) => v.name !== 'engine-5k')
    .map((v) => ({
      variant: v.name,
      label: `${v.name}: time at the real portal's rate (standard plan: burst 50, 2/s)`,
      value: secondsAtRealRate(v.median.httpRequests ?? 0),
      unit: 's',
      formula: 'max(0, httpRequests - 50) / 2',
    }));
  const notes = [
    'Requests are counted by the bench\'s own proxy between each client and the emulator process (token refreshes under oauth, apart); the floor is the issue\'s ceil(write commands / 50) + ceil(records read / 2,500) + queue requests (event.offline.get and standalone event.offline.clear), with the write commands each variant sent and one record read per event.',
    `Wall time: from the variant's first request (the daemon's, after its start-up) or the start of the peer's work, to the answer of its last request carrying a CRM write. CPU: the variant's own process (the daemon's from /proc/<pid>/stat, utime+stime, from its first request to the queue being empty; a peer's from process.cpuUsage), apart from the emulator's (emulatorCpuMs) and the proxy's (in the bench process).`,
    'CPU/wall: the variant\'s CPU time over its wall time. Far below 100 % on a loaded machine (see the load average) the process mostly waited: for the portal, or for a core (the run shares 2 cores with the emulator, the proxy and whatever else runs).',
    'The emulator runs with --unthrottled (nothing refused for load); the daemon\'s client keeps its own limiter (B24_PLAN=enterprise: burst 250, 5/s), the SDK its enterprise preset; the naive loop has none.',
    'Every variant starts with the whole backlog already in the offline queue (leads created through the webhook while no one read the queue) and is checked on the portal afterwards: each lead\'s manager in its team, its score right, the queue empty (wrong: leads that are not).',
    ...Object.entries(last).map(([name, o]) => `${name} commands by method (last repetition): ${formatCommands(o.tally.commands)}`),
  ];
  return {
    name: 'daemon',
    title: `Daemon path: ${n.toLocaleString('en-US')} new-lead events through rules 03 and 09`,
    setup: `${n} new leads (a mix of the four teams of rules/03, none hot for rules/09) per variant and repetition, as ONCRMLEADADD records in the offline queue of one 'rules emulator --unthrottled' process; each variant in its own process; requests counted by the bench's proxy.`,
    repetitions: reps,
    metrics: [
      { key: 'httpRequests', label: 'HTTP requests', unit: '' },
      { key: 'batch', label: 'batch', unit: '' },
      { key: 'offlineGet', label: 'offline.get', unit: '' },
      { key: 'offlineClear', label: 'offline.clear', unit: '' },
      { key: 'other', label: 'other', unit: '' },
      { key: 'floor', label: 'floor', unit: '' },
      { key: 'writeCommands', label: 'write cmds', unit: '' },
      { key: 'wallMs', label: 'wall', unit: 'ms' },
      { key: 'cpuMs', label: 'CPU', unit: 'ms' },
      { key: 'cpuPerEventMs', label: 'CPU/event', unit: 'ms' },
      { key: 'cpuOfWallPct', label: 'CPU/wall', unit: '%' },
      { key: 'emulatorCpuMs', label: 'emulator CPU', unit: 'ms' },
      { key: 'wrongLeads', label: 'wrong', unit: '' },
    ],
    variants,
    ratios: [ratio(variants, 'wallMs', 'naive', 'engine'), ratio(variants, 'wallMs', 'sdk', 'engine'), ratio(variants, 'httpRequests', 'naive', 'engine'), ratio(variants, 'httpRequests', 'sdk', 'engine'), ratio(variants, 'cpuMs', 'naive', 'engine')],
    computed,
    notes,
    targets,
  };
}
