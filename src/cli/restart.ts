import type { Command } from "./command.ts";
import { parseArgs } from "./args.ts";
import { execDeps, hostFacts, loadPodSpec, onePod, requireRoot, withPodLock, withSystemd } from "./context.ts";
import { backendOption, describeStart, START_OPTIONS } from "./start.ts";
import { stopOne } from "./stop.ts";
import { plan } from "../plan/plan.ts";
import { startPod } from "../exec/start.ts";

export const restart: Command = {
  name: "restart",
  summary: "Stop a pod and start it again from its spec",
  usage: "podunit restart POD|FILE [--dir DIR] [--backend runc|native] [--json]",
  async run(args, io) {
    const { options, positionals } = parseArgs("restart", args, START_OPTIONS);
    const ref = onePod("restart", positionals);
    requireRoot("restart");
    // The spec is checked before anything is stopped: a broken spec leaves the running pod alone.
    const spec = await loadPodSpec(ref, options.dir as string | undefined, io);
    const backend = backendOption(options.backend);
    if (backend) spec.sandbox = backend;
    const r = await withSystemd(io, async (sd) => {
      const p = plan(spec, await hostFacts(io, sd));
      return withPodLock(io, p.pod, async () => {
        await stopOne(p.pod, sd, io);
        return startPod(p, execDeps(sd));
      });
    });
    io.out(options.json ? JSON.stringify(r) + "\n" : describeStart(r).replace("started", "restarted"));
    return 0;
  },
};
