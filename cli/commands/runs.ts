/** `rules runs`: list rule runs from the journal in the state file. */
import { DEFAULT_STATE_PATH, formatRuns, openExistingState } from '../../engine/daemon/index.js';
import { redactValue } from '../../engine/redact.js';
import { FORMAT_OPTIONS, intOption, outputFormat, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';

const usage = `Usage: rules runs [--rule ID] [--failed] [--limit N] [--state PATH] [--format text|json]

List rule runs, newest first, from the daemon's journal.

Options:
  --rule ID      only runs of this rule
  --failed       only runs that ended failed or dead-lettered
  --limit N      at most N runs (default 50)
  --state PATH   state file (default ${DEFAULT_STATE_PATH})
  --format FORMAT  text (a table, the default) or json (one JSON array);
                 --json is the same as --format json
`;

const command: Command = {
  summary: 'list rule runs from the journal',
  usage,
  async run(argv) {
    const { values } = parse(argv, { rule: { type: 'string' }, failed: { type: 'boolean' }, limit: { type: 'string' }, state: { type: 'string' }, ...FORMAT_OPTIONS }, false);
    const format = outputFormat(values, ['text', 'json'], 'text');
    const limit = intOption('limit', values.limit, 1) ?? 50;
    const store = openExistingState(values.state ?? DEFAULT_STATE_PATH);
    try {
      const runs = store.runs.summaries({ ...(values.rule ? { ruleId: values.rule } : {}), failed: values.failed === true, limit });
      if (format === 'json') process.stdout.write(`${JSON.stringify(redactValue(runs), null, 2)}\n`);
      else process.stdout.write(formatRuns(runs));
      return EXIT.OK;
    } finally {
      store.close();
    }
  },
};

export default command;
