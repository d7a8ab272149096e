/**
 * Looking at two pods side by side in a lab: one started with `podunit start`
 * (transient units), one from its unit files. Everything is read as systemd and
 * the kernel report it, with each pod's name replaced by POD so the two compare.
 */
import type { Lab } from "../lab/lab.ts";

/** Dependency properties: lists of unit names whose order systemd does not keep. */
// Lists whose order systemd does not keep the same way for both forms (RequiresMountsFor
// comes from RuntimeDirectory=, in hash order): compared as sets.
const RELATIONS = new Set([
  "RequiresMountsFor",
  "After", "Before", "Requires", "RequiredBy", "Requisite", "RequisiteOf", "Wants", "WantedBy", "BindsTo", "BoundBy",
  "PartOf", "ConsistsOf", "Upholds", "UpheldBy", "Conflicts", "ConflictedBy", "SliceOf", "Triggers", "TriggeredBy",
  "PropagatesReloadTo", "ReloadPropagatedFrom", "JoinsNamespaceOf", "OnFailure", "OnSuccess",
]);

/**
 * Properties that describe one run or one load rather than the unit: timestamps,
 * PIDs, invocation and cgroup ids, usage counters, where the unit was loaded from.
 */
const RUNTIME = /Timestamp|^InvocationID$|^ControlGroupId$|PID$|^(Memory|Tasks)(Current|Available)$|^CPUUsageNSec$|^(IP|IO)[A-Z]|^FragmentPath$|^Transient$|^UnitFileState$|^UnitFilePreset$|^DropInPaths$|^NeedDaemonReload$/;

/**
 * Text with the pod's name replaced by POD: as is, escaped in unit names (`\x2d`), and
 * escaped once more where systemctl quotes a unit name (`\\x2d`).
 */
export function neutral(text: string, pod: string): string {
  return text.replaceAll(pod.replaceAll("-", "\\\\x2d"), "POD").replaceAll(pod.replaceAll("-", "\\x2d"), "POD").replaceAll(pod, "POD");
}

/** `systemctl show` of a unit as key → values (Exec lines repeat), with the pod's names made neutral. */
export async function showUnit(lab: Lab, unit: string, pod: string): Promise<Map<string, string[]>> {
  const text = await lab.sh(["systemctl", "show", "--no-pager", unit]);
  const out = new Map<string, string[]>();
  for (const line of text.split("\n").filter(Boolean)) {
    const eq = line.indexOf("=");
    const key = line.slice(0, eq);
    const value = neutral(line.slice(eq + 1), pod);
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

/**
 * What must be equal between the two forms: run-time facts dropped, dependency lists
 * sorted and without the pod's target (unit files only), Exec lines without their
 * run's status and without `podunit internal prepare`, `ready` and `wait-exec`
 * (unit files only: `podunit start` makes the sandbox and containers ready itself).
 */
export function comparable(props: Map<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, values] of props) {
    if (RUNTIME.test(key)) continue;
    let v = values;
    if (RELATIONS.has(key)) {
      const names = values.join(" ").split(" ").map((u) => u.replace(/^"(.*)"$/, "$1"));
      v = [names.filter((u) => u && u !== "podunit-POD.target").sort().join(" ")];
    }
    if (key.startsWith("Exec")) v = values.filter((x) => !/ internal (prepare|ready|wait-exec) /.test(x)).map((x) => x.replace(/ ; start_time=.*(?= \})/, ""));
    if (v.length === 0 || (v.length === 1 && v[0] === "")) continue;
    out[key] = v;
  }
  return out;
}

/** A property's single value. */
export async function prop(lab: Lab, unit: string, name: string): Promise<string> {
  return (await lab.sh(["systemctl", "show", "--value", "-p", name, unit])).trim();
}

/** How a unit's process relates to the pod's namespaces: "sandbox" (joined), "host" (the lab's own) or "own". */
export async function sharing(lab: Lab, units: { sandbox: string; others: string[] }): Promise<Record<string, Record<string, string>>> {
  const kinds = ["net", "ipc", "uts", "mnt", "pid_for_children"];
  const inodes = async (pid: string) => Object.fromEntries(await Promise.all(kinds.map(async (k) => [k, (await lab.sh(["readlink", `/proc/${pid}/ns/${k}`])).trim()])));
  const host = await inodes("1");
  const sandbox = await inodes(await prop(lab, units.sandbox, "MainPID"));
  const out: Record<string, Record<string, string>> = {};
  for (const u of units.others) {
    const mine = await inodes(await prop(lab, u, "MainPID"));
    out[u.replace(/^podunit-[^-]*-/, "")] = Object.fromEntries(
      kinds.map((k) => [k, mine[k] === sandbox[k] ? "sandbox" : mine[k] === host[k] ? "host" : "own"]),
    );
  }
  out.sandboxVsHost = Object.fromEntries(kinds.map((k) => [k, sandbox[k] === host[k] ? "host" : "own"]));
  return out;
}

/** The limits the kernel holds for a cgroup: memory, tasks, CPU quota per period. */
export async function cgroupLimits(lab: Lab, cgroup: string): Promise<Record<string, string>> {
  const read = async (path: string) => (await lab.sh(["cat", path])).trim();
  if (lab.cgroupMode === "unified") {
    const base = `/sys/fs/cgroup${cgroup}`;
    return { memory: await read(`${base}/memory.max`), tasks: await read(`${base}/pids.max`), cpu: await read(`${base}/cpu.max`) };
  }
  // systemd makes a unit's cgroup in the v1 cpu hierarchy only when the unit has a CPU setting.
  const cpu = (await lab.run(["cat", `/sys/fs/cgroup/cpu${cgroup}/cpu.cfs_quota_us`, `/sys/fs/cgroup/cpu${cgroup}/cpu.cfs_period_us`])).stdout;
  return {
    memory: await read(`/sys/fs/cgroup/memory${cgroup}/memory.limit_in_bytes`),
    tasks: await read(`/sys/fs/cgroup/pids${cgroup}/pids.max`),
    cpu: cpu.trim().split("\n").join(" ") || "(no cpu cgroup)",
  };
}

/** The cgroup a process is in (the memory hierarchy on v1, the unified one on v2). */
export async function processCgroup(lab: Lab, pid: string): Promise<string> {
  const lines = (await lab.sh(["cat", `/proc/${pid}/cgroup`])).split("\n");
  const line = lines.find((l) => (lab.cgroupMode === "unified" ? l.startsWith("0::") : /^\d+:memory:/.test(l)))!;
  return line.slice(line.indexOf(":", line.indexOf(":") + 1) + 1);
}

/** The `keep` fields of the newest journal entry of a unit whose message contains `text`, pod names made neutral. */
export async function journalFields(lab: Lab, unit: string, text: string, pod: string, keep: string[]): Promise<Record<string, string> | undefined> {
  await lab.sh(["journalctl", "--sync"]);
  const out = await lab.sh(["journalctl", "-u", unit, "-o", "json", "--no-pager"]);
  const entries = out.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
  const e = entries.reverse().find((x) => typeof x.MESSAGE === "string" && x.MESSAGE.includes(text));
  if (!e) return undefined;
  return Object.fromEntries(keep.filter((k) => k in e).map((k) => [k, neutral(String(e[k]), pod)]));
}
