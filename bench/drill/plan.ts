/**
 * What a drill run does, decided up front from its seed and sizes: the leads
 * of the backlog, the form posts, the disturbances (kill -9s, the SIGTERM,
 * the rate-limit storm, the hostile payloads) and when each comes, and the
 * fault segments. A pure function: the same seed and sizes give the same plan,
 * which is what `--seed N` replays. Moments are fractions of the backlog's
 * progress (share of the backlog's effects present), not wall-clock times, so a replay
 * on a slower or faster machine disturbs the same stage of the work.
 */
import type { DrillArgs } from './args.js';
import { Random } from './random.js';

/** One lead of the backlog: created on the portal (raising ONCRMLEADADD) before the disturbances start. */
export interface LeadSpec {
  title: string;
  name: string;
  lastName: string;
  /** Personal data, as a web form would fill it: it ends up in the state file. */
  email: string;
  phone: string;
}

/** One form submission, posted to `/hooks/drill/form` once the backlog's progress reaches `at`. */
export interface FormSpec {
  n: number;
  at: number;
  body: { n: number; name: string; email: string; phone: string; message: string };
}

/** A disturbance, done in plan order once the backlog's progress reaches `at`. */
export type Step =
  /** kill -9 the daemon and start it again after `restartDelayMs`. `duringStartUp`: fire `afterSpawnMs` after the last start instead of at a progress (right after the kill before it, so it lands while the daemon starts). */
  | { kind: 'kill'; at: number; restartDelayMs: number; duringStartUp?: { afterSpawnMs: number } }
  /** SIGTERM under load: the daemon must drain and exit 0 within 10 s; started again after `restartDelayMs`. */
  | { kind: 'term'; at: number; restartDelayMs: number }
  /** A second client floods the portal's rate limit (the same bucket: the same address) for `seconds`. */
  | { kind: 'storm'; at: number; seconds: number }
  /** Hostile payloads to the daemon's receivers, while it works (no kill meanwhile). */
  | { kind: 'payloads'; at: number }
  /** The answer to one `event.offline.get` is lost after the portal reserved its batch, once the backlog is done; nothing else happens to the daemon until that batch is cleared (or the limit passed). */
  | { kind: 'lose-answer'; at: number };

/** A stretch of time with one way of dropping connections and one latency. */
export interface FaultSegment {
  ms: number;
  /** `before`: a dropped call does not run; `after`: it runs and only its answer is lost. */
  dropWhen: 'before' | 'after';
  latencyMs: number;
}

/** Leads created right before the lost answer, per attempt (at most three). */
export const LATE_LEADS = 10;

/** Fault rates of the whole backlog (the outside drill's: 10 % 500s, 5 % dropped connections). */
export const FAULT_RATES = { errorRate: 0.1, dropRate: 0.05 } as const;

const LATENCIES = [0, 0, 0, 20, 100, 400, 800] as const;
const FIRST = ['Anna', 'Boris', 'Chloé', 'Dmitri', 'Elif', 'Femi', 'Greta', 'Hiro', 'Ines', 'Jonas', 'Kateryna', 'Luis', 'Mei', 'Nadia', 'Olek', 'Priya'];
const LAST = ['Ivanova', 'Schmidt', 'García', 'Okafor', 'Nguyen', 'Kowalski', 'Rossi', 'Yilmaz', 'Dubois', 'Sato', 'Haddad', 'Larsen'];

export interface DrillPlan {
  seed: number;
  leads: LeadSpec[];
  /** Leads added just before the lost answer, `LATE_LEADS` per attempt (their events are what the lost get reserves). */
  lateLeads: LeadSpec[];
  forms: FormSpec[];
  steps: Step[];
  /** Enough segments for the longest run; the drill cycles through them. */
  faultSegments: FaultSegment[];
  /** Seed of the emulator's fault RNG. */
  faultSeed: number;
  /** Streams of the fuzzers. */
  ruleFuzzSeed: number;
  payloadSeed: number;
}

function person(rng: Random, tag: string): { name: string; lastName: string; email: string; phone: string } {
  const name = rng.pick(FIRST);
  const lastName = rng.pick(LAST);
  const email = `${name.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase()}.${lastName.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase()}.${tag}@example.test`;
  const phone = `+4930${rng.string(7, '0123456789')}`;
  return { name, lastName, email, phone };
}

