/**
 * Argument parsing shared by the subcommands: node:util parseArgs, with our
 * own messages for a bad command line (exit 2) instead of Node's parser text.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../engine/errors.js';
import { LOG_LEVELS, type LogLevel } from '../engine/logger.js';
import { redact } from '../engine/redact.js';
import { closest } from '../engine/suggest.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS = {
  'log-level': { type: 'string' },
} as const satisfies Options;

/** The output options of commands that print text or JSON: `--format text|json`, with `--json` kept as its alias. */
export const FORMAT_OPTIONS = {
  format: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies Options;

/**
 * A command line the command cannot take. The message names the command when
 * the dispatcher knows it (`forCommand`); `message` alone says "this command".
 */
export class CommandLineError extends UsageError {
  constructor(private readonly text: (command: string | undefined) => string) {
    super(text(undefined));
  }

  /** The message naming the command, e.g. `rules dry-run`. */
  forCommand(command: string): string {
    return redact(this.text(command));
  }
}

/** Did-you-mean for an unknown option among the command's own (`--json` where the command has `--format` is `--format json`). */
function suggestOption(raw: string, options: Options): string | undefined {
  const names = Object.keys(options);
  if (raw === '--json' && names.includes('format')) return '--format json';
  if (raw === '--format' && names.includes('json')) return '--json';
  if (!raw.startsWith('--')) return undefined;
  return closest(raw, [...names.map((n) => `--${n}`), '--help']);
}

function unknownOption(raw: string, options: Options): CommandLineError {
  const guess = suggestOption(raw, options);
  return new CommandLineError((command) => {
    const where = command ? ` for '${command}'` : '';
    const help = command ? `'${command} --help'` : '--help';
    return `Unknown option '${raw}'${where}; ${guess ? `did you mean ${guess}?` : `${help} lists the options`}`;
  });
}

/** Check the tokens against the options before the strict parse, so every mistake gets a message of ours. */
function check(argv: string[], options: Options, allowPositionals: boolean): void {
  const { tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind === 'option') {
      const spec = options[t.name];
      if (!spec) throw unknownOption(t.rawName, options);
      if (spec.type === 'string' && t.value === undefined) throw new UsageError(`${t.rawName} needs a value`);
      if (spec.type === 'string' && !t.inlineValue && t.value !== undefined && t.value.startsWith('-') && t.value !== '-') {
        throw new UsageError(`${t.rawName} needs a value; '${t.value}' looks like an option (if it is the value, write ${t.rawName}=${t.value})`);
      }
      if (spec.type === 'boolean' && t.value !== undefined) throw new UsageError(`${t.rawName} takes no value; got '${t.rawName}=${t.value}'`);
    } else if (t.kind === 'positional' && !allowPositionals) {
      const value = t.value;
      throw new CommandLineError((command) => `unexpected argument '${value}': ${command ? `'${command}'` : 'this command'} takes options only`);
    }
  }
}

/** Thrown by `parse` while `optionsOf` probes a command: carries the command's option table. */
class OptionsProbe extends Error {
  constructor(readonly options: Options) {
    super('options probed');
  }
}

let probing = false;

/**
 * The options a command's `run` accepts (plus --log-level), read from the table
 * it hands to `parse`, which every command calls before doing anything: the run
 * is stopped there. `rules completion` builds the shell completion from these.
 */
export async function optionsOf(run: (argv: string[]) => Promise<number>): Promise<Options> {
  probing = true;
  try {
    await run([]);
  } catch (err) {
    if (err instanceof OptionsProbe) return err.options;
    throw err;
  } finally {
    probing = false;
  }
  throw new Error('the command returned without parsing its options');
}

/** Parse `argv` strictly against `options` (plus --log-level); every bad command line is a UsageError (exit 2). */
export function parse<O extends Options>(argv: string[], options: O, allowPositionals = true) {
  const all = { ...COMMON_OPTIONS, ...options };
  if (probing) throw new OptionsProbe(all);
  check(argv, all, allowPositionals);
  try {
    return parseArgs({ args: argv, options: all, allowPositionals, strict: true });
  } catch (err) {
    // Not reached for the mistakes check() knows; kept so that nothing of the parser escapes as a crash.
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** The output format from `--format` and its alias `--json`, one of the formats the command prints (`allowed`), else `fallback`. */
export function outputFormat<F extends string>(values: { format?: string | undefined; json?: boolean | undefined }, allowed: readonly F[], fallback: F): F {
  if (values.json === true && values.format !== undefined && values.format !== 'json') {
    throw new UsageError(`--json means --format json; it cannot go with --format ${values.format}`);
  }
  const format = values.json === true ? 'json' : (values.format ?? fallback);
  if (!(allowed as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${allowed.join(', ')}; got '${format}'`);
  return format as F;
}

export function logLevel(value: unknown): LogLevel {
  if (value === undefined) return 'info';
  if (typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}; got '${String(value)}'`);
}

export function intOption(name: string, value: unknown, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}; got '${String(value)}'`);
  return n;
}
