/** `rules dlq`: list, show, retry or drop dead-lettered work in the state file. */
import { DEFAULT_STATE_PATH, dlqDroppedJson, dlqEntryJson, dlqListJson, dlqRetriedJson, formatDlqEntry, formatDlqList, openExistingState, printJson } from '../../engine/daemon/index.js';
import { B24RulesError, UsageError } from '../../engine/errors.js';
import { closest } from '../../engine/suggest.js';
import { FORMAT_OPTIONS, intOption, outputFormat, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';

const usage = `Usage: rules dlq list [--rule ID] [--limit N]
       rules dlq show ID
       rules dlq retry ID|all
       rules dlq drop ID
       (all: --state PATH, default ${DEFAULT_STATE_PATH}; --format text|json,
       --json being the same as --format json)

Work that exhausted its retry budget (on_error.then: dead_letter) lands in the
dead-letter queue. 'retry' sends the item back to the inbox: a running daemon
picks it up on its next tick; calls that already succeeded are not repeated
(the effect ledger). 'drop' forgets the entry; the item stays dead.
`;

const VERBS = ['list', 'show', 'retry', 'drop'];

function entryId(value: string | undefined, verb: string): number {
  if (value === undefined) throw new UsageError(`dlq ${verb} needs an entry ID (see rules dlq list)`);
  return intOption('ID', value, 1) as number;
}

const command: Command = {
  summary: 'list, show, retry or drop dead-lettered work',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { state: { type: 'string' }, ...FORMAT_OPTIONS, rule: { type: 'string' }, limit: { type: 'string' } });
    const format = outputFormat(values, ['text', 'json'], 'text');
    const [verb, arg, ...extra] = positionals;
    if (verb === undefined) throw new UsageError('dlq needs a subcommand: list, show ID, retry ID|all, drop ID');
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (!VERBS.includes(verb)) {
      const guess = closest(verb, VERBS);
      throw new UsageError(`unknown dlq subcommand '${verb}'${guess ? `; did you mean '${guess}'?` : '.'} Use list, show, retry or drop`);
    }
    const limit = intOption('limit', values.limit, 1) ?? 100;
    const out = (text: string, json: unknown) => process.stdout.write(format === 'json' ? printJson(json) : text);
    const store = openExistingState(values.state ?? DEFAULT_STATE_PATH);
    try {
      const notFound = (id: number) => new B24RulesError('DLQ_NOT_FOUND', `no DLQ entry ${id} in ${store.path}; list entries with: rules dlq list`, { kind: 'user' });
      switch (verb) {
        case 'list': {
          const entries = store.dlq.list({ ...(values.rule ? { ruleId: values.rule } : {}), limit });
          out(formatDlqList(entries), dlqListJson(entries));
          return EXIT.OK;
        }
        case 'show': {
          const id = entryId(arg, 'show');
          const entry = store.dlq.get(id);
          if (!entry) throw notFound(id);
          const run = entry.runId === null ? undefined : store.runs.get(entry.runId);
          out(formatDlqEntry(entry, run), dlqEntryJson(entry, run));
          return EXIT.OK;
        }
        case 'retry': {
          if (arg === 'all') {
            const ids: number[] = [];
            for (;;) {
              const batch = store.dlq.list({ limit: 500 });
              if (batch.length === 0) break;
              for (const e of batch) {
                // A retry takes every entry of its item (two rules of one item dead-lettered): the others are gone.
                if (!store.dlq.get(e.id)) continue;
                store.dlq.retry(e.id);
                ids.push(e.id);
              }
            }
            out(`Requeued ${ids.length} entr${ids.length === 1 ? 'y' : 'ies'}.\n`, dlqRetriedJson(ids));
            return EXIT.OK;
          }
          const id = entryId(arg, 'retry');
          if (!store.dlq.get(id)) throw notFound(id);
          const entry = store.dlq.retry(id);
          out(`Requeued DLQ entry ${id} (inbox item ${entry.itemId}); a running daemon picks it up on its next tick.\n`, dlqRetriedJson([id]));
          return EXIT.OK;
        }
        default: {
          const id = entryId(arg, 'drop');
          if (!store.dlq.get(id)) throw notFound(id);
          store.dlq.drop(id);
          out(`Dropped DLQ entry ${id}.\n`, dlqDroppedJson([id]));
          return EXIT.OK;
        }
      }
    } finally {
      store.close();
    }
  },
};

export default command;
