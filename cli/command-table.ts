/**
 * The table of `rules` subcommands: name and one-line summary. The dispatcher
 * (rules.ts) loads `commands/<name>.js` for a name found here; `--help` lists
 * it, and `rules completion` builds the shell completion from it.
 */
export const COMMANDS: Record<string, string> = {
  run: 'run the daemon: offline events, outgoing webhooks, schedules',
  demo: 'run the daemon on the embedded emulator with the example rules and simulated activity (npm start)',
  init: 'scaffold a rules repository: an example rule with its test and fixtures, editor settings, CI workflow',
  validate: 'validate rule files against the schemas',
  scopes: 'list the Bitrix24 scopes the rules need (for the webhook or app settings)',
  'dry-run': 'plan what rules would do, without writing',
  diff: 'show what a rule change changes: plan the same inputs with the base rules and the changed ones, and compare',
  test: 'run rule tests (*.test.yaml)',
  apply: 'run a manual or bulk rule, or carry out a saved plan',
  call: 'call one REST method and print the response envelope',
  emulator: 'start the Bitrix24 portal emulator',
  record: 'capture events and the records they name into a test fixture',
  dlq: 'list, show, retry or drop dead-lettered work',
  runs: 'list rule runs from the journal',
  timers: 'list or cancel timers (delays, for: durations)',
  trace: 'show the trace of one rule run',
  mcp: 'serve the MCP server (stdio) for AI assistants',
  portals: 'list, add, enable, disable or remove the portals of a PostgreSQL deployment',
  portal: "pull the portal's fields, stages, list values and users into .rules/portal.json",
  completion: 'print the shell completion script for bash, zsh or fish',
};
