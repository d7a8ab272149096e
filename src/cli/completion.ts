/** `podunit completion bash|zsh|fish`: prints the shell's completion script (common/completion-scripts.ts). */
import type { Command } from "./common/command.ts";
import { parseArgs } from "./common/args.ts";
import { UsageError } from "../errors.ts";
import { completionScript } from "./common/completion-scripts.ts";
import { SHELLS } from "./common/complete.ts";

export const completion: Command = {
  name: "completion",
  summary: "Print the shell completion script for bash, zsh or fish",
  usage: `podunit completion bash|zsh|fish

  bash:  source <(podunit completion bash)     (or put it in ~/.local/share/bash-completion/completions/podunit)
  zsh:   podunit completion zsh > "\${fpath[1]}/_podunit"
  fish:  podunit completion fish > ~/.config/fish/completions/podunit.fish

'podunit system install' and the package put all three where the shells look.`,
  options: {},
  args: ["shell"],
  async run(args, io) {
    const { positionals } = parseArgs("completion", args, {});
    const shell = positionals[0];
    if (positionals.length !== 1 || !SHELLS.includes(shell as (typeof SHELLS)[number])) {
      throw new UsageError(`'podunit completion' takes one shell: ${SHELLS.join(", ")}${shell ? `, found '${positionals.join(" ")}'` : ""}.`);
    }
    io.out(completionScript(shell as (typeof SHELLS)[number]));
    return 0;
  },
};
