/**
 * The daemon's source registry: a test plug-in registered beside the built-in
 * ones is attached after them (and sees them), serves its route on the
 * daemon's server, acknowledges after each tick, is offered every reloaded
 * rule set (its refusal keeps the running set everywhere: no new schedule, no
 * new hook, the engine's rules unchanged), and is detached on stop (a source
 * without routes before the drain, a receiver after the last
 * acknowledgement). The daemon runs in-process with manual timers; no rule
 * calls the portal.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientConfig } from '../../engine/client/types.js';
import { createDaemon, type Daemon } from '../../engine/daemon/daemon.js';
import type { CompiledRule } from '../../engine/rules/types.js';
import { DAEMON_SOURCES, type AttachContext, type SourceHandle, type SourcePlugin } from '../../engine/sources/index.js';
import { ManualClock, ManualTimers, memoryLogger } from '../sources/helpers.js';
import { tempDir, writeRule } from './harness.js';

/** Webhook auth to an address nothing listens on: only the offline source would call the portal, and it needs OAuth. */
const CONFIG: ClientConfig = { baseUrl: 'http://127.0.0.1:9', plan: 'standard', auth: { mode: 'webhook', userId: '1', code: 'registrytest1' } };

const MANUAL_RULE = 'id: by-hand\ntrigger: { manual: {} }\nactions:\n  - notify: { user: 1, message: hi }\n';
const LATE_RULES = `id: late-schedule
trigger: { schedule: { cron: "* * * * *", timezone: UTC } }
dedupe: "late:{{ schedule.at }}"
actions:
  - notify: { user: 1, message: tick }
---
id: late-hook
trigger: { webhook: { path: /late } }
actions:
  - notify: { user: 1, message: hook }
`;

interface Probe {
  plugin: SourcePlugin;
  log: string[];
  contexts: AttachContext[];
  offered: CompiledRule[][];
  applied: CompiledRule[][];
  refuse: boolean;
}

/** A plug-in that records what the daemon asks of it; with `route`, it is a receiver answering that path. */
function probe(kind: string, log: string[], route?: string): Probe {
  const p: Probe = {
    log,
    contexts: [],
    offered: [],
    applied: [],
    refuse: false,
    plugin: {
      kind,
      triggers: ['manual'],
      applies: () => true,
      async attach(ctx) {
        p.contexts.push(ctx);
        log.push(`${kind}:attach`);
        const handle: SourceHandle = {
          kind,
          async detach() {
            log.push(`${kind}:detach`);
          },
          async acknowledge() {
            log.push(`${kind}:acknowledge`);
          },
          rulesChanged(rules) {
            p.offered.push(rules);
            if (p.refuse) throw new Error(`${kind} refuses this rule set`);
            return () => {
              p.applied.push(rules);
            };
          },
          ...(route
            ? {
                routes: [
                  (_req, res, url) => {
                    if (url.pathname !== route) return false;
                    res.writeHead(200, { 'content-type': 'text/plain' });
                    res.end(kind);
                    return true;
                  },
                ],
              }
            : {}),
        };
        return handle;
      },
    },
  };
  return p;
}

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

function setup(plugins: (log: string[]) => SourcePlugin[]) {
  const dir = tempDir('b24-registry-');
  const rulesDir = join(dir, 'rules');
  mkdirSync(rulesDir);
  writeRule(rulesDir, 'manual.yaml', MANUAL_RULE);
  const timers = new ManualTimers();
  const { logger, records } = memoryLogger();
  const log: string[] = [];
  const d = createDaemon({
    rulesPaths: [rulesDir],
    statePath: join(dir, 'state.db'),
    config: CONFIG,
    logger,
    listen: '127.0.0.1:0',
    watch: false,
    clock: new ManualClock(Date.UTC(2026, 0, 5, 9)),
    timers,
    sources: plugins(log),
  });
  daemon = d;
  /** One tick of the loop: wake it if it sleeps, wait for the tick to end. */
  const tick = async () => {
    const next = d.nextTick();
    timers.runAll();
    await next;
  };
  return { d, dir, rulesDir, timers, log, records, tick };
}

