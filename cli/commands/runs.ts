/** `rules runs`: list rule runs from the journal in the state file. */
import { DEFAULT_STATE_PATH, formatRuns, formatWaiting, openExistingState, printJson, runsJson, waitingJson } from '../../engine/daemon/index.js';
import { UsageError } from '../../engine/errors.js';
import type { RunMode, RunStatus } from '../../engine/store/index.js';
import { FORMAT_OPTIONS, intOption, outputFormat, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';

const usage = `Usage: rules runs [--rule ID] [--failed | --waiting] [--mode live|shadow] [--limit N] [--state PATH] [--format text|json]

List rule runs, newest first, from the daemon's journal.

Options:
  --rule ID      only runs of this rule
  --failed       only runs that ended failed or dead-lettered
  --waiting      only runs waiting: on a timer (a delay: action; status
                 delayed), for a retry (waiting) or to start (new), with
                 what they wait for and until when
  --mode MODE    only live runs, or only shadow runs (of mode: shadow rules:
                 their calls journaled, never sent; STATUS says "(shadow)")
  --limit N      at most N runs (default 50)
  --state PATH   state file (default ${DEFAULT_STATE_PATH})
  --format FORMAT  text (a table, the default) or json (one JSON array);
                 --json is the same as --format json
`;

const command: Command = {
  summary: 'list rule runs from the journal',
  usage,
  async run(argv) {
    const { values } = parse(argv, { rule: { type: 'string' }, failed: { type: 'boolean' }, waiting: { type: 'boolean' }, mode: { type: 'string' }, limit: { type: 'string' }, state: { type: 'string' }, ...FORMAT_OPTIONS }, false);
    const format = outputFormat(values, ['text', 'json'], 'text');
    const limit = intOption('limit', values.limit, 1) ?? 50;
    if (values.mode !== undefined && values.mode !== 'live' && values.mode !== 'shadow') throw new UsageError(`--mode must be live or shadow; got '${values.mode}'`);
    const store = openExistingState(values.state ?? DEFAULT_STATE_PATH);
    try {
      if (values.waiting && values.failed) throw new UsageError('--waiting and --failed exclude each other');
      const runs = store.runs.summaries({ ...(values.rule ? { ruleId: values.rule } : {}), failed: values.failed === true, ...(values.mode ? { mode: values.mode as RunMode } : {}), ...(values.waiting ? { status: ['delayed', 'waiting', 'new'] as RunStatus[] } : {}), limit });
      if (values.waiting) {
        const timerOf = (id: number) => store.timers.pendingOfRun(id);
        process.stdout.write(format === 'json' ? printJson(waitingJson(runs, timerOf)) : formatWaiting(runs, timerOf));
      } else if (format === 'json') process.stdout.write(printJson(runsJson(runs)));
      else process.stdout.write(formatRuns(runs));
      return EXIT.OK;
    } finally {
      store.close();
    }
  },
};

export default command;
