/** `rules mcp`: the MCP server (stdio) for AI assistants: validate, dry-run, test, look up, read the journal. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveStdio } from '../../engine/mcp/index.js';
import { PACKAGE_ROOT } from '../../engine/paths.js';
import { parse } from '../args.js';
import { EXIT, type Command } from '../command.js';
import { planDryRun } from '../dry-run-inputs.js';
import { startFixturePortal } from '../fixture-portal.js';

const usage = `Usage: rules mcp [--rules PATH]... [--state PATH] [--allow-writes]

Serve the Model Context Protocol on stdin and stdout, for an AI assistant
(Claude Code, Codex, Cursor, VS Code...) to write, check and dry-run rules with
the loop a person uses. Register it in the client as a stdio server whose
command is 'npx rules mcp', started in the rules repository (docs/mcp.md).

Tools: validate, dry_run, run_tests, catalog_search, method_info,
list_events, portal_lookup, runs, trace, dlq_list; apply_plan and dlq_retry
(destructive). Resources: the JSON Schemas, docs/rule-format.md, the
scenario rules. The portal is the one configured for 'rules call' (the
environment and ./.env); every tool that reads it names it by its domain.

Options:
  --rules PATH     the rule files or folders tools use when given none
                   (repeatable; default ./rules)
  --state PATH     the daemon's state file for runs, trace, dlq_list and
                   dlq_retry (default .rules/state.db)
  --allow-writes   let apply_plan carry out a plan on the portal and
                   dlq_retry requeue dead letters; without it they are
                   refused (WRITES_NOT_ALLOWED) and every client is read-only

Logs go to stderr; stdout carries the protocol only. Ends when the client
closes stdin.
`;

const command: Command = {
  summary: 'serve the MCP server (stdio) for AI assistants',
  usage,
  async run(argv) {
    const { values } = parse(argv, { rules: { type: 'string', multiple: true }, state: { type: 'string' }, 'allow-writes': { type: 'boolean' } }, false);
    // stdout is the protocol's: a stray console.log anywhere below would corrupt a message.
    console.log = console.error;
    console.info = console.error;
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
    await serveStdio({
      allowWrites: values['allow-writes'] === true,
      cwd: process.cwd(),
      ...(values.rules?.length ? { rulePaths: values.rules } : {}),
      ...(values.state ? { statePath: values.state } : {}),
      version: pkg.version,
      startFixturePortal,
      planDryRun,
    });
    return EXIT.OK;
  },
};

export default command;
