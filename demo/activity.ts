/**
 * The demo's simulated portal activity: people working in the CRM through the
 * portal (the emulator's incoming webhook of user 1, so their changes are
 * queued as offline events for the daemon): leads arrive from several
 * sources, a contact is typed in with a messy phone and name, a deal moves
 * through stages and is won, a website form is submitted to the daemon's
 * inbound webhook, and the morning stale-deal check runs (the demo does not
 * wait for 09:00; it stores that schedule tick itself).
 */
import { RateLimitError, type B24ClientApi, type B24Envelope, type Params } from '../engine/client/index.js';
import { systemClock, type Clock } from '../engine/clock.js';

export interface ActivityContext {
  /** A portal user's client (webhook of user 1). */
  user: B24ClientApi;
  /** The daemon's form hook for rules/01 (`.../hooks/forms/contact-us`) and its secret. */
  formUrl: string;
  formSecret: string;
  /** Store a schedule tick for a rule now (as the schedule source would at its time). */
  fireSchedule(ruleId: string): void;
  /** Print one line of what the portal user did. */
  say(text: string): void;
  /** Stop early (Ctrl-C). */
  signal: AbortSignal;
  /** What the user's retries after a rate-limit refusal wait on. @default systemClock */
  clock?: Clock;
  /**
   * Resolves once the rules have taken every change made so far. A deal is moved on only after that, as a person
   * sees the previous move handled first: the rules read the deal when they take its event, so two moves in quick
   * succession would show them only the second stage. @default resolves at once
   */
  settled?(): Promise<void>;
}

/** How a portal user's change outlasts the portal's request limit. */
export const ACTIVITY_DEFAULTS = {
  /** Pause before sending a refused change again, on top of the client's own bucket wait: one slot of the standard plan's 2/s. @default 500 ms */
  retryPauseMs: 500,
  /** Longest time (clock ms) a change keeps being sent again after refusals before it is reported as failed. @default 120000 ms */
  retryCeilingMs: 120_000,
};

/**
 * Call the portal as the user. The request limit is shared with the daemon, so a change may be refused with
 * 503 QUERY_LIMIT_EXCEEDED (RATE_LIMITED) or 429 OPERATION_TIME_LIMIT after the client's own retries: such a
 * refusal means nothing ran, so the change is sent again (the client's bucket, saturated by the refusal, waits
 * for the limit to drain first) until it is accepted or the ceiling passes. OVERLOAD_LIMIT (a block) is not retried.
 */
export async function userCall<T>(ctx: ActivityContext, method: string, params: Params): Promise<B24Envelope<T>> {
  const clock = ctx.clock ?? systemClock;
  const deadline = clock.now() + ACTIVITY_DEFAULTS.retryCeilingMs;
  for (;;) {
    try {
      return await ctx.user.call<T>(method, params);
    } catch (err) {
      const refusedForLoad = err instanceof RateLimitError && err.code !== 'OVERLOAD_LIMIT';
      if (!refusedForLoad || ctx.signal.aborted || clock.now() >= deadline) throw err;
      await clock.sleep(ACTIVITY_DEFAULTS.retryPauseMs);
    }
  }
}

export interface ActivityStep {
  /** Seconds after the start. */
  at: number;
  run(ctx: ActivityContext, state: Record<string, unknown>): Promise<void>;
}

async function addLead(ctx: ActivityContext, fields: Record<string, unknown>, what: string): Promise<number> {
  const id = Number((await userCall<number>(ctx, 'crm.lead.add', { fields })).result);
  ctx.say(`new lead #${id} ${what}`);
  return id;
}

async function moveDeal(ctx: ActivityContext, id: number, stage: string): Promise<void> {
  await ctx.settled?.();
  if (ctx.signal.aborted) return;
  await userCall(ctx, 'crm.deal.update', { id, fields: { STAGE_ID: stage } });
  ctx.say(`deal #${id} moved to ${stage}`);
}

