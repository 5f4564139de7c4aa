/**
 * Mutated rule files: a valid rule file (the scenario library, the drill's
 * own rules) with one to three random edits, each of a kind that has broken a
 * YAML or rule loader somewhere: lines dropped, doubled, swapped or
 * re-indented, a value replaced by a hostile one (deep nesting, a huge string,
 * a YAML tag, an anchor, a catastrophic regular expression, a bad cron or
 * time zone, a broken template), a key inserted, the file cut short, an
 * alias bomb, control characters and byte-order marks. Pure: the same seed
 * gives the same files.
 */
import type { Random } from './random.js';

const KEYS = ['id', 'trigger', 'event', 'schedule', 'cron', 'timezone', 'webhook', 'manual', 'actions', 'condition', 'foreach', 'load', 'let', 'dedupe', 'env', 'on_error', 'concurrency', 'when', 'as', 'changed', 'entity', 'fields', 'max_records', 'retries', 'then', 'enabled'];

/** Values that have tripped parsers and checkers. */
function hostileValue(rng: Random): string {
  const depth = rng.pick([40, 200, 2000, 20_000]);
  const choices: Array<() => string> = [
    () => '""',
    () => 'null',
    () => '~',
    () => '-1',
    () => '1e309',
    () => '0x1F',
    () => '.nan',
    () => '[]',
    () => '{}',
    () => 'yes',
    () => '"{{"',
    () => '"}}"',
    () => '"{{ nope.nothing | upcase }}"',
    () => '"{{ env.DRILL_UNSET_VARIABLE }}"',
    () => '"{{ lead.ID | add_days: }}"',
    () => '*undefined_alias',
    () => '&anchor value',
    () => '!!binary AAAA',
    () => '!!js/function "function () {}"',
    () => '!custom tag',
    () => '"\\u0000\\u0007\\u001b"',
    () => `"${'x'.repeat(rng.pick([1000, 100_000]))}"`,
    () => `${'['.repeat(depth)}${']'.repeat(depth)}`,
    () => `${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`,
    () => '{ matches: [{ var: lead.COMMENTS }, ".*.*.*=x"] }',
    () => '{ matches: [{ var: lead.TITLE }, "(a+)+$"] }',
    () => '{ matches: [{ var: lead.TITLE }, "(["] }',
    () => '"* * * * * * *"',
    () => '"61 25 32 13 8"',
    () => 'Mars/Olympus_Mons',
    () => '{ "var": "" }',
    () => '{ "unknown_operator": [1, 2] }',
    () => '{ "if": [] }',
    () => '[1, 2, 3]',
    () => `"${'é🙂\u202e'.repeat(50)}"`,
  ];
  return rng.pick(choices)();
}

/** One random edit of `text`. */
function mutateOnce(text: string, rng: Random): string {
  const lines = text.split('\n');
  const at = rng.int(0, Math.max(0, lines.length - 1));
  switch (rng.int(0, 12)) {
    case 0: // drop a line
      lines.splice(at, 1);
      return lines.join('\n');
    case 1: // double a line
      lines.splice(at, 0, lines[at] ?? '');
      return lines.join('\n');
    case 2: {
      // swap two lines
      const other = rng.int(0, Math.max(0, lines.length - 1));
      const a = lines[at] ?? '';
      lines[at] = lines[other] ?? '';
      lines[other] = a;
      return lines.join('\n');
    }
    case 3: // re-indent a line
      lines[at] = rng.chance(0.3) ? `\t${lines[at] ?? ''}` : `${' '.repeat(rng.int(1, 5))}${(lines[at] ?? '').replace(/^ {0,3}/, rng.chance(0.5) ? '' : ' ')}`;
      return lines.join('\n');
    case 4:
    case 5:
    case 6: {
      // replace a value with a hostile one
      const line = lines[at] ?? '';
      const m = /^(\s*(?:- )?[A-Za-z_"!<>=@%]+[\w"]*:\s*)(.*)$/.exec(line);
      lines[at] = m ? `${m[1]}${hostileValue(rng)}` : `${line} ${hostileValue(rng)}`;
      return lines.join('\n');
    }
    case 7: // insert a key
      lines.splice(at, 0, `${' '.repeat(rng.pick([0, 2, 4]))}${rng.pick(KEYS)}: ${hostileValue(rng)}`);
      return lines.join('\n');
    case 8: // cut the file short
      return text.slice(0, rng.int(0, text.length));
    case 9: {
      // an alias bomb: each level doubles nine times
      const bomb = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      for (let i = 1; i < rng.int(3, 9); i++) bomb.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(',')}]`);
      return `${bomb.join('\n')}\n${text}`;
    }
    case 10: {
      // control characters, a byte-order mark, CRLF
      const pos = rng.int(0, text.length);
      const junk = rng.pick(['\u0000', '\ufeff', '\r\n', '\u0085', '\u2028', '\t', '\u001b[31m', '%YAML 1.1\n---\n', '--- !!map\n', '...\n']);
      return `${text.slice(0, pos)}${junk}${text.slice(pos)}`;
    }
    case 11: // another document
      return `${text}\n---\n${rng.chance(0.5) ? text : hostileValue(rng)}\n`;
    default: {
      // random characters at a random place
      const pos = rng.int(0, text.length);
      return `${text.slice(0, pos)}${rng.string(rng.int(1, 8), ':{}[]&*!|>\'"%@`#,-? \n')}${text.slice(pos)}`;
    }
  }
}

/** Give every rule id in `text` a unique one, so files validated together do not refuse each other as duplicates. */
export function uniqueIds(text: string, tag: string): string {
  let n = 0;
  return text.replace(/^id:\s*\S+/gm, () => `id: fuzz-${tag}-${n++}`);
}

/** A mutated copy of `seedText`: unique rule ids, then one to three random edits. */
export function mutateRuleFile(seedText: string, tag: string, rng: Random): string {
  let text = uniqueIds(seedText, tag);
  const edits = rng.int(1, 3);
  for (let i = 0; i < edits; i++) text = mutateOnce(text, rng);
  return text;
}
