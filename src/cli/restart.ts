import type { Command } from "./common/command.ts";
import { parseArgs } from "./common/args.ts";
import { backendOption, describeStart, onePod, requireRoot, START_OPTIONS } from "./common/verbs.ts";
import { restartPod } from "../pods/lifecycle.ts";

export const restart: Command = {
  name: "restart",
  summary: "Stop a pod and start it again from its spec",
  usage: "podunit restart POD|FILE [--dir DIR] [--backend runc|native] [--json]",
  async run(args, io) {
    const { options, positionals } = parseArgs("restart", args, START_OPTIONS);
    const ref = onePod("restart", positionals);
    requireRoot("restart");
    const r = await restartPod({ ref, dir: options.dir as string | undefined, backend: backendOption(options.backend) }, io.env);
    io.out(options.json ? JSON.stringify(r) + "\n" : describeStart(r, "restarted"));
    return 0;
  },
};