/** The scripted minute of activity, then a new lead every 15 s. */
export const SCRIPT: ActivityStep[] = [
  {
    at: 1,
    run: async (ctx) => {
      await addLead(ctx, { TITLE: 'Website: pricing request', NAME: 'Maria', LAST_NAME: 'Lopez', SOURCE_ID: 'WEB', STATUS_ID: 'NEW', OPPORTUNITY: 120000, CURRENCY_ID: 'USD', EMAIL: [{ VALUE: 'maria.lopez@acme.example', VALUE_TYPE: 'WORK' }], PHONE: [{ VALUE: '+49 30 1234567', VALUE_TYPE: 'WORK' }] }, '"Website: pricing request" (source WEB, e-mail and phone)');
    },
  },
  {
    at: 2,
    run: async (ctx) => {
      await addLead(ctx, { TITLE: 'Partner referral: Globex fleet', NAME: 'Tom', LAST_NAME: 'Baker', SOURCE_ID: 'PARTNER', STATUS_ID: 'NEW', OPPORTUNITY: 450000, CURRENCY_ID: 'USD', EMAIL: [{ VALUE: 'tom@globex.example', VALUE_TYPE: 'WORK' }] }, '"Partner referral: Globex fleet" (source PARTNER, 450,000)');
    },
  },
  {
    at: 3,
    run: async (ctx) => {
      await addLead(ctx, { TITLE: 'Inbound call: 40 warehouse licences', NAME: 'Hans', LAST_NAME: 'Weber', SOURCE_ID: 'CALL', STATUS_ID: 'NEW', OPPORTUNITY: 1500000, CURRENCY_ID: 'USD', COMPANY_TITLE: 'Initech Software', PHONE: [{ VALUE: '+49 89 7654321', VALUE_TYPE: 'WORK' }] }, '"Inbound call: 40 warehouse licences" (source CALL, 1,500,000)');
    },
  },
  {
    at: 4,
    run: async (ctx) => {
      await addLead(ctx, { TITLE: 'Ad click: newsletter signup', NAME: 'Lea', SOURCE_ID: 'ADVERTISING', STATUS_ID: 'NEW', EMAIL: [{ VALUE: 'LEA.K@Example.com', VALUE_TYPE: 'HOME' }] }, '"Ad click: newsletter signup" (source ADVERTISING)');
    },
  },
  {
    at: 6,
    run: async (ctx) => {
      const id = Number((await userCall<number>(ctx, 'crm.contact.add', { fields: { NAME: 'ivan', LAST_NAME: 'PETROV', PHONE: [{ VALUE: '8 (916) 555-12-34', VALUE_TYPE: 'WORK' }], EMAIL: [{ VALUE: 'Ivan.Petrov@Example.COM', VALUE_TYPE: 'WORK' }] } })).result);
      ctx.say(`new contact #${id} typed in as "ivan PETROV", phone "8 (916) 555-12-34"`);
    },
  },
  {
    at: 8,
    run: async (ctx, state) => {
      const list = await userCall<Array<{ ID: string; TITLE: string }>>(ctx, 'crm.deal.list', { filter: { CATEGORY_ID: 0, STAGE_ID: 'NEW' }, order: { ID: 'DESC' }, select: ['ID', 'TITLE'] });
      let deal = list.result[0];
      if (!deal) {
        const id = Number((await userCall<number>(ctx, 'crm.deal.add', { fields: { TITLE: 'CRM rollout for Globex', CATEGORY_ID: 0, STAGE_ID: 'NEW', OPPORTUNITY: 80000, CURRENCY_ID: 'USD', ASSIGNED_BY_ID: 3 } })).result);
        deal = { ID: String(id), TITLE: 'CRM rollout for Globex' };
      }
      state.deal = Number(deal.ID);
      await moveDeal(ctx, Number(deal.ID), 'PREPARATION');
    },
  },
  {
    at: 10,
    run: async (ctx) => {
      const body = {
        submission_id: `demo-${Date.now()}`,
        form_name: 'Contact us',
        name: ' Sofia ',
        last_name: 'Rossi',
        phone: '+39 02 1234 5678',
        email: 'Sofia.Rossi@Example.com',
        company: 'Rossi Logistica',
        message: 'We need a CRM for 25 people',
        utm_source: 'google',
        website: '',
      };
      const res = await fetch(ctx.formUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-rules-secret': ctx.formSecret }, body: JSON.stringify(body), signal: ctx.signal });
      ctx.say(`website form "Contact us" submitted by Sofia Rossi → daemon answered ${res.status}`);
    },
  },
  {
    at: 14,
    run: async (ctx, state) => {
      if (typeof state.deal === 'number') await moveDeal(ctx, state.deal, 'PREPAYMENT_INVOICE');
    },
  },
  {
    at: 17,
    run: async (ctx) => {
      ctx.say('it is "09:00": the stale-deal check runs over deals nobody touched for weeks (the demo does not wait for the schedule)');
      ctx.fireSchedule('stale-deals');
    },
  },
  {
    at: 20,
    run: async (ctx, state) => {
      const id = Number((await userCall<number>(ctx, 'crm.deal.add', { fields: { TITLE: 'Fleet tracking for Globex', CATEGORY_ID: 0, STAGE_ID: 'NEW', OPPORTUNITY: 6400000, CURRENCY_ID: 'USD', ASSIGNED_BY_ID: 3 } })).result);
      state.bigDeal = id;
      ctx.say(`new deal #${id} "Fleet tracking for Globex" (6,400,000)`);
    },
  },
  {
    at: 24,
    run: async (ctx, state) => {
      if (typeof state.deal === 'number') await moveDeal(ctx, state.deal, 'WON');
    },
  },
];

const TICKER_SOURCES = ['WEB', 'CALL', 'EMAIL', 'PARTNER', 'ADVERTISING'];

export interface ActivityOptions {
  /** Seconds between the generator's leads after the script. @default 15 */
  everySeconds?: number;
  /** @default SCRIPT */
  script?: ActivityStep[];
  /** Multiplies the delays. @default 1 */
  timeScale?: number;
  /** Called once every scripted step has run (each done, or reported as failed), before the generator's leads. */
  onScripted?: () => void;
}

/** Run the script, then keep adding a lead every `everySeconds` until aborted. */
export async function runActivity(ctx: ActivityContext, options: ActivityOptions = {}): Promise<void> {
  const script = options.script ?? SCRIPT;
  const scale = options.timeScale ?? 1;
  const every = (options.everySeconds ?? 15) * scale;
  const state: Record<string, unknown> = {};
  const start = Date.now();
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      const t = setTimeout(resolve, Math.max(0, ms));
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  for (const step of script) {
    await wait(start + step.at * 1000 * scale - Date.now());
    if (ctx.signal.aborted) return;
    try {
      await step.run(ctx, state);
    } catch (err) {
      if (!ctx.signal.aborted) ctx.say(`(a simulated change failed: ${(err as Error).message})`);
    }
  }
  options.onScripted?.();
  for (let n = 1; !ctx.signal.aborted; n++) {
    await wait(every * 1000);
    if (ctx.signal.aborted) return;
    const source = TICKER_SOURCES[n % TICKER_SOURCES.length] as string;
    try {
      await addLead(ctx, { TITLE: `${source === 'CALL' ? 'Call' : 'Request'} #${n}`, NAME: `Prospect ${n}`, SOURCE_ID: source, STATUS_ID: 'NEW', OPPORTUNITY: (n % 4) * 150000, CURRENCY_ID: 'USD', PHONE: [{ VALUE: `+7 495 ${100 + n} ${10 + n} ${20 + n}`, VALUE_TYPE: 'WORK' }] }, `"${source === 'CALL' ? 'Call' : 'Request'} #${n}" (source ${source})`);
    } catch (err) {
      if (!ctx.signal.aborted) ctx.say(`(a simulated change failed: ${(err as Error).message})`);
    }
  }
}
