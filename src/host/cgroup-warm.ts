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
 */
import { readFileSync, writeFile } from "node:fs";

/** cgroup.procs of this process's own cgroup, in the hierarchy systemd tracks processes in. */
export function ownCgroupProcs(): string | undefined {
  try {
    const lines = readFileSync("/proc/self/cgroup", "utf8").split("\n");
    const v2 = lines.find((l) => l.startsWith("0::"));
    if (v2 !== undefined) {
      const path = v2.slice(3).replace(/\/$/, "");
      // Hybrid hosts mount the v2 tree below the v1 ones.
      for (const root of ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]) {
        try {
          readFileSync(`${root}/cgroup.controllers`);
          return `${root}${path}/cgroup.procs`;
        } catch {
          // Not the v2 tree: try the next.
        }
      }
    }
    const v1 = lines.find((l) => /^\d+:name=systemd:/.test(l));
    return v1 ? `/sys/fs/cgroup/systemd${v1.split(":")[2]!.replace(/\/$/, "")}/cgroup.procs` : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the no-op move in the background; never throws, never waits. */
export function warmCgroupAttach(): void {
  const procs = ownCgroupProcs();
  if (procs !== undefined) writeFile(procs, String(process.pid), () => {});
}
