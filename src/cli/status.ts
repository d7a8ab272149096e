import type { Command } from "./command.ts";
import { parseArgs } from "./args.ts";
import { hostFacts, onePod, withSystemd, loadPodSpec } from "./context.ts";
import { isPathRef } from "../podspec/load.ts";
import { NotFoundError } from "../errors.ts";
import { pinProblems, podStatus, type PodStatus, type UnitStatus } from "../status/status.ts";
import type { PodSpec } from "../podspec/types.ts";
import { plan } from "../plan/plan.ts";
import { pinLive } from "../host/ready.ts";
import { formatBytes, formatSince, table, toJson } from "./format.ts";

function stateText(u: UnitStatus): string {
  if (u.state === "not-loaded") return "not loaded";
  const base = `${u.state} (${u.subState})`;
  const limit = u.startLimitHit ? `; start limit hit (${u.startLimit}), not restarted again` : "";
  return u.state === "failed" && u.result ? `${base}: ${u.result}${u.lastExit ? `, ${u.lastExit}` : ""}${limit}` : base;
}

/** The human form of a pod's status. */
export function formatStatus(s: PodStatus, now: Date): string {
  const head = `Pod '${s.pod}': ${s.state}${s.memoryBytes !== undefined ? `, memory ${formatBytes(s.memoryBytes)}` : ""} (${s.slice})\n`;
  if (s.state === "stopped" && s.members.every((m) => m.state === "not-loaded")) return head;
  const rows = [["MEMBER", "UNIT", "STATE", "PID", "MEMORY", "RESTARTS", "SINCE"]];
  for (const u of [s.sandbox, ...s.members]) {
    rows.push([u.name, u.unit, stateText(u), u.mainPid ? String(u.mainPid) : "-", formatBytes(u.memoryBytes),
      u.restarts === undefined ? "-" : String(u.restarts), formatSince(u.since, now)]);
  }
  return head + table(rows) + s.problems.map((p) => `problem: ${p}\n`).join("");
}

export const status: Command = {
  name: "status",
  summary: "Show a pod's state: per member its unit, state, PID, memory, restarts",
  usage: "podunit status POD|FILE [--dir DIR] [--json]",
  async run(args, io) {
    const { options, positionals } = parseArgs("status", args, { dir: { value: true }, json: { value: false } });
    const ref = onePod("status", positionals);
    const dir = options.dir as string | undefined;
    // The spec, when there is one, names members that systemd may have forgotten (exited, not restarted).
    let pod = ref;
    let members: string[] = [];
    let spec: PodSpec | undefined;
    try {
      spec = await loadPodSpec(ref, dir, io);
      pod = spec.name;
      members = spec.members.map((m) => m.name);
    } catch (err) {
      if (isPathRef(ref) || !(err instanceof NotFoundError)) throw err;
    }
    const s = await withSystemd(io, async (sd) => {
      const st = await podStatus(sd, pod, members);
      if (spec) {
        // The pins the spec's plan expects; a spec that no longer plans on this host has nothing to check.
        const p = await hostFacts(io, sd).then((h) => plan(spec!, h)).catch(() => undefined);
        if (p) st.problems.push(...pinProblems(st, p.pins.map((x) => x.path), pinLive));
      }
      return st;
    });
    io.out(options.json ? toJson(s) + "\n" : formatStatus(s, new Date()));
    return 0;
  },
};
