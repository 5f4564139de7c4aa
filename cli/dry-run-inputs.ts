/**
 * What a dry run plans, from the inputs a person or an agent gives: rules
 * already loaded, events (a JSON-lines file, or the fixtures' `events:`), a
 * time for schedules, and portal data (a fixtures file served by an in-process
 * emulator, or the configured portal read-only). Shared by `rules dry-run`
 * and `rules mcp` (its dry_run tool), so both plan the same way.
 */
import { loadConfig } from '../engine/client/index.js';
import { UsageError } from '../engine/errors.js';
import { dryRun, eventItems, InputFileError, inputErrorAnnotation, parseEvents, readEventsFile, scheduleItemsAt, type DryRunInputs, type DryRunOutcome, type EventInput, type FixturePortal, type PortalSource } from '../engine/plan/index.js';
import { redact } from '../engine/redact.js';
import { fixtureEvents, readFixturesFile } from '../engine/testing/index.js';
import { startFixturePortal } from './fixture-portal.js';

export type { DryRunInputs, DryRunOutcome };

/**
 * Plan the inputs. Throws a UsageError when there is nothing to plan (no
 * events and no time); an unreadable fixtures or events file is an InputFileError.
 */
export async function planDryRun(inputs: DryRunInputs): Promise<DryRunOutcome> {
  const at = inputs.at ?? inputs.now ?? Date.now();
  const rules = inputs.loaded.rules;
  const fixtures = inputs.fixturesFile ? readFixturesFile(inputs.fixturesFile) : undefined;
  let events: EventInput[] = [];
  if (inputs.eventsFile) events = readEventsFile(inputs.eventsFile);
  else if (inputs.events) events = parseEvents(inputs.events.text, inputs.events.label);
  else if (fixtures && inputs.fixturesFile) {
    const recorded = fixtureEvents(fixtures);
    if (recorded.length > 0) events = parseEvents(recorded.map((e) => JSON.stringify(e)).join('\n'), `${inputs.fixturesFile} (events:)`);
  }
  const ticks = inputs.at !== undefined ? scheduleItemsAt(rules, at) : [];
  const items = [...eventItems(events, at), ...ticks];
  // Without events and without a time there is nothing to plan: the command line is incomplete (exit 2), whatever the portal holds.
  if (items.length === 0 && inputs.at === undefined && !inputs.eventsFile && !inputs.events) {
    throw new UsageError('nothing to plan: no events, and no --at TIME for schedules. Give --events FILE (or --fixtures FILE with events:) and/or --at TIME');
  }
  const note = items.length === 0 ? `nothing to plan: no events${inputs.at !== undefined ? `, and no schedule rule fires at ${inputs.atText ?? new Date(at).toISOString()}` : ''}.` : undefined;

  // Fixtures are served by an in-process emulator started here (engine/ does not import it) and closed once planned.
  let fixturePortal: FixturePortal | undefined;
  let portal: PortalSource;
  let used: DryRunOutcome['portal'];
  if (fixtures && inputs.fixturesFile) {
    fixturePortal = await startFixturePortal(fixtures, { at, ratePlan: inputs.ratePlan });
    portal = { kind: 'fixtures', portal: fixturePortal, label: inputs.fixturesFile };
    used = { kind: 'fixtures', file: inputs.fixturesFile };
  } else {
    const config = (inputs.liveConfig ?? loadConfig)();
    portal = { kind: 'live', config, label: redact(config.baseUrl) };
    used = { kind: 'live', baseUrl: redact(config.baseUrl) };
  }
  try {
    const { plan } = await dryRun({
      rules,
      ruleFiles: inputs.loaded.files.map((f) => f.file),
      items,
      at,
      events: events.length,
      scheduleTicks: ticks.map((t) => ({ rule: t.ruleId ?? '', at: String((t.payload.schedule as { at: string }).at) })),
      portal,
      ratePlan: inputs.ratePlan,
      ...(inputs.statePath ? { statePath: inputs.statePath } : {}),
      ...(inputs.statePortal ? { statePortal: inputs.statePortal } : {}),
      ...(inputs.onClientEvent ? { onClientEvent: inputs.onClientEvent } : {}),
    });
    return { plan, portal: used, ...(note ? { note } : {}) };
  } finally {
    await fixturePortal?.close();
  }
}

/**
 * Run a command that plans inputs; with `--format github`, an unreadable fixtures or events file is also an
 * annotation on its line (stdout), before the error goes on to the CLI's usual message and exit code.
 */
export async function annotatingInputErrors(argv: readonly string[], run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (err) {
    const github = argv.some((a, i) => a === '--format=github' || (a === 'github' && argv[i - 1] === '--format'));
    if (err instanceof InputFileError && github) process.stdout.write(`${inputErrorAnnotation(err)}\n`);
    throw err;
  }
}
