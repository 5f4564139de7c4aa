/**
 * The engine object the daemon, `rules apply` and dry-run hold: its rules, its
 * counters, and the conductor's `tick` and `planItems` over them.
 */
import { silentLogger } from '../logger.js';
import { registerSecret } from '../redact.js';
import type { CompiledRule } from '../rules/index.js';
import { planItems, planTick, tick } from './conductor.js';
import { DEFAULTS, newTick, type EngineDeps } from './context.js';
import { createStats } from './stats.js';
import type { CreateEngineOptions, Engine, TickReport } from './types.js';

/** Names of environment variables whose values are treated as secrets. */
const SECRET_ENV_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH/i;

/** Create the engine over a state store, a REST client and compiled rules. */
export function createEngine(o: CreateEngineOptions): Engine {
  const { env, ...tuning } = o.options ?? {};
  const deps: EngineDeps = {
    store: o.store,
    client: o.client,
    now: o.clock ?? o.store.now,
    logger: o.logger ?? silentLogger,
    http: o.http ?? (globalThis.fetch as unknown as EngineDeps['http']),
    tuning: { ...DEFAULTS, ...Object.fromEntries(Object.entries(tuning).filter(([, v]) => v !== undefined)) },
    stats: createStats(),
    env: env ?? process.env,
    lookedUp: new Map(),
  };
  let rules = new Map<string, CompiledRule>();
  let ticking: Promise<TickReport> | undefined;
  const engine: Engine = {
    mode: o.mode ?? 'run',
    stats: deps.stats,
    rules: () => [...rules.values()],
    setRules(next) {
      rules = new Map(next.map((r) => [r.id, r]));
      // Environment values with secret-looking names (API keys, tokens, shared secrets) never reach a log line or a trace.
      for (const r of next) for (const name of r.env) if (SECRET_ENV_NAME.test(name)) registerSecret(deps.env[name]);
    },
    // One tick at a time: a second call while one runs gets the same promise (a concurrent tick would take in-flight calls for in-doubt ones).
    tick: () => (ticking ??= (engine.mode === 'plan' ? planTick : tick)(newTick(deps, rules)).finally(() => (ticking = undefined))),
    planItems: (items) => planItems(newTick(deps, rules), items),
  };
  engine.setRules(o.rules);
  return engine;
}
