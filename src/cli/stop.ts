import type { Command } from "./common/command.ts";
import { DIR_OPTION, JSON_OPTION, parseArgs } from "./common/args.ts";
import { onePod, requireRoot } from "./common/verbs.ts";
import { podName } from "../pods/context.ts";
import { stopPod } from "../pods/stopping.ts";
import { jsonDocument } from "./common/format.ts";

const OPTIONS = { ...DIR_OPTION, ...JSON_OPTION };

export const stop: Command = {
  name: "stop",
  summary: "Stop a pod: members first, then the sandbox; removes everything it left",
  usage: "podunit stop POD|FILE [--dir DIR] [--json]",
  options: OPTIONS,
  args: ["pod"],
  async run(args, io) {
    const { options, positionals } = parseArgs("stop", args, OPTIONS);
    const ref = onePod("stop", positionals);
    const dir = options.dir as string | undefined;
    // The name first: a spec file that does not load is reported as such, also to non-root users.
    const pod = await podName(ref, dir, io.env);
    requireRoot("stop");
    const r = await stopPod(pod, undefined, io.env);
    if (options.json) io.out(jsonDocument({ pod, wasRunning: r.wasRunning }) + "\n");
    else io.out(r.wasRunning ? `Pod '${pod}' stopped.\n` : `Pod '${pod}' was not running; nothing to stop.\n`);
    return 0;
  },
};
