/** `rules trace RUN_ID`: one run's trace (trigger, loaded data, condition, planned and sent calls). */
import { DEFAULT_STATE_PATH, formatTrace, openExistingState, printJson, traceJson } from '../../engine/daemon/index.js';
import { B24RulesError, UsageError } from '../../engine/errors.js';
import { FORMAT_OPTIONS, intOption, outputFormat, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';

const usage = `Usage: rules trace RUN_ID [--state PATH] [--full] [--format text|json]

Show the trace of one rule run: what triggered it, what it loaded, how the
condition came out, and every call it planned and sent with the answers.

Options:
  --state PATH     state file (default ${DEFAULT_STATE_PATH})
  --full           text: also the empty (null) fields of loaded records, and
                   the trace's own copy of the calls listed under Calls
  --format FORMAT  text (default) or json (the run, its whole trace and its
                   calls); --json is the same as --format json
`;

const command: Command = {
  summary: 'show the trace of one rule run',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { state: { type: 'string' }, full: { type: 'boolean' }, ...FORMAT_OPTIONS });
    const format = outputFormat(values, ['text', 'json'], 'text');
    if (positionals.length !== 1) throw new UsageError('trace takes exactly one RUN_ID (see rules runs)');
    const id = intOption('RUN_ID', positionals[0], 1) as number;
    const store = openExistingState(values.state ?? DEFAULT_STATE_PATH);
    try {
      const run = store.runs.get(id);
      if (!run) throw new B24RulesError('RUN_NOT_FOUND', `no run ${id} in ${store.path}; list runs with: rules runs`, { kind: 'user' });
      const effects = store.effects.forRun(id);
      if (format === 'json') {
        process.stdout.write(printJson(traceJson(run, effects)));
      } else {
        process.stdout.write(formatTrace(run, effects, { full: values.full === true }));
      }
      return EXIT.OK;
    } finally {
      store.close();
    }
  },
};

export default command;
