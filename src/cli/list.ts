import type { Command } from "./command.ts";
import { parseArgs } from "./args.ts";
import { withSystemd } from "./context.ts";
import { listSpecs, specDir } from "../podspec/load.ts";
import { listPods } from "../status/status.ts";
import { table, toJson } from "./format.ts";

interface PodRow {
  pod: string;
  state: string;
  /** Member units active / loaded. */
  active: number;
  members: number;
  /** Whether a spec file for the pod exists in the spec directory. */
  spec: boolean;
}

export const list: Command = {
  name: "list",
  summary: "List pods: the running ones and those with a spec",
  usage: "podunit list [--dir DIR] [--json]",
  async run(args, io) {
    const { options } = parseArgs("list", args, { dir: { value: true }, json: { value: false } });
    const [pods, specs] = await Promise.all([
      withSystemd(io, (sd) => listPods(sd)),
      listSpecs(specDir({ dir: options.dir as string | undefined, env: io.env })),
    ]);
    const rows = new Map<string, PodRow>();
    for (const { pod, entries } of pods) {
      const members = entries.filter((e) => e.name.endsWith(".service") && !e.name.endsWith("-sandbox.service"));
      const live = entries.filter((e) => e.activeState !== "inactive" && e.activeState !== "failed");
      const active = members.filter((e) => e.activeState === "active").length;
      const failed = entries.some((e) => e.activeState === "failed");
      const state = live.length === 0 ? "stopped" : failed || active < members.length ? "degraded" : "running";
      rows.set(pod, { pod, state, active, members: members.length, spec: false });
    }
    for (const s of specs) {
      const row = rows.get(s);
      if (row) row.spec = true;
      else rows.set(s, { pod: s, state: "stopped", active: 0, members: 0, spec: true });
    }
    const all = [...rows.values()].sort((a, b) => a.pod.localeCompare(b.pod));
    if (options.json) {
      io.out(toJson(all) + "\n");
      return 0;
    }
    if (all.length === 0) {
      io.out("No pods.\n");
      return 0;
    }
    io.out(table([["POD", "STATE", "MEMBERS"], ...all.map((r) => [r.pod, r.state, r.members ? `${r.active}/${r.members} active` : "-"])]));
    return 0;
  },
};
