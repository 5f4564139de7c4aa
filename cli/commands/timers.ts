/** `rules timers`: list or cancel the timers in the state file (delays, for: durations). */
import { DEFAULT_STATE_PATH, formatTimers, openExistingState, timerWhat } from '../../engine/daemon/index.js';
import { B24RulesError, UsageError } from '../../engine/errors.js';
import { cancelTimer } from '../../engine/pipeline/index.js';
import { redactValue } from '../../engine/redact.js';
import type { TimerState } from '../../engine/store/index.js';
import { closest } from '../../engine/suggest.js';
import { FORMAT_OPTIONS, intOption, outputFormat, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';

const usage = `Usage: rules timers list [--rule ID] [--all | --status pending|fired|cancelled] [--limit N]
       rules timers cancel ID
       (both: --state PATH, default ${DEFAULT_STATE_PATH}; --format text|json,
       --json being the same as --format json)

Timers are what rules wait on: a delay: action (the run goes on when it
fires), the for: of a trigger (the rule runs when the record stayed in the
state that long). 'list' shows the pending ones, newest first (--all: every
state). 'cancel' cancels a pending timer: a delayed run ends skipped (its
journal says so), a for: timer does not fire. A running daemon sees the
cancellation at its next tick.
`;

const VERBS = ['list', 'cancel'];
const STATES: readonly TimerState[] = ['pending', 'fired', 'cancelled'];

const command: Command = {
  summary: 'list or cancel timers (delays, for: durations)',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { state: { type: 'string' }, status: { type: 'string' }, all: { type: 'boolean' }, rule: { type: 'string' }, limit: { type: 'string' }, ...FORMAT_OPTIONS });
    const format = outputFormat(values, ['text', 'json'], 'text');
    const [verb, arg, ...extra] = positionals;
    if (verb === undefined) throw new UsageError('timers needs a subcommand: list, or cancel ID');
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (!VERBS.includes(verb)) {
      const guess = closest(verb, VERBS);
      throw new UsageError(`unknown timers subcommand '${verb}'${guess ? `; did you mean '${guess}'?` : '.'} Use list or cancel`);
    }
    const wanted = values.status;
    if (wanted !== undefined && !STATES.includes(wanted as TimerState)) throw new UsageError(`--status must be one of ${STATES.join(', ')}; got '${wanted}'`);
    const limit = intOption('limit', values.limit, 1) ?? 100;
    const out = (text: string, json: unknown) => process.stdout.write(format === 'json' ? `${JSON.stringify(redactValue(json), null, 2)}\n` : text);
    const store = openExistingState(values.state ?? DEFAULT_STATE_PATH);
    try {
      if (verb === 'list') {
        if (arg !== undefined) throw new UsageError(`unexpected argument '${arg}'`);
        const state = values.all ? undefined : ((wanted as TimerState | undefined) ?? 'pending');
        const timers = store.timers.list({ ...(state ? { state } : {}), ...(values.rule ? { ruleId: values.rule } : {}), limit });
        out(formatTimers(timers), timers);
        return EXIT.OK;
      }
      if (arg === undefined) throw new UsageError('timers cancel needs a timer ID (see rules timers list)');
      const id = intOption('ID', arg, 1) as number;
      if (!store.timers.get(id)) throw new B24RulesError('TIMER_NOT_FOUND', `no timer ${id} in ${store.path}; list timers with: rules timers list --all`, { kind: 'user' });
      const { timer, cancelled } = cancelTimer(store, id, 'cancelled by an operator (rules timers cancel)');
      if (!cancelled) throw new B24RulesError('TIMER_NOT_PENDING', `timer ${id} is ${timer.state}${timer.note ? ` (${timer.note})` : ''}: only a pending timer can be cancelled`, { kind: 'user' });
      const run = timer.runId !== null ? `; run ${timer.runId} ends skipped (rules trace ${timer.runId})` : '';
      out(`Cancelled timer ${id} (${timerWhat(timer)}, rule ${timer.ruleId}, ${timer.recordKey || 'no record'})${run}.\n`, { cancelled: [id], run: timer.runId });
      return EXIT.OK;
    } finally {
      store.close();
    }
  },
};

export default command;
