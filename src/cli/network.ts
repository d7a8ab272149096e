import type { Command } from "./common/command.ts";
import { parseArgs } from "./common/args.ts";
import { PodunitError, UsageError } from "../errors.ts";
import { reconcileNetworks } from "../pods/network.ts";
import { runDir } from "../pods/wiring.ts";

export const network: Command = {
  name: "network",
  summary: "Put back the firewall rules of running bridged pods (after a firewall flush or reload)",
  usage: "podunit network reconcile",
  options: {},
  args: [],
  subcommands: [{ name: "reconcile", options: {}, args: [] }],
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub !== "reconcile") throw new UsageError(`Unknown subcommand 'network ${sub ?? ""}'; the one there is: reconcile.`);
    parseArgs("network reconcile", rest, {});
    const r = await reconcileNetworks(runDir(io.env));
    if (r.problems.length) throw new PodunitError(`Failed to put back every pod's rules: ${r.problems.join("; ")}`);
    io.out(r.pods.length ? `Rules put back for ${r.pods.map((p) => `'${p}'`).join(", ")}.\n` : "No bridged pod is running.\n");
    return 0;
  },
};
