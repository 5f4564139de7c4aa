/**
 * A bad command line, as a new user types it, through the built CLI: each
 * mistake exits 2 with a message of ours that names the command and, for a
 * typo, the option or command that was meant; none of Node's parser text.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** No portal in the environment: none of these may need one. */
const NO_PORTAL = { B24_WEBHOOK_URL: '', B24_DOMAIN: '', B24_AUTH_MODE: '', B24_ACCESS_TOKEN: '', B24_REFRESH_TOKEN: '', B24_WEBHOOK_CODE: '' };
/** Node's parser explains '--' and positionals; that text must not reach the user. */
const NODE_PARSER_TEXT = /To specify a positional argument|This command does not take positional arguments|argument is ambiguous|<value>/;

async function usage(args: string[]): Promise<string> {
  const r = await runCli(args, { env: NO_PORTAL });
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(NODE_PARSER_TEXT);
  return r.stderr;
}

describe.concurrent('a mistyped option', () => {
  it('names the command and the option meant, and exits 2', async () => {
    expect(await usage(['dry-run', 'rules/', '--formt', 'json'])).toBe("rules: Unknown option '--formt' for 'rules dry-run'; did you mean --format?\n");
    expect(await usage(['runs', '--faild'])).toBe("rules: Unknown option '--faild' for 'rules runs'; did you mean --failed?\n");
    expect(await usage(['apply', 'x', '--max-record', '5'])).toBe("rules: Unknown option '--max-record' for 'rules apply'; did you mean --max-records?\n");
  });

  it('with nothing close, points at the command help', async () => {
    expect(await usage(['trace', '1', '--frobnicate'])).toBe("rules: Unknown option '--frobnicate' for 'rules trace'; 'rules trace --help' lists the options\n");
    expect(await usage(['dlq', 'list', '-x'])).toBe("rules: Unknown option '-x' for 'rules dlq'; 'rules dlq --help' lists the options\n");
  });

  it('--json where the command says --format json', async () => {
    expect(await usage(['validate', 'rules/', '--json'])).toBe("rules: Unknown option '--json' for 'rules validate'; did you mean --format json?\n");
  });
});

describe.concurrent('other command-line mistakes', () => {
  it('an option without its value', async () => {
    expect(await usage(['record', '--out'])).toBe('rules: --out needs a value\n');
    expect(await usage(['runs', '--limit', '--failed'])).toBe("rules: --limit needs a value; '--failed' looks like an option (if it is the value, write --limit=--failed)\n");
  });

  it('a value for a switch', async () => {
    expect(await usage(['runs', '--failed=yes'])).toBe("rules: --failed takes no value; got '--failed=yes'\n");
  });

  it('an argument for a command that takes options only', async () => {
    expect(await usage(['record', 'incident.yaml', '--out', 'x.yaml'])).toBe("rules: unexpected argument 'incident.yaml': 'rules record' takes options only\n");
  });

  it('a mistyped command gets a did-you-mean', async () => {
    expect(await usage(['dryrun', 'rules/'])).toBe("rules: unknown command 'dryrun'; did you mean 'dry-run'? Run 'rules --help' for the list.\n");
    expect(await usage(['trcae', '5'])).toContain("did you mean 'trace'?");
    expect(await usage(['dlq', 'lsit'])).toBe("rules: unknown dlq subcommand 'lsit'; did you mean 'list'? Use list, show, retry or drop\n");
    // A name that is a property of every object is still unknown.
    expect(await usage(['constructor'])).toContain("unknown command 'constructor'");
  });

  it('--json and --format disagreeing', async () => {
    expect(await usage(['runs', '--json', '--format', 'text'])).toBe('rules: --json means --format json; it cannot go with --format text\n');
  });
});
