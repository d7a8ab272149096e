import type { Command } from "./common/command.ts";
import { DIR_OPTION, JSON_OPTION, parseArgs } from "./common/args.ts";
import { listPods } from "../pods/listing.ts";
import { jsonDocument, table } from "./common/format.ts";

const OPTIONS = { ...DIR_OPTION, ...JSON_OPTION };

export const list: Command = {
  name: "list",
  summary: "List pods: the running ones and those with a spec",
  usage: "podunit list [--dir DIR] [--json]",
  options: OPTIONS,
  args: [],
  async run(args, io) {
    const { options } = parseArgs("list", args, OPTIONS);
    const all = await listPods(options.dir as string | undefined, io.env);
    if (options.json) {
      io.out(jsonDocument({ pods: all }) + "\n");
      return 0;
    }
    if (all.length === 0) {
      io.out("No pods.\n");
      return 0;
    }
    io.out(table([["POD", "STATE", "MEMBERS", "ADDRESS"], ...all.map((r) => [r.pod, r.state, r.members ? `${r.active}/${r.members} active` : "-", r.addresses?.join(",") || "-"])]));
    return 0;
  },
};
