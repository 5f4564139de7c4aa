/** `rules diff --base REF [PATHS...]`: what a change of the rules changes in what they do, on the same inputs. */
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { UsageError } from '../../engine/errors.js';
import { DIFF_FORMATS, diffPlans, firstChangedLine, hasDifferences, parseAt, renderDiff, renderDiffMarkdown, ruleSpans, type DiffFormat, type DiffInput, type DiffRuleInfo, type PlanDocument } from '../../engine/plan/index.js';
import { findSnapshotFile } from '../../engine/portal-model/index.js';
import { formatDiagnostics, loadRules, type LoadResult } from '../../engine/rules/index.js';
import { CommandLineError, FORMAT_OPTIONS, intOption, outputFormat, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';
import { isFolder, rulesAtRef, rulesInFolder, type BaseRules } from '../diff-base.js';
import { journalEvents } from '../diff-journal.js';
import { annotatingInputErrors, planDryRun, type DryRunInputs } from '../dry-run-inputs.js';
import { DEFAULTS as PROGRESS_DEFAULTS, onInterrupt, Progress } from '../progress.js';

const usage = `Usage: rules diff --base REF [PATHS...] [--fixtures FILE|DIR]...
                   [--events FILE | --journal STATE [--journal-limit N]] [--at TIME]
                   [--state PATH] [--format text|json|github|markdown]
                   [--detailed-exitcode]

Show what a change of the rules changes in what they do. The same inputs are
planned (as 'rules dry-run' plans them: reads only, nothing written) by the
base rules and by the rules in PATHS, and the two plans are compared: per
rule, the runs that appear or disappear, the calls added, removed or changed
(each param that differs, before and after), and what each run leaves in the
fields it updates (UF_CRM_LEAD_SCORE: 70 → 60), with totals. Rules the change
adds or removes show as such.

PATHS are rule files or directories (default: ./rules).

The base:
  --base REF        a git ref (origin/main, HEAD~1, a tag or a commit): the
                    files of PATHS at that commit, read from the repository
                    that holds PATHS (the work tree is not touched); or a
                    folder holding the base rules (all of its rule files).
What to run them on (as 'rules dry-run'):
  --fixtures FILE   portal data served by an in-process emulator, and the
                    events: it holds. Repeatable; a folder stands for its
                    *.fixtures.yaml files. Each is planned on its own. Without
                    it the portal in the environment is read (never written).
  --events FILE     JSON lines of events (as for dry-run) instead of the
                    fixtures' events:; '-' reads stdin
  --journal STATE   the events the daemon journaled in its state file
                    (.rules/state.db): the last --journal-limit N (default
                    100) offline events and outgoing webhooks of its inbox,
                    instead of --events
  --at TIME         ISO 8601 with offset, e.g. 2026-11-24T09:00:00+03:00: the
                    schedule rules whose cron fires then run too, and it is
                    the clock for conditions (default: now, and no schedules)
  --state PATH      the daemon's state file: plan with its dedupe keys and
                    record snapshots (through a private copy; never changed)
Output:
  --format FORMAT   text (default), json (has format_version), markdown (a
                    pull-request comment: a table per rule, then the runs),
                    github (::notice annotations on the changed lines of the
                    rules that differ; appends the Markdown to
                    $GITHUB_STEP_SUMMARY); --json is --format json
  --detailed-exitcode  exit 2 when the plans differ

Exit codes: 0 no differences (or differences without --detailed-exitcode),
2 differences (with --detailed-exitcode; bad usage without it), 1 errors (bad
usage too, with --detailed-exitcode, so a typo never reads as "differs"):
rules that do not load on either side (the message says which), a --base that
is neither a folder nor a commit, bad fixtures or events, or a run of the changed rules
that fails to plan.
`;

const command: Command = {
  summary: 'show what a rule change changes: plan the same inputs with the base rules and the changed ones, and compare',
  usage,
  async run(argv) {
    try {
      return await annotatingInputErrors(argv, () => run(argv));
    } catch (err) {
      // With --detailed-exitcode, 2 means "the plans differ": a usage error must not read as that in CI.
      if (err instanceof UsageError && argv.includes('--detailed-exitcode')) {
        process.stderr.write(`b24-rules diff: ${err instanceof CommandLineError ? err.forCommand('b24-rules diff') : err.message}\n`);
        return EXIT.ERROR;
      }
      throw err;
    }
  },
};

/** The fixtures files of `--fixtures` values: files as given, folders as their *.fixtures.yaml (or .yml) files, sorted. */
function fixturesFiles(values: string[]): string[] {
  return values.flatMap((v) => {
    if (!isFolder(v)) return [v];
    const files = readdirSync(v)
      .filter((f) => /\.fixtures\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(v, f));
    if (files.length === 0) throw new UsageError(`--fixtures ${v}: the folder has no *.fixtures.yaml file`);
    return files;
  });
}

/** The rules of one side, by id: hash and place (for annotations), paths shown as the user knows them. */
function ruleInfos(loaded: LoadResult, display: (file: string) => string): DiffRuleInfo[] {
  return loaded.rules.map((r) => ({ id: r.id, hash: r.hash, file: relative(process.cwd(), display(r.location.file)) || r.location.file, line: r.location.line }));
}

/** For each rule in both sides: the first line of its document in the change that differs from the base's. */
function markChangedLines(head: LoadResult, base: LoadResult, headInfos: DiffRuleInfo[]): void {
  const docs = (loaded: LoadResult): Map<string, { text: string; start: number; end: number }> => {
    const out = new Map<string, { text: string; start: number; end: number }>();
    for (const f of loaded.files) {
      let text: string;
      try {
        text = readFileSync(f.file, 'utf8');
      } catch {
        continue;
      }
      for (const [id, span] of ruleSpans(text, f.rules ?? [])) out.set(id, { text, ...span });
    }
    return out;
  };
  const h = docs(head);
  const b = docs(base);
  for (const info of headInfos) {
    const hd = h.get(info.id);
    const bd = b.get(info.id);
    if (!hd || !bd) continue;
    const line = firstChangedLine(bd, hd);
    if (line !== undefined) info.changedLine = line;
  }
}

/** Base file names in a plan (a temporary folder) shown as the work tree's. */
function displayPlan(plan: PlanDocument, base: BaseRules): PlanDocument {
  const shown = (f: string): string => relative(process.cwd(), resolve(base.display(resolve(f)))) || f;
  return { ...plan, rules: { ...plan.rules, files: plan.rules.files.map(shown) }, firings: plan.firings.map((f) => (f.file ? { ...f, file: shown(f.file) } : f)) };
}

/** Print one side's load problems; true when it has errors. The base's go to stderr as text, named as the base's. */
function reportDiagnostics(loaded: LoadResult, side: 'base' | 'change', label: string, format: DiffFormat, display: (file: string) => string): boolean {
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (side === 'base') {
    if (errors.length === 0) return false;
    const shown = errors.map((d) => ({ ...d, file: relative(process.cwd(), display(d.file)) || d.file }));
    process.stderr.write(`rules diff: the base rules (${label}) do not load: ${errors.length} error${errors.length === 1 ? '' : 's'}, in the files as they are at the base:\n`);
    process.stderr.write(formatDiagnostics(shown, 'text'));
    return true;
  }
  // GitHub reads workflow commands (::error) from stdout; plain diagnostics go to stderr.
  if (loaded.diagnostics.length > 0) (format === 'github' ? process.stdout : process.stderr).write(formatDiagnostics(loaded.diagnostics, format === 'github' ? 'github' : 'text'));
  if (errors.length > 0) process.stderr.write(`rules diff: the changed rules (${label}) do not load: ${errors.length} error${errors.length === 1 ? '' : 's'}; fix them first (rules validate shows the same).\n`);
  return errors.length > 0;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    base: { type: 'string' },
    fixtures: { type: 'string', multiple: true },
    events: { type: 'string' },
    journal: { type: 'string' },
    'journal-limit': { type: 'string' },
    at: { type: 'string' },
    state: { type: 'string' },
    ...FORMAT_OPTIONS,
    'detailed-exitcode': { type: 'boolean' },
  });
  const format: DiffFormat = outputFormat(values, DIFF_FORMATS, 'text');
  if (!values.base) throw new UsageError('--base REF is required: the git ref (origin/main, HEAD~1) or the folder of the rules to compare with');
  const at = values.at === undefined ? undefined : parseAt(values.at);
  if (at === null) throw new UsageError(`--at must be an ISO 8601 time with an offset, e.g. 2026-11-24T09:00:00+03:00; got '${values.at}'`);
  const paths = positionals.length > 0 ? positionals : [resolve('rules')];
  const fixtures = fixturesFiles(values.fixtures ?? []);
  if (values.events && values.journal) throw new UsageError('--events and --journal exclude each other: give one source of events');
  const journalLimit = intOption('journal-limit', values['journal-limit'], 1) ?? 100;
  // Standard input can be read once: both sides plan the same text (and the journal is read once).
  let eventsText: { text: string; label: string } | undefined;
  if (values.events === '-') eventsText = { text: readFileSync(0, 'utf8'), label: '(stdin)' };
  else if (values.journal) {
    const journal = journalEvents(values.journal, journalLimit);
    if (journal.events === 0) throw new UsageError(`--journal ${values.journal}: its inbox holds no event (offline events or outgoing webhooks; schedule ticks, forms, manual runs and timers are not events)`);
    eventsText = { text: journal.text, label: `journal ${values.journal}` };
  }

  const base = isFolder(values.base) ? rulesInFolder(values.base) : rulesAtRef(paths, values.base);
  try {
    const head = await loadRules(paths);
    // The portal snapshot (.rules/portal.json) is not in git: the base resolves names with the work tree's.
    const snapshot = base.root ? findSnapshotFile(resolve(paths[0] ?? '.')) : undefined;
    const baseLoaded: LoadResult = base.paths.length > 0 ? await loadRules(base.paths, snapshot ? { portalSnapshot: snapshot } : {}) : { rules: [], diagnostics: [], files: [] };
    const headBad = reportDiagnostics(head, 'change', paths.join(' '), format, (f) => f);
    const baseBad = reportDiagnostics(baseLoaded, 'base', base.label, format, (f) => base.display(f));
    if (headBad || baseBad) return EXIT.ERROR;
    if (head.files.length === 0 && baseLoaded.files.length === 0) {
      process.stderr.write(`rules diff: no rule files found in ${paths.join(', ')}, nor in the base (${base.label})\n`);
      return EXIT.ERROR;
    }

    const now = Date.now();
    const common: Omit<DryRunInputs, 'loaded'> = {
      ratePlan: 'standard',
      ...(values.events && !eventsText ? { eventsFile: values.events } : {}),
      ...(eventsText ? { events: eventsText } : {}),
      ...(at !== undefined && values.at !== undefined ? { at, atText: values.at } : { now }),
      ...(values.state ? { statePath: values.state } : {}),
    };
    const inputs = fixtures.length > 0 ? fixtures.map((f) => ({ label: f, fixturesFile: f })) : [{ label: eventsText?.label ?? values.events ?? 'portal' }];
    const progress = new Progress({ label: 'rules diff' });
    const offInterrupt = onInterrupt(() => {
      progress.finish();
      process.stderr.write(`rules diff: stopped by Ctrl-C after ${progress.counts.requests} request(s): nothing written.\n`);
      base.dispose();
      process.exit(PROGRESS_DEFAULTS.interruptedExit);
    });
    const planned: DiffInput[] = [];
    try {
      for (const input of inputs) {
        const one = { ...common, ...('fixturesFile' in input ? { fixturesFile: input.fixturesFile } : {}), onClientEvent: progress.clientEvent };
        progress.phase(`planning ${input.label} with the base (reads only)`);
        const b = await planDryRun({ ...one, loaded: baseLoaded });
        progress.phase(`planning ${input.label} with the change (reads only)`);
        const h = await planDryRun({ ...one, loaded: head });
        if (h.note) process.stderr.write(`rules diff: ${input.label}: ${h.note}\n`);
        planned.push({ label: input.label, base: displayPlan(b.plan, base), head: h.plan });
      }
    } finally {
      progress.finish();
      offInterrupt();
    }

    const headInfos = ruleInfos(head, (f) => f);
    markChangedLines(head, baseLoaded, headInfos);
    const diff = diffPlans({ base: { label: base.label, rules: ruleInfos(baseLoaded, (f) => base.display(f)) }, head: { label: 'working tree', rules: headInfos }, inputs: planned });
    process.stdout.write(renderDiff(diff, format));
    if (format === 'github' && process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, renderDiffMarkdown(diff));
    if (diff.base.errors > 0) process.stderr.write(`rules diff: ${diff.base.errors} run${diff.base.errors === 1 ? '' : 's'} of the base rules failed to plan (shown in the diff where the change plans them otherwise).\n`);
    if (diff.head.errors > 0) {
      process.stderr.write(`rules diff: ${diff.head.errors} run${diff.head.errors === 1 ? '' : 's'} of the changed rules failed to plan: the diff cannot say what ${diff.head.errors === 1 ? 'it' : 'they'} would do ('rules dry-run' shows the errors).\n`);
      return EXIT.ERROR;
    }
    return hasDifferences(diff) && values['detailed-exitcode'] ? EXIT.USAGE : EXIT.OK;
  } finally {
    base.dispose();
  }
}

export default command;
