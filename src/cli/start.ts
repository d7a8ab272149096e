import type { Command } from "./common/command.ts";
import { parseArgs } from "./common/args.ts";
import { backendOption, describeStart, onePod, requireRoot, START_OPTIONS } from "./common/verbs.ts";
import { startPod } from "../pods/lifecycle.ts";

export const start: Command = {
  name: "start",
  summary: "Start a pod from its spec; returns once every member is active",
  usage: "podunit start POD|FILE [--dir DIR] [--backend runc|native] [--json]",
  async run(args, io) {
    const { options, positionals } = parseArgs("start", args, START_OPTIONS);
    const ref = onePod("start", positionals);
    requireRoot("start");
    const r = await startPod({ ref, dir: options.dir as string | undefined, backend: backendOption(options.backend) }, io.env);
    io.out(options.json ? JSON.stringify(r) + "\n" : describeStart(r));
    return 0;
  },
};
