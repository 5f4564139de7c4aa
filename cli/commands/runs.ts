/** `rules runs`: list rule runs from the journal in the state file. */
import { DEFAULT_STATE_PATH, formatRuns, openExistingState } from '../../engine/daemon/index.js';
import { redactValue } from '../../engine/redact.js';
import { intOption, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';

const usage = `Usage: rules runs [--rule ID] [--failed] [--limit N] [--state PATH] [--json]

List rule runs, newest first, from the daemon's journal.

Options:
  --rule ID      only runs of this rule
  --failed       only runs that ended failed or dead-lettered
  --limit N      at most N runs (default 50)
  --state PATH   state file (default ${DEFAULT_STATE_PATH})
  --json         one JSON array instead of a table
`;

const command: Command = {
  summary: 'list rule runs from the journal',
  usage,
  async run(argv) {
    const { values } = parse(argv, { rule: { type: 'string' }, failed: { type: 'boolean' }, limit: { type: 'string' }, state: { type: 'string' }, json: { type: 'boolean' } }, false);
    const limit = intOption('limit', values.limit, 1) ?? 50;
    const store = openExistingState(values.state ?? DEFAULT_STATE_PATH);
    try {
      const runs = store.runs.list({ ...(values.rule ? { ruleId: values.rule } : {}), failed: values.failed === true, limit });
      if (values.json) process.stdout.write(`${JSON.stringify(redactValue(runs.map(({ facts: _f, trace: _t, ...r }) => r)), null, 2)}\n`);
      else process.stdout.write(formatRuns(runs));
      return EXIT.OK;
    } finally {
      store.close();
    }
  },
};

export default command;
