import type { Command } from "./common/command.ts";
import { DIR_OPTION, JSON_OPTION, parseArgs } from "./common/args.ts";
import { onePod } from "./common/verbs.ts";
import type { PodStatus, UnitStatus } from "../status/status.ts";
import { statusOf } from "../pods/queries.ts";
import { formatBytes, formatSince, jsonDocument, table } from "./common/format.ts";

function stateText(u: UnitStatus): string {
  if (u.state === "not-loaded") return "not loaded";
  const base = `${u.state} (${u.subState})`;
  const limit = u.startLimitHit ? `; start limit hit (${u.startLimit}), not restarted again` : "";
  return u.state === "failed" && u.result ? `${base}: ${u.result}${u.lastExit ? `, ${u.lastExit}` : ""}${limit}` : base;
}

function healthText(u: UnitStatus): string {
  const h = u.health;
  if (!h) return "-";
  return h.failures > 0 && h.status !== "unhealthy" ? `${h.status} (${h.failures} failed)` : h.status;
}

/** The human form of a pod's status. */
export function formatStatus(s: PodStatus, now: Date): string {
  const head = `Pod '${s.pod}': ${s.state}${s.memoryBytes !== undefined ? `, memory ${formatBytes(s.memoryBytes)}` : ""} (${s.slice})\n`;
  if (s.state === "stopped" && s.members.every((m) => m.state === "not-loaded")) return head;
  const checked = s.members.some((m) => m.health);
  const rows = [["MEMBER", "UNIT", "RUNTIME", "STATE", "PID", "MEMORY", "RESTARTS", "SINCE", ...(checked ? ["HEALTH"] : [])]];
  for (const u of [s.sandbox, ...s.members]) {
    rows.push([u.name, u.unit, u.runtime ?? "-", stateText(u), u.mainPid ? String(u.mainPid) : "-", formatBytes(u.memoryBytes),
      u.restarts === undefined ? "-" : String(u.restarts), formatSince(u.since, now), ...(checked ? [healthText(u)] : [])]);
  }
  const net = s.network ? `Address: ${s.network.addresses.join(", ") || "-"}${s.network.ports.length ? `; ports: ${s.network.ports.join(", ")}` : ""}\n` +
      (s.network.machine && s.network.machine !== "registered" ? `Not registered with systemd-machined: ${s.network.machine}\n` : "") : "";
  const ids = s.userns ? `User namespace: ids 0-${s.userns.size - 1} are host ids ${s.userns.start}-${s.userns.start + s.userns.size - 1}\n` : "";
  const failures = s.members.flatMap((u) =>
    u.health?.lastFailure ? [`last failed check of ${u.name}: ${formatSince(u.health.lastFailure.at, now)}: ${u.health.lastFailure.output}\n`] : [],
  );
  return head + net + ids + table(rows) + failures.join("") + s.problems.map((p) => `problem: ${p}\n`).join("");
}

const OPTIONS = { ...DIR_OPTION, ...JSON_OPTION };

export const status: Command = {
  name: "status",
  summary: "Show a pod's state: per member its unit, state, PID, memory, restarts",
  usage: "podunit status POD|FILE [--dir DIR] [--json]",
  options: OPTIONS,
  args: ["pod"],
  async run(args, io) {
    const { options, positionals } = parseArgs("status", args, OPTIONS);
    const s = await statusOf(onePod("status", positionals), options.dir as string | undefined, io.env);
    io.out(options.json ? jsonDocument(s) + "\n" : formatStatus(s, new Date()));
    return 0;
  },
};
