/** `rules record`: capture offline events and the records they name from a portal into a fixtures file. */
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { B24ApiError, createClient } from '../../engine/client/index.js';
import { authConnectorFor, DEFAULTS as CONFIG_DEFAULTS, loadConfig, readEnvironment } from '../../engine/config.js';
import { redact } from '../../engine/redact.js';
import { recordIncident } from '../../engine/testing/index.js';
import { intOption, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';
import { DEFAULTS as PROGRESS_DEFAULTS, onInterrupt, Progress } from '../progress.js';
import { UsageError } from '../../engine/errors.js';

const usage = `Usage: rules record --events N --out FILE [--event NAME]... [--auth-connector KEY]

Capture the portal's pending offline events (oldest first) and the records they
name (deals, leads, contacts, companies, tasks, and the users they refer to)
into one fixtures file, to replay an incident with 'rules dry-run --fixtures FILE'
or to write a rule test against it (docs/rule-tests.md).

Read-only: events are read with event.offline.list, which neither deletes nor
reserves them, so the running daemon still gets every one; the client refuses
every write method. The connection comes from the environment or .env as for
'rules run' (offline events need B24_AUTH_MODE=oauth and an administrator), and
so does the queue: the one the daemon reads, of its connector key.

Options:
  --events N            capture at most N events (default 20)
  --out FILE            fixtures file to write (YAML)
  --event NAME          only events of this name (repeatable)
  --auth-connector KEY  read the queue of this connector key instead of the
                        daemon's (B24_AUTH_CONNECTOR, default ${CONFIG_DEFAULTS.authConnector})

Progress (requests, rate-limit waits) goes to stderr: one updating line on a
terminal, quiet when piped. Ctrl-C stops at once: nothing is written, and the
portal's queue is as it was (exit 130).
`;

const command: Command = {
  summary: 'capture events and the records they name into a test fixture',
  usage,
  async run(argv) {
    const { values } = parse(argv, { events: { type: 'string' }, out: { type: 'string' }, event: { type: 'string', multiple: true }, 'auth-connector': { type: 'string' } }, false);
    if (!values.out) throw new UsageError('--out FILE is required (the fixtures file to write)');
    const events = intOption('events', values.events, 1) ?? 20;
    const env = readEnvironment();
    const config = loadConfig();
    // The queue the daemon reads: the same connector key, from the same variable and default.
    const authConnector = authConnectorFor(config, values['auth-connector'] ?? env.B24_AUTH_CONNECTOR);
    const progress = new Progress({ label: 'rules record' });
    progress.phase('reading the offline queue and the records it names (read-only)');
    const offInterrupt = onInterrupt(() => {
      progress.finish();
      process.stderr.write(`rules record: stopped by Ctrl-C after ${progress.counts.requests} request(s): nothing was written to ${values.out}; the portal's queue is as it was (read-only).\n`);
      process.exit(PROGRESS_DEFAULTS.interruptedExit);
    });
    const client = createClient(config, { readOnly: true, onEvent: progress.clientEvent });
    try {
      let recorded;
      try {
        recorded = await recordIncident(client, {
          events,
          ...(values.event ? { eventNames: values.event } : {}),
          ...(authConnector !== undefined ? { authConnector } : {}),
        });
      } catch (err) {
        if (err instanceof B24ApiError && (err.code === 'AUTH_WRONG_TYPE' || err.error === 'ACCESS_DENIED')) {
          process.stderr.write(`rules record: ${err.message}\nThe offline event queue can only be read by an application (B24_AUTH_MODE=oauth) acting as an administrator; an incoming webhook cannot read it.\n`);
          return EXIT.ERROR;
        }
        throw err;
      } finally {
        progress.finish();
        offInterrupt();
      }
      const header = [
        `# Recorded by 'rules record' from ${redact(config.baseUrl)} at ${new Date().toISOString()}.`,
        `# ${recorded.events.length} offline event${recorded.events.length === 1 ? '' : 's'}${authConnector !== undefined ? ` of connector ${authConnector}` : ''} (read with event.offline.list: not cleared, not reserved) and the records they name.`,
        '# Replay: rules dry-run --fixtures THIS_FILE; test: fixtures: THIS_FILE in a *.test.yaml (docs/rule-tests.md).',
        '',
      ].join('\n');
      writeFileSync(values.out, header + stringify({ events: recorded.events, ...recorded.entities }, { lineWidth: 0 }));
      // Record counts by fixture key ("deals: 1"): the key is a list's name, not a noun to inflect.
      const counts = Object.entries(recorded.entities).map(([k, v]) => `${k}: ${v.length}`);
      const eventCount = `${recorded.events.length} event${recorded.events.length === 1 ? '' : 's'}`;
      process.stdout.write(`Recorded ${eventCount}${counts.length > 0 ? ` (${counts.join(', ')})` : ''} into ${values.out}\n`);
      for (const m of recorded.missing) process.stderr.write(`rules record: ${m.entity} ${m.id} not recorded: ${m.error}\n`);
      if (recorded.events.length === 0) {
        process.stderr.write(
          `rules record: the offline queue${authConnector !== undefined ? ` of connector ${authConnector}` : ''} holds no pending events${values.event ? ` named ${values.event.join(', ')}` : ''}. ` +
            'A running daemon clears events as it finishes them; events bound under another connector key are read with --auth-connector KEY.\n',
        );
      }
      return EXIT.OK;
    } finally {
      await client.close();
    }
  },
};

export default command;
