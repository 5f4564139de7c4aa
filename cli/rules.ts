#!/usr/bin/env node
/**
 * The `rules` command: a thin dispatcher. Each subcommand lives in its own
 * module under cli/commands/ and is loaded only when used, so `rules call`
 * does not pay for the engine's start-up.
 */
import { B24RulesError, UsageError } from '../engine/errors.js';
import { redact } from '../engine/redact.js';
import { closest } from '../engine/suggest.js';
import { CommandLineError } from './args.js';
import { COMMANDS } from './command-table.js';
import { EXIT, type Command } from './command.js';

/** The name the command was run by (b24-rules or rules), for its messages. */
const PROGRAM = (process.argv[1] ?? '').replace(/\\/g, '/').split('/').pop() === 'b24-rules' ? 'b24-rules' : 'rules';

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`);
  return [
    'Usage: rules COMMAND [options]',
    '',
    'Declarative automation rules for Bitrix24.',
    'Installed as b24-rules and rules (the same command): in a rules repository, run npx b24-rules.',
    '',
    'Commands:',
    ...lines,
    '',
    'Global options:',
    '  --log-level LEVEL  fatal|error|warn|info|debug|trace|silent (default info)',
    '  -h, --help         show help (rules COMMAND --help for a command)',
    '  -v, --version      print the version',
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(help());
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === '-v' || name === '--version') {
    const { readFileSync } = await import('node:fs');
    const { PACKAGE_ROOT } = await import('../engine/paths.js');
    const pkg = JSON.parse(readFileSync(`${PACKAGE_ROOT}/package.json`, 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return EXIT.OK;
  }
  if (!Object.hasOwn(COMMANDS, name)) {
    const guess = closest(name, Object.keys(COMMANDS));
    process.stderr.write(`${PROGRAM}: unknown command '${redact(name)}'${guess ? `; did you mean '${guess}'?` : '.'} Run '${PROGRAM} --help' for the list.\n`);
    return EXIT.USAGE;
  }
  const mod = (await import(`./commands/${name}.js`)) as { default: Command };
  const command = mod.default;
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage.endsWith('\n') ? command.usage : `${command.usage}\n`);
    return EXIT.OK;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    // Only here is the command's name known: a bad option says which command it was given to.
    if (err instanceof CommandLineError) throw new UsageError(err.forCommand(`${PROGRAM} ${name}`));
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${PROGRAM}: ${err.message}\n`);
      process.exitCode = EXIT.USAGE;
    } else if (err instanceof B24RulesError) {
      process.stderr.write(`${PROGRAM}: ${err.code}: ${err.message}\n`);
      process.exitCode = EXIT.ERROR;
    } else {
      const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`${PROGRAM}: unexpected error: ${redact(msg)}\n`);
      process.exitCode = EXIT.ERROR;
    }
  },
);