/** The plan of a run: a pure function of `seed` and the sizes in `args`. */
export function planDrill(seed: number, args: Pick<DrillArgs, 'events' | 'kills' | 'forms' | 'payloads' | 'stormSeconds'>): DrillPlan {
  const root = new Random(seed);
  const people = root.fork('people');
  const leads: LeadSpec[] = Array.from({ length: args.events }, (_, i) => {
    const p = person(people, `l${i}`);
    return { title: `Drill lead ${i}`, ...p };
  });
  const lateRng = root.fork('late-people');
  const lateLeads: LeadSpec[] = Array.from({ length: 3 * LATE_LEADS }, (_, i) => ({ title: `Drill late lead ${i}`, ...person(lateRng, `x${i}`) }));
  const formRng = root.fork('forms');
  const forms: FormSpec[] = Array.from({ length: args.forms }, (_, n) => {
    const p = person(formRng, `f${n}`);
    return { n, at: formRng.between(0, 0.9), body: { n, name: `${p.name} ${p.lastName}`, email: p.email, phone: p.phone, message: `Drill form ${n}: please call back` } };
  }).sort((a, b) => a.at - b.at || a.n - b.n);

  const stepRng = root.fork('steps');
  const steps: Step[] = [];
  const kills = Array.from({ length: args.kills }, () => stepRng.between(0.03, 0.9)).sort((a, b) => a - b);
  for (let i = 0; i < kills.length; i++) {
    const at = kills[i] as number;
    const restartDelayMs = stepRng.int(0, 500);
    // About one kill in four lands while the daemon starts, right after the kill before it.
    if (i > 0 && stepRng.chance(0.25)) steps.push({ kind: 'kill', at: kills[i - 1] as number, restartDelayMs, duringStartUp: { afterSpawnMs: stepRng.int(100, 2500) } });
    else steps.push({ kind: 'kill', at, restartDelayMs });
  }
  steps.push({ kind: 'term', at: stepRng.between(0.3, 0.6), restartDelayMs: stepRng.int(0, 500) });
  if (args.stormSeconds > 0) steps.push({ kind: 'storm', at: stepRng.between(0.1, 0.5), seconds: args.stormSeconds });
  if (args.payloads > 0) steps.push({ kind: 'payloads', at: stepRng.between(0.5, 0.8) });
  // Last, once the work is done and the queue empty: every reservation a killed daemon left is recovered and cleared
  // by then, so the get whose answer is lost is a reserving one, not a re-read.
  steps.push({ kind: 'lose-answer', at: 1 });
  // Stable: a start-up kill stays right after the kill it follows.
  steps.sort((a, b) => a.at - b.at);

  const faultRng = root.fork('faults');
  const faultSegments: FaultSegment[] = Array.from({ length: 200 }, () => ({
    ms: faultRng.int(2000, 8000),
    dropWhen: faultRng.chance(0.5) ? 'before' : 'after',
    latencyMs: faultRng.pick(LATENCIES),
  }));
  return {
    seed,
    leads,
    lateLeads,
    forms,
    steps,
    faultSegments,
    faultSeed: faultRng.int(1, 2 ** 31 - 1),
    ruleFuzzSeed: root.fork('rule-fuzz').int(1, 2 ** 31 - 1),
    payloadSeed: root.fork('payloads').int(1, 2 ** 31 - 1),
  };
}

/** One line that says what the plan does. */
export function describePlan(plan: DrillPlan, args: Pick<DrillArgs, 'ruleFiles' | 'payloads' | 'tokenTtlSeconds'>): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const kills = plan.steps.filter((s) => s.kind === 'kill');
  const parts = [
    `${plan.leads.length} lead events + ${plan.forms.length} form posts`,
    `${kills.length} kill -9 (at ${kills.map((k) => (k.kind === 'kill' && k.duringStartUp ? `start-up+${k.duringStartUp.afterSpawnMs}ms` : pct(k.at))).join(', ') || 'none'})`,
    ...plan.steps.filter((s) => s.kind === 'term').map((s) => `SIGTERM at ${pct(s.at)}`),
    ...plan.steps.filter((s) => s.kind === 'storm').map((s) => `rate-limit storm ${s.kind === 'storm' ? s.seconds : 0} s at ${pct(s.at)}`),
    `faults ${FAULT_RATES.errorRate * 100}% 500s, ${FAULT_RATES.dropRate * 100}% dropped connections (before and after the call ran), latency 0-800 ms`,
    `${args.tokenTtlSeconds} s tokens`,
    `${args.ruleFiles} mutated rule files`,
    `${args.payloads} hostile payloads${plan.steps.some((s) => s.kind === 'payloads') ? ` at ${pct(plan.steps.find((s) => s.kind === 'payloads')?.at ?? 0)}` : ''}`,
    ...plan.steps.filter((s) => s.kind === 'lose-answer').map((s) => `a lost event.offline.get answer at ${pct(s.at)}`),
  ];
  return parts.join('; ');
}
