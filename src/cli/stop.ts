import type { Command, Io } from "./command.ts";
import { parseArgs } from "./args.ts";
import { PodunitError } from "../errors.ts";
import { execDeps, onePod, podName, requireRoot, runDir, withPodLock, withSystemd } from "./context.ts";
import { stopPod, type StopResult } from "../pods/stop.ts";
import { PodLayout } from "../plan/layout.ts";
import type { Systemd } from "../systemd/bus.ts";

/** Stops one pod by name (the caller holds its lock); throws when cleanup left something behind. */
export async function stopOne(pod: string, sd: Systemd, io: Io): Promise<StopResult> {
  const r = await stopPod(pod, new PodLayout(runDir(io), pod).dir, execDeps(sd));
  if (r.problems.length) {
    throw new PodunitError(`Failed to stop pod '${pod}' cleanly: ${r.problems.join("; ")}`, {
      hint: `Run 'podunit stop ${pod}' again; 'podunit status ${pod}' shows what is left.`,
    });
  }
  return r;
}

export const stop: Command = {
  name: "stop",
  summary: "Stop a pod: members first, then the sandbox; removes everything it left",
  usage: "podunit stop POD|FILE [--dir DIR] [--json]",
  async run(args, io) {
    const { options, positionals } = parseArgs("stop", args, { dir: { value: true }, json: { value: false } });
    const pod = await podName(onePod("stop", positionals), options.dir as string | undefined, io);
    requireRoot("stop");
    const r = await withSystemd(io, (sd) => withPodLock(io, pod, () => stopOne(pod, sd, io)));
    if (options.json) io.out(JSON.stringify({ pod, wasRunning: r.wasRunning }) + "\n");
    else io.out(r.wasRunning ? `Pod '${pod}' stopped.\n` : `Pod '${pod}' was not running; nothing to stop.\n`);
    return 0;
  },
};
