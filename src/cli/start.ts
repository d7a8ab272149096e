/** `podunit start` and `podunit restart`: the same arguments, the same output, one use case each. */
import type { Command } from "./common/command.ts";
import { parseArgs } from "./common/args.ts";
import { backendOption, describeStart, onePod, requireRoot, START_OPTIONS } from "./common/verbs.ts";
import { restartPod, startPod } from "../pods/lifecycle.ts";
import { jsonDocument } from "./common/format.ts";
import { startPullProgress } from "./common/progress.ts";

function startVerb(name: "start" | "restart", summary: string): Command {
  return {
    name,
    summary,
    usage: `podunit ${name} POD|FILE [--dir DIR] [--backend crun|runc|native] [--json]`,
    options: START_OPTIONS,
    args: ["pod"],
    async run(args, io) {
      const { options, positionals } = parseArgs(name, args, START_OPTIONS);
      const ref = onePod(name, positionals);
      requireRoot(name);
      const req = { ref, dir: options.dir as string | undefined, backend: backendOption(options.backend), onPull: startPullProgress(io, options.json === true) };
      const r = await (name === "start" ? startPod : restartPod)(req, io.env);
      io.out(options.json ? jsonDocument(r) + "\n" : describeStart(r, `${name}ed`));
      return 0;
    },
  };
}

export const start = startVerb("start", "Start a pod from its spec; returns once every member is active");
export const restart = startVerb("restart", "Stop a pod and start it again from its spec");
