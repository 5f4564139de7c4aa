/** `rules demo` (npm start): the daemon on the embedded emulator with the scenario rules and simulated activity. */
import { resolve } from 'node:path';
import { startDemo } from '../../demo/index.js';
import { readConsoleToken } from '../../engine/console/index.js';
import { readEnvironment } from '../../engine/config.js';
import { intOption, logLevel, parse } from '../args.js';
import { EXIT, type Command } from '../command.js';

const usage = `Usage: rules demo [PATHS...] [--listen HOST:PORT] [--console-token-file FILE] [--state PATH] [--duration SECONDS] [--log-level LEVEL]

Start an emulated Bitrix24 portal in this process, the daemon with the scenario
rules (default: the package's rules/, and rules/demo/: a shadow twin of the
lead-scoring rule that journals its calls, never sends them), a stub of the external services the
rules call (enrichment, AI summary, sync, a task tracker, an ERP), and a generator of portal activity:
leads from several sources, deals moving through stages, contacts with messy
phones, a stale deal, a website form. Prints what happens and what the rules
did. Ctrl-C stops it.

Options:
  --listen HOST:PORT   the daemon's status and webhook server (default 127.0.0.1:0);
                       beyond loopback its web console needs a token
                       (B24_RULES_CONSOLE_TOKEN or --console-token-file)
  --console-token-file FILE
                       the console token from FILE's first line (16+ chars)
  --state PATH         keep the state file here (default: a temporary file)
  --duration SECONDS   stop by itself after this long
  --log-level LEVEL    also show daemon log lines at this level (default warn)
`;

const command: Command = {
  summary: 'run the daemon on the embedded emulator with the example rules and simulated activity (npm start)',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { listen: { type: 'string' }, state: { type: 'string' }, duration: { type: 'string' }, 'console-token-file': { type: 'string' } });
    const duration = intOption('duration', values.duration, 1);
    const consoleToken = readConsoleToken(readEnvironment(), values['console-token-file']);
    const demo = await startDemo({
      ...(positionals.length ? { rulesPaths: positionals.map((p) => resolve(p)) } : {}),
      ...(values.listen ? { listen: values.listen } : {}),
      ...(values.state ? { statePath: resolve(values.state) } : {}),
      logLevel: logLevel(values['log-level'] ?? 'warn'),
      consoleToken,
    });
    await new Promise<void>((done) => {
      let stopping = false;
      const stop = () => {
        if (stopping) process.exit(130);
        stopping = true;
        setTimeout(() => process.exit(1), 10_000).unref();
        void demo.stop().then(done, done);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      if (duration !== undefined) setTimeout(stop, duration * 1000).unref();
    });
    return EXIT.OK;
  },
};

export default command;
