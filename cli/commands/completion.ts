/** `rules completion bash|zsh|fish`: print the shell completion script, built from the CLI's own command and option tables. */
import { UsageError } from '../../engine/errors.js';
import { closest } from '../../engine/suggest.js';
import { parse } from '../args.js';
import { EXIT, type Command } from '../command.js';
import { completionSpec } from '../completion-spec.js';
import { renderCompletion, SHELLS, type Shell } from '../completion-scripts.js';

const usage = `Usage: b24-rules completion bash|zsh|fish

Print the shell completion script for b24-rules (and its other name, rules):
the commands, their subcommands and options, the values of options that take
one of a list (--format, --plan, --log-level...) and files elsewhere. It is
built from the commands' own option tables, so it matches the installed version.

  bash  source <(b24-rules completion bash)          (in ~/.bashrc), or
        b24-rules completion bash > ~/.local/share/bash-completion/completions/b24-rules
  zsh   b24-rules completion zsh > "\${fpath[1]}/_b24-rules"   (then compinit), or
        source <(b24-rules completion zsh)           (in ~/.zshrc, after compinit)
  fish  b24-rules completion fish > ~/.config/fish/completions/b24-rules.fish

Exit codes: 0 printed, 2 bad usage.
`;

const command: Command = {
  summary: 'print the shell completion script for bash, zsh or fish',
  usage,
  async run(argv) {
    const { positionals } = parse(argv, {});
    const [shell, ...extra] = positionals;
    if (shell === undefined) throw new UsageError(`name the shell: ${SHELLS.join(', ')} (b24-rules completion bash)`);
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}': give one shell`);
    if (!(SHELLS as readonly string[]).includes(shell)) {
      const guess = closest(shell, [...SHELLS]);
      throw new UsageError(`no completion for '${shell}'${guess ? `; did you mean '${guess}'?` : ''}: the shells are ${SHELLS.join(', ')}`);
    }
    process.stdout.write(renderCompletion(shell as Shell, await completionSpec()));
    return EXIT.OK;
  },
};

export default command;
