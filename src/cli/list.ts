import type { Command } from "./common/command.ts";
import { parseArgs } from "./common/args.ts";
import { listPods } from "../pods/queries.ts";
import { table, toJson } from "./common/format.ts";

export const list: Command = {
  name: "list",
  summary: "List pods: the running ones and those with a spec",
  usage: "podunit list [--dir DIR] [--json]",
  async run(args, io) {
    const { options } = parseArgs("list", args, { dir: { value: true }, json: { value: false } });
    const all = await listPods(options.dir as string | undefined, io.env);
    if (options.json) {
      io.out(toJson(all) + "\n");
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
