/**
 * What every tool of `rules mcp` shares: the options the server was started
 * with, the injected parts that live outside engine/ (the fixture portal and
 * the dry-run planner use the emulator, which engine/ does not import), and
 * the configured portal, named by its domain, never by a webhook code or a
 * token.
 */
import { resolve } from 'node:path';
import { createClient, loadConfig, type ClientConfig } from '../client/index.js';
import type { DryRunInputs, DryRunOutcome, StartFixturePortal } from '../plan/index.js';

/** How `rules mcp` was started. */
export interface McpOptions {
  /** apply_plan and dlq_retry work only with this (`--allow-writes`); every other portal call is read-only regardless. */
  allowWrites: boolean;
  /** The working directory: relative paths in tool arguments resolve against it. */
  cwd: string;
  /** The rule files and folders tools use when given none. @default <cwd>/rules */
  rulePaths?: string[];
  /** The daemon's state file for runs, trace, dlq_list, dlq_retry. @default <cwd>/.rules/state.db */
  statePath?: string;
  /** The environment the portal's configuration is read from (with <cwd>/.env). @default process.env */
  env?: Record<string, string | undefined>;
  /** The package version, announced to the client. */
  version: string;
  startFixturePortal: StartFixturePortal;
  /** The CLI's dry-run planner (cli/dry-run-inputs.ts). */
  planDryRun: (inputs: DryRunInputs) => Promise<DryRunOutcome>;
}

/** The options with their defaults, and the portal helpers. */
export class McpContext {
  readonly allowWrites: boolean;
  readonly cwd: string;
  readonly rulePaths: string[];
  readonly statePath: string;
  readonly env: Record<string, string | undefined>;

  constructor(readonly options: McpOptions) {
    this.allowWrites = options.allowWrites;
    this.cwd = resolve(options.cwd);
    this.rulePaths = (options.rulePaths ?? ['rules']).map((p) => resolve(this.cwd, p));
    this.statePath = resolve(this.cwd, options.statePath ?? '.rules/state.db');
    this.env = options.env ?? process.env;
  }

  /** A path from a tool argument, against the working directory. */
  path(p: string): string {
    return resolve(this.cwd, p);
  }

  /** Rule paths from a tool argument, or the default ones. */
  paths(given: readonly string[] | undefined): string[] {
    return given && given.length > 0 ? given.map((p) => this.path(p)) : this.rulePaths;
  }

  /** The configured portal's client configuration (throws CONFIG_INVALID when none is configured). */
  config(): ClientConfig {
    return loadConfig(this.env, this.cwd);
  }

  /**
   * A client of the configured portal. Read-only unless `write` is asked for
   * and the server was started with --allow-writes: the client then refuses
   * every write method before sending it, as in a dry run.
   */
  client(write = false): { client: ReturnType<typeof createClient>; portal: string } {
    const config = this.config();
    return { client: createClient(config, { readOnly: !(write && this.allowWrites) }), portal: portalName(config.baseUrl) };
  }
}

/** A portal's name for answers: its host (and port), never the path, which holds a webhook code. */
export function portalName(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return '(unparseable portal address)';
  }
}
