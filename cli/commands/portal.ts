/** `rules portal pull`: read the portal's fields, pipelines, stages, list values and users into `.rules/portal.json` and the editor's schema overlay. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createClient, loadConfig } from '../../engine/client/index.js';
import { UsageError } from '../../engine/errors.js';
import { createLogger } from '../../engine/logger.js';
import { buildOverlay, pullPortal, SNAPSHOT_FILE, snapshotText, type PortalSnapshot } from '../../engine/portal-model/index.js';
import { redact } from '../../engine/redact.js';
import { sortKeys } from '../../engine/canonical-json.js';
import { FORMAT_OPTIONS, logLevel, outputFormat, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';
import { DEFAULTS as PROGRESS_DEFAULTS, onInterrupt, Progress } from '../progress.js';

const usage = `Usage: rules portal pull [--out FILE] [--format text|json]

Read the portal's model with read-only calls in a few batches: the fields of
leads, deals, contacts, companies, smart processes and invoices (user fields
with their list values), pipelines and stages, the other status lists
(sources, industries, ...), active users with their names and the
smart-process types. Writes:

  FILE                    the snapshot (default ${SNAPSHOT_FILE}): sorted, with no
                          time but pulledAt, to commit and review in git
  schema.json beside it   a schema overlay for editors (yaml-language-server):
                          the rule schema plus the portal's field codes, stage
                          IDs, pipelines, list values and users with their names

With a snapshot beside or above the rule files, 'rules validate' (and every
command that loads rules) checks each field code, stage ID, pipeline, user ID
and list value the rules write against it, and rules may write names instead
of IDs: { name: Ivan Sokolov }, { pipeline: Renewals, name: Renewed },
label:Region (docs/rule-format.md, The portal's model). A snapshot whose
content did not change is left as it was (pulledAt too).

Connection from the environment or .env, as for 'rules call'. Progress
(requests, rate-limit waits) goes to stderr: one updating line on a terminal,
quiet when piped. Ctrl-C stops at once and writes nothing (exit 130).

Options:
  --out FILE       where to write the snapshot (default ${SNAPSHOT_FILE})
  --format FORMAT  text (default) or json (a summary of what was pulled)

Exit codes: 0 written, 1 the portal refused or could not be reached, 2 bad usage.
`;

const command: Command = {
  summary: "pull the portal's fields, stages, list values and users into .rules/portal.json",
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { out: { type: 'string' }, ...FORMAT_OPTIONS });
    if (positionals[0] !== 'pull' || positionals.length !== 1) {
      throw new UsageError(positionals.length === 0 ? "missing the subcommand: 'rules portal pull'" : `unknown subcommand '${positionals.join(' ')}': 'rules portal' has 'pull'`);
    }
    const format = outputFormat(values, ['text', 'json'] as const, 'text');
    const out = resolve(values.out ?? SNAPSHOT_FILE);
    const overlayFile = join(dirname(out), 'schema.json');
    const config = loadConfig();
    const logger = createLogger({ level: logLevel(values['log-level']), toStderr: true, name: 'rules-portal' });
    const progress = new Progress({ label: 'rules portal pull' });
    progress.phase("reading the portal's model (read-only)");
    const offInterrupt = onInterrupt(() => {
      progress.finish();
      process.stderr.write(`rules portal pull: stopped by Ctrl-C after ${progress.counts.requests} request(s): nothing was written (${out} is as it was).\n`);
      process.exit(PROGRESS_DEFAULTS.interruptedExit);
    });
    const client = createClient(config, { readOnly: true, logger, onEvent: progress.clientEvent });
    let result;
    try {
      result = await pullPortal(client, { portal: redact(config.baseUrl), now: Date.now });
    } finally {
      progress.finish();
      offInterrupt();
      await client.close();
    }
    const { snapshot, notes, requests } = result;
    const changed = write(out, snapshot);
    mkdirSync(dirname(overlayFile), { recursive: true });
    writeFileSync(overlayFile, `${JSON.stringify(sortKeys(buildOverlay(changed.snapshot, overlayFile)), null, 2)}\n`);
    const summary = summarize(snapshot);
    if (format === 'json') {
      process.stdout.write(`${JSON.stringify({ snapshot: out, overlay: overlayFile, changed: changed.changed, requests, notes, ...summary }, null, 2)}\n`);
      return EXIT.OK;
    }
    const rel = (f: string): string => relative(process.cwd(), f) || f;
    process.stdout.write(
      [
        `Pulled ${snapshot.portal} in ${requests} HTTP request${requests === 1 ? '' : 's'}: ${summary.entities.join(', ')}; ${summary.fields} fields, ${summary.pipelines} pipelines with ${summary.stages} stages, ${summary.users} active users, ${summary.smartProcesses} smart processes.`,
        ...notes.map((n) => `  not read: ${n}`),
        `${changed.changed ? 'Wrote' : 'Unchanged:'} ${rel(out)}; wrote ${rel(overlayFile)}.`,
        `Editor completion: start rule files with  # yaml-language-server: $schema=<path to ${rel(overlayFile)}>`,
        '',
      ].join('\n'),
    );
    return EXIT.OK;
  },
};

/** Write the snapshot unless the file already holds the same model (then it and its pulledAt stay). */
function write(file: string, snapshot: PortalSnapshot): { changed: boolean; snapshot: PortalSnapshot } {
  try {
    const old = JSON.parse(readFileSync(file, 'utf8')) as PortalSnapshot;
    if (snapshotText({ ...old, pulledAt: snapshot.pulledAt }) === snapshotText(snapshot)) return { changed: false, snapshot: old };
  } catch {
    // No file, or not a snapshot: write it.
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, snapshotText(snapshot));
  return { changed: true, snapshot };
}

function summarize(s: PortalSnapshot): { entities: string[]; fields: number; pipelines: number; stages: number; users: number; smartProcesses: number } {
  const entities = Object.values(s.entities);
  const pipelines = entities.filter((e) => e.entityTypeId !== 1).flatMap((e) => e.pipelines);
  return {
    entities: entities.map((e) => e.title),
    fields: entities.reduce((n, e) => n + Object.keys(e.fields).length, 0),
    pipelines: pipelines.length,
    stages: pipelines.reduce((n, p) => n + p.stages.length, 0),
    users: s.users.length,
    smartProcesses: s.smartProcesses.length,
  };
}

export default command;
