/**
 * Stopping a pod: one stop job for the pod's slice. systemd stops what is in it
 * in reverse dependency order (members, which are After= the sandbox, before the
 * sandbox), then the slice. Then every failed unit of the pod is reset and the
 * run directory (pins, bundles, PID files) is removed.
 */
import { podSliceCgroup, podSliceName } from "../systemd/unitname.ts";
import { runcId } from "../plan/layout.ts";
import type { ExecDeps } from "./deps.ts";
import { mark } from "../trace.ts";

export interface StopResult {
  pod: string;
  /** False when nothing of the pod was running. */
  wasRunning: boolean;
  /** What could not be cleaned up (empty when all went well). */
  problems: string[];
}

/** Stops the pod's units and removes its run-time state; idempotent. */
export async function stopPod(pod: string, runDir: string, deps: ExecDeps): Promise<StopResult> {
  const slice = podSliceName(pod);
  // Asked for before the stop and not waited for: systemd answers in order, so this is the
  // state before the stop, and the stop goes out in the same burst.
  const before = deps.systemd.listUnits(podUnitPatterns(pod, slice));
  before.catch(() => {});
  const problems = await cleanupPod(pod, runDir, deps);
  const wasRunning = (await before).some((u) => u.activeState !== "inactive" && u.activeState !== "failed");
  return { pod, wasRunning, problems };
}

/**
 * Stops the slice (and so everything in it), resets failed units, unmounts left-over
 * pins and removes the run directory. Returns problems instead of throwing, so a
 * rollback can report them next to the error that caused it.
 */
export async function cleanupPod(pod: string, runDir: string, deps: ExecDeps): Promise<string[]> {
  const problems: string[] = [];
  const slice = podSliceName(pod);
  const patterns = podUnitPatterns(pod, slice);
  mark("stopping");
  try {
    await deps.systemd.stopUnit(slice, "replace");
    mark("slice stopped (job done)");
  } catch (err) {
    problems.push((err as Error).message);
  }
  // Units outside the slice cannot exist, but a unit can be left failed or still stopping.
  try {
    const left = await deps.systemd.listUnits(patterns);
    const stopping = left.filter((u) => u.activeState !== "inactive" && u.activeState !== "failed");
    await Promise.all([
      ...left.filter((u) => u.activeState === "failed").map((u) => deps.systemd.resetFailedUnit(u.name)),
      ...stopping.map((u) => deps.systemd.stopUnit(u.name, "replace")),
    ]);
    if (stopping.length) {
      // A stop can leave a unit failed (a member killed by SIGKILL after its stop timeout).
      const after = await deps.systemd.listUnits(patterns);
      await Promise.all(after.filter((u) => u.activeState === "failed").map((u) => deps.systemd.resetFailedUnit(u.name)));
    }
  } catch (err) {
    problems.push((err as Error).message);
  }
  // Containers a crashed run left in runc's state (their units' ExecStopPost never ran).
  for (const id of deps.containers.list(runcPrefix(pod))) {
    try {
      await deps.containers.remove(id);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  try {
    for (const m of deps.files.mountsUnder(runDir)) deps.files.unmount(m);
    deps.files.removeTree(runDir);
  } catch (err) {
    problems.push((err as Error).message);
  }
  const busy = deps.files.removeCgroupTree(podSliceCgroup(pod));
  mark("cleaned up");
  if (busy.length) problems.push(`cgroups still hold processes: ${busy.join(", ")}`);
  return problems;
}

/** Glob patterns that match the units of one pod and nothing of another pod. */
export function podUnitPatterns(pod: string, slice: string): string[] {
  // Pod names are escaped in unit names ('-' becomes '\x2d'), so "podunit-<pod>-" cannot
  // be the prefix of another pod's units. systemd matches the patterns with FNM_NOESCAPE
  // ('\' is an ordinary character), and escaped names hold no '*', '?' or '['.
  const prefix = slice.slice(0, -".slice".length);
  return [slice, `${prefix}-*`];
}

/** The prefix of every runc container id of a pod (see runcId). */
export function runcPrefix(pod: string): string {
  return runcId(pod, "");
}
