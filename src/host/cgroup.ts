/**
 * The cgroup tree as podunit touches it directly: where the hierarchies are
 * mounted, which cgroup a process is in, removing what crun or runc left of a pod, and
 * the warm-up move `podunit start` begins with. Everything else about cgroups
 * is systemd's; the plan's view of the host's cgroup mode is plan/hostfacts.ts.
 */
import { readdirSync, readFileSync, rmdirSync, writeFile, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mountinfo, procCgroups, type CgroupLine, type Mount } from "./proc.ts";
import { HostError } from "./errno.ts";

/** Mount points of every cgroup hierarchy (v1 and v2) this process sees. */
export function cgroupMounts(): string[] {
  return mountinfo()
    .filter((m) => m.fsType === "cgroup" || m.fsType === "cgroup2")
    .map((m) => m.mountPoint);
}

/** True when process `pid` is in the cgroup of `unit` or below it (a container's, on cgroup v1). */
export function inUnit(pid: number, unit: string): boolean {
  return procCgroups(pid)?.some((c) => c.path.split("/").includes(unit)) ?? false;
}

/** A directory and every directory below it, parents before children. */
function directoriesBelow(root: string): string[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const e of readdirSync(out[i]!, { withFileTypes: true })) if (e.isDirectory()) out.push(join(out[i]!, e.name));
    } catch {
      // Removed meanwhile.
    }
  }
  return out;
}

/**
 * Removes the directories of `cgroup` and below it in every mounted hierarchy,
 * deepest first; returns those that could not be removed (still holding processes).
 */
export function removeCgroupTree(cgroup: string): string[] {
  const left: string[] = [];
  for (const mnt of cgroupMounts()) {
    for (const dir of directoriesBelow(join(mnt, cgroup)).reverse()) {
      try {
        rmdirSync(dir);
      } catch (err) {
        if ((err as { code?: string }).code !== "ENOENT") left.push(dir);
      }
    }
  }
  return left;
}

/** cgroup.procs of this process's own cgroup, in the hierarchy systemd tracks processes in. */
export function ownCgroupProcs(): string | undefined {
  const lines = procCgroups("self");
  if (lines === undefined) return undefined;
  const v2 = lines.find((l) => l.hierarchy === 0 && l.controllers === "");
  if (v2 !== undefined) {
    // Hybrid hosts mount the v2 tree below the v1 ones.
    for (const root of ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]) {
      try {
        readFileSync(`${root}/cgroup.controllers`);
        return `${root}${v2.path.replace(/\/$/, "")}/cgroup.procs`;
      } catch {
        // Not the v2 tree: try the next.
      }
    }
  }
  const v1 = lines.find((l) => l.controllers === "name=systemd");
  return v1 ? `/sys/fs/cgroup/systemd${v1.path.replace(/\/$/, "")}/cgroup.procs` : undefined;
}

/**
 * Readies the kernel's lock for moving processes between cgroups before systemd
 * needs it. Every unit start moves a new process into its cgroup (a write to
 * cgroup.procs), and the kernel lock behind that write (cgroup_threadgroup_rwsem,
 * a per-CPU rwsem) first waits for an RCU grace period when no such write has
 * happened for a while: on the machines measured, 6-16 ms after 50 ms of quiet,
 * 0.02-0.08 ms within 10 ms of the last one (docs/benchmarks.md). A pod start
 * makes systemd do that wait for its sandbox, after podunit has done its own
 * work. So `podunit start` moves itself into the cgroup it is already in (no
 * change), on a worker thread of the runtime, at the beginning: the grace period
 * passes while podunit reads the spec and talks to systemd. Best effort; errors
 * are ignored. Kernels from 6.0 can avoid the wait for good: the cgroup2 mount
 * option `favordynmods`.
 *
 * Starts the no-op move in the background; never throws, never waits.
 */
export function warmCgroupAttach(): void {
  const procs = ownCgroupProcs();
  if (procs !== undefined) writeFile(procs, String(process.pid), () => {});
}

/** Where the hierarchy of one /proc/PID/cgroup line is mounted, and the mount's own root in it; undefined when it is not mounted. */
function hierarchyMount(line: CgroupLine, mounts: readonly Mount[]): Mount | undefined {
  if (line.hierarchy === 0) return mounts.find((m) => m.fsType === "cgroup2");
  const want = line.controllers.split(",");
  return mounts.find((m) => m.fsType === "cgroup" && want.every((c) => m.superOptions.split(",").includes(c)));
}

/**
 * Moves this process into the cgroups process `pid` is in, in every mounted
 * hierarchy (v1 and v2), by writing "0" (the writer itself) into each
 * cgroup.procs; what it starts afterwards is born there. Throws a HostError
 * naming the file when a move fails, or when `pid` is gone.
 */
export function joinCgroupsOf(pid: number): void {
  const lines = procCgroups(pid);
  if (lines === undefined) throw new HostError("read the cgroups of process", "open", 3 /* ESRCH */, { path: `/proc/${pid}/cgroup` });
  const mounts = mountinfo();
  for (const line of lines) {
    const m = hierarchyMount(line, mounts);
    if (m === undefined) continue;
    const rel = m.root !== "/" && line.path.startsWith(m.root) ? line.path.slice(m.root.length) : line.path;
    const procs = join(m.mountPoint, rel, "cgroup.procs");
    try {
      writeFileSync(procs, "0");
    } catch (err) {
      const e = err as { errno?: number };
      throw new HostError("join the member's cgroup", "write", Math.abs(e.errno ?? 5), { path: procs, cause: err });
    }
  }
}

/** Moves process `pid` into `cgroup` in every hierarchy that has it (v1 hierarchies hold only the controllers the unit uses). */
export function joinCgroup(cgroup: string, pid: number): void {
  for (const mnt of cgroupMounts()) {
    try {
      writeFileSync(join(mnt, cgroup, "cgroup.procs"), String(pid));
    } catch {
      // Not in this hierarchy.
    }
  }
}
