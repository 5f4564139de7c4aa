/** The contract every `rules` subcommand module implements (one file per command in cli/commands/). */
export interface Command {
  /** One line for `rules --help`. */
  summary: string;
  /** Full usage text for `rules COMMAND --help`. */
  usage: string;
  /** Run with the arguments after the command name; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** Exit codes shared by all commands. */
export const EXIT = {
  OK: 0,
  /** Errors: invalid rules, API error, failed tests. */
  ERROR: 1,
  /** Bad usage (unknown flag, missing argument). `dry-run --detailed-exitcode` uses 2 for "changes planned", as terraform does. */
  USAGE: 2,
} as const;
