import type { Command } from "./common/command.ts";
import { UsageError, ExitCode } from "../errors.ts";
import { SPEC_LOOKUP, TAGLINE } from "./common/about.ts";

/** Builds the `help` verb over the given command table. */
export function helpCommand(commands: () => Command[]): Command {
  return {
    name: "help",
    summary: "Show this help, or the usage of one command",
    usage: "podunit help [COMMAND]",
    options: {},
    args: ["verb"],
    async run(args, io) {
      if (args.length > 1) throw new UsageError("'podunit help' takes at most one command name.");
      const all = commands().filter((c) => !c.hidden || c.name === args[0]);
      if (args.length === 1) {
        const c = all.find((x) => x.name === args[0]);
        if (!c) throw new UsageError(`Unknown command '${args[0]}'.`);
        io.out(`${c.summary}.\n\nUsage: ${c.usage}\n`);
        return 0;
      }
      const width = Math.max(...all.map((c) => c.name.length));
      io.out(
        [
          `podunit: ${TAGLINE}.`,
          "",
          "Usage: podunit COMMAND [OPTIONS] [ARGS]",
          "",
          "Commands:",
          ...all.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
          "",
          SPEC_LOOKUP,
          "Run 'podunit help COMMAND' for a command's options.",
          "",
          `Exit codes: ${ExitCode.OK} ok, ${ExitCode.FAILURE} failed, ${ExitCode.USAGE} usage error, ${ExitCode.INVALID_SPEC} invalid spec, ` +
            `${ExitCode.SYSTEMD_UNREACHABLE} systemd unreachable, ${ExitCode.NOT_FOUND} not found, ${ExitCode.PERMISSION} refused, ` +
            `${ExitCode.INTERNAL} internal error.`,
          "",
        ].join("\n"),
      );
      return 0;
    },
  };
}