describe('the daemon source registry', () => {
  it('attaches, reloads, acknowledges and detaches a registered plug-in beside the built-in ones', { timeout: 120_000 }, async () => {
    let puller!: Probe;
    let receiver!: Probe;
    const { d, rulesDir, log, tick, timers } = setup((log) => {
      puller = probe('puller', log);
      receiver = probe('receiver', log, '/probe');
      return [...DAEMON_SOURCES, puller.plugin, receiver.plugin];
    });
    await d.start();

    // Attached once each, after the built-in ones that apply (no offline: webhook auth; no outgoing: no token).
    expect(log).toEqual(['puller:attach', 'receiver:attach']);
    const health = (await (await fetch(`${d.url}/healthz`)).json()) as { sources: string[] };
    expect(health.sources).toEqual(['schedule', 'form', 'puller', 'receiver']);
    const ctx = receiver.contexts[0]!;
    expect(ctx.rules.map((r) => r.id)).toEqual(['by-hand']);
    expect(ctx.attached('schedule')?.kind).toBe('schedule');
    expect(ctx.attached('puller')?.kind).toBe('puller');
    expect(ctx.attached('offline')).toBeUndefined();

    // Its route is served on the daemon's server; the built-in form hooks still answer theirs.
    const res = await fetch(`${d.url}/probe`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('receiver');
    expect((await fetch(`${d.url}/hooks/nowhere`, { method: 'POST' })).status).toBe(404);

    // Every source acknowledges after a tick.
    log.length = 0;
    await tick();
    expect(log).toEqual(['puller:acknowledge', 'receiver:acknowledge']);

    // A reload offers the new set to every source, then applies it.
    writeRule(rulesDir, 'second.yaml', 'id: second\ntrigger: { manual: {} }\nactions:\n  - notify: { user: 1, message: two }\n');
    expect(await d.reload()).toBe(true);
    expect(receiver.offered.map((rs) => rs.map((r) => r.id).sort())).toEqual([['by-hand', 'second']]);
    expect(receiver.applied).toHaveLength(1);
    expect(puller.applied).toHaveLength(1);
    expect(d.rules.map((r) => r.id).sort()).toEqual(['by-hand', 'second']);

    // The receiver refuses the next set: the whole set is refused and nothing takes it.
    receiver.refuse = true;
    writeFileSync(join(rulesDir, 'late.yaml'), LATE_RULES);
    expect(await d.reload()).toBe(false);
    expect(receiver.offered).toHaveLength(2);
    expect(receiver.applied).toHaveLength(1);
    expect(puller.applied).toHaveLength(1);
    expect(d.rules.map((r) => r.id).sort()).toEqual(['by-hand', 'second']);
    expect((await fetch(`${d.url}/hooks/late`, { method: 'POST' })).status).toBe(404);
    timers.runAll();
    expect(d.store.schedules.getLastFire('late-schedule')).toBeNull();
    expect((await (await fetch(`${d.url}/metrics`)).text())).toMatch(/^b24rules_rule_reloads_total\{outcome="refused"\} 1$/m);

    // Stop: the puller is detached first; the receiver only after the last acknowledgement.
    log.length = 0;
    await d.stop();
    daemon = undefined;
    expect(log.filter((l) => l.endsWith(':detach'))).toEqual(['puller:detach', 'receiver:detach']);
    expect(log.indexOf('puller:detach')).toBeLessThan(log.lastIndexOf('receiver:acknowledge'));
    expect(log.at(-1)).toBe('receiver:detach');
  });

  it('a plug-in that fails to attach fails the start and the plug-ins attached before it are detached', { timeout: 120_000 }, async () => {
    let first!: Probe;
    const { d, log } = setup((log) => {
      first = probe('first', log, '/first');
      const broken: SourcePlugin = {
        kind: 'broken',
        triggers: [],
        applies: () => true,
        attach: async () => {
          throw new Error('cannot attach');
        },
      };
      return [...DAEMON_SOURCES, first.plugin, broken];
    });
    await expect(d.start()).rejects.toThrow('cannot attach');
    expect(log).toEqual(['first:attach', 'first:detach']);
    expect(d.url).toBeNull();
  });

  it('refuses a registry with two plug-ins of the same kind', () => {
    expect(() => setup((log) => [...DAEMON_SOURCES, probe('schedule', log).plugin])).toThrow(expect.objectContaining({ code: 'SOURCE_REGISTRY_INVALID' }));
  });
});
