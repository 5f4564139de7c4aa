/**
 * What shell completion knows about the CLI, read from the CLI itself: the
 * command table (command-table.ts), each command's option table (the one its
 * `run` hands to `parse`, read with `optionsOf`) and, from its usage text, the
 * subcommand words (`rules dlq list|show ...`), the values of options that
 * list them (`--format text|json`) and each option's one-line description.
 */
import { LOG_LEVELS } from '../engine/logger.js';
import { optionsOf } from './args.js';
import { COMMANDS } from './command-table.js';
import type { Command } from './command.js';

/** One option of a command. */
export interface OptionSpec {
  /** Without the leading `--`. */
  name: string;
  /** Takes a value (`--out FILE`); else a flag. */
  takesValue: boolean;
  /** The values it takes, when the usage lists them (`--format text|json`). */
  values: string[];
  /** May be given more than once. */
  multiple: boolean;
  description: string;
}

/** One command: its options and subcommand words. */
export interface CommandSpec {
  name: string;
  summary: string;
  /** The words that may follow the command (`list`, `show`...), empty when the command takes paths or nothing. */
  subcommands: string[];
  options: OptionSpec[];
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The subcommand words of the `rules NAME word|word ...` lines of the usage's first paragraph (its synopsis). */
function subcommandsOf(name: string, usage: string): string[] {
  const words = new Set<string>();
  const synopsis = usage.split(/\n\s*\n/)[0] ?? '';
  const line = new RegExp(`^\\s*(?:Usage:)?\\s*(?:rules|b24-rules) ${escapeRegExp(name)} ([a-z][a-z-]*(?:\\|[a-z][a-z-]*)*)(?=\\s|$)`, 'gm');
  for (const m of synopsis.matchAll(line)) for (const w of (m[1] as string).split('|')) words.add(w);
  return [...words];
}

/** The values the usage lists for `--name` (`--name a|b|c`), if it does. */
function valuesOf(name: string, usage: string): string[] {
  if (name === 'log-level') return [...LOG_LEVELS];
  const m = new RegExp(`--${escapeRegExp(name)}[ =]([a-z0-9-]+(?:\\|[a-z0-9-]+)+)`).exec(usage);
  return m ? (m[1] as string).split('|') : [];
}

/** The description of `--name` in the usage's options list (`  --name VALUE  what it does`). */
function descriptionOf(name: string, usage: string): string {
  if (name === 'log-level') return 'log level';
  const m = new RegExp(`^\\s+--${escapeRegExp(name)}(?:[ =][^\\s]+)?\\s{2,}(\\S.*)$`, 'm').exec(usage);
  if (!m) return '';
  // The first line of a wrapped description: cut an unclosed parenthesis.
  const text = (m[1] as string).trim();
  const open = text.lastIndexOf('(');
  return open > 0 && text.indexOf(')', open) < 0 ? text.slice(0, open).trim() : text;
}

/** The completion spec of every command in the table, in its order. */
export async function completionSpec(): Promise<CommandSpec[]> {
  const specs: CommandSpec[] = [];
  for (const [name, summary] of Object.entries(COMMANDS)) {
    const command = ((await import(`./commands/${name}.js`)) as { default: Command }).default;
    const table = await optionsOf((argv) => command.run(argv));
    const options = Object.entries(table).map(([option, spec]) => ({
      name: option,
      takesValue: spec.type === 'string',
      values: spec.type === 'string' ? valuesOf(option, command.usage) : [],
      multiple: spec.multiple === true,
      description: descriptionOf(option, command.usage),
    }));
    options.push({ name: 'help', takesValue: false, values: [], multiple: false, description: 'show help' });
    specs.push({ name, summary, subcommands: subcommandsOf(name, command.usage), options });
  }
  return specs;
}
