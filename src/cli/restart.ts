import type { Command } from "./command.ts";
import { parseArgs } from "./args.ts";
import { onePod, requireRoot } from "./context.ts";
import { backendOption, describeStart, START_OPTIONS, startOne } from "./start.ts";

export const restart: Command = {
  name: "restart",
  summary: "Stop a pod and start it again from its spec",
  usage: "podunit restart POD|FILE [--dir DIR] [--backend runc|native] [--json]",
  async run(args, io) {
    const { options, positionals } = parseArgs("restart", args, START_OPTIONS);
    const ref = onePod("restart", positionals);
    requireRoot("restart");
    const dir = options.dir as string | undefined;
    const r = await startOne(ref, { dir, backend: backendOption(options.backend), restart: true }, io);
    io.out(options.json ? JSON.stringify(r) + "\n" : describeStart(r).replace("started", "restarted"));
    return 0;
  },
};
