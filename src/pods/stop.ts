/**
 * Stopping a pod: one stop job for the pod's slice. systemd stops what is in it
 * in reverse dependency order (members, which are After= the sandbox, before the
 * sandbox), then the slice. Then every failed unit of the pod is reset and the
 * run directory (pins, bundles, PID files) is removed. The parts are also the
 * undo of the start steps that made them (src/pods/start.ts).
 */
import { podSliceCgroup, podSliceName, podUnitPatterns } from "../systemd/unitname.ts";
import { isLive } from "../systemd/state.ts";
import { containerPrefix } from "../plan/layout.ts";
import type { StopDeps } from "./deps.ts";
import { mark } from "../trace.ts";

export interface StopResult {
  pod: string;
  /** False when nothing of the pod was running. */
  wasRunning: boolean;
  /** What could not be cleaned up (empty when all went well). */
  problems: string[];
}

/** Stops the pod's units and removes its run-time state; idempotent. */
export async function runStop(pod: string, runDir: string, deps: StopDeps): Promise<StopResult> {
  // Asked for before the stop and not waited for: systemd answers in order, so this is the
  // state before the stop, and the stop goes out in the same burst.
  const before = deps.systemd.listUnits(podUnitPatterns(pod));
  before.catch(() => {});
  const problems = await cleanupPod(pod, runDir, deps);
  problems.push(...(await freeRangeOf(pod, deps)));
  const wasRunning = (await before).some((u) => isLive(u.activeState));
  return { pod, wasRunning, problems };
}

/**
 * Stops the slice (and so everything in it), resets failed units, removes crun's and runc's
 * leftovers, the run directory and the cgroups. Returns problems instead of
 * throwing, so a rollback can report them next to the error that caused it.
 */
export async function cleanupPod(pod: string, runDir: string, deps: StopDeps): Promise<string[]> {
  mark("stopping");
  const problems = await stopPodUnits(pod, deps);
  // The sandbox's ExecStopPost tore the network down; this catches a sandbox that never ran it.
  if (deps.network) problems.push(...(await deps.network.down(pod)));
  problems.push(...removeRunDir(runDir, deps));
  mark("cleaned up");
  return problems;
}

/** Stops the pod's slice, forgets its units, removes crun's and runc's leftovers and the pod's cgroups. */
export async function stopPodUnits(pod: string, deps: StopDeps): Promise<string[]> {
  const problems = await attempt(() => deps.systemd.stopUnit(podSliceName(pod), "replace"));
  mark("slice stopped (job done)");
  problems.push(...(await forgetUnits(podUnitPatterns(pod), deps)));
  problems.push(...(await removeContainers(pod, deps)));
  const busy = deps.files.removeCgroupTree(podSliceCgroup(pod));
  if (busy.length) problems.push(`cgroups still hold processes: ${busy.join(", ")}`);
  return problems;
}

/** Stops the given units (a part of the pod) and forgets those that failed. */
export async function stopUnits(units: string[], deps: StopDeps): Promise<string[]> {
  const problems = (await Promise.all(units.map((u) => attempt(() => deps.systemd.stopUnit(u, "replace"))))).flat();
  return [...problems, ...(await forgetUnits(units, deps))];
}

/**
 * Resets the failed units among those matching `patterns` and stops the ones still
 * on their way down (units outside a stopped slice cannot exist, but a unit can be
 * left failed or still stopping).
 */
async function forgetUnits(patterns: string[], deps: StopDeps): Promise<string[]> {
  return attempt(async () => {
    const left = await deps.systemd.listUnits(patterns);
    const stopping = left.filter((u) => isLive(u.activeState));
    await Promise.all([
      ...left.filter((u) => u.activeState === "failed").map((u) => deps.systemd.resetFailedUnit(u.name)),
      ...stopping.map((u) => deps.systemd.stopUnit(u.name, "replace")),
    ]);
    if (stopping.length) {
      // A stop can leave a unit failed (a member killed by SIGKILL after its stop timeout).
      const after = await deps.systemd.listUnits(patterns);
      await Promise.all(after.filter((u) => u.activeState === "failed").map((u) => deps.systemd.resetFailedUnit(u.name)));
    }
  });
}

/** Containers a crashed run left in crun's or runc's state (their units' ExecStopPost never ran). */
async function removeContainers(pod: string, deps: StopDeps): Promise<string[]> {
  const problems: string[] = [];
  for (const id of deps.containers.list(containerPrefix(pod))) problems.push(...(await attempt(() => deps.containers.remove(id))));
  return problems;
}

/** Frees the pod's range of host ids (userns = "auto"), once its units are gone. */
export async function freeRangeOf(pod: string, deps: StopDeps): Promise<string[]> {
  const ranges = deps.ranges;
  return ranges ? attempt(() => ranges.free(pod)) : [];
}

/** Removes the pod's run directory, with any mount an older podunit left below it. */
export function removeRunDir(runDir: string, deps: StopDeps): string[] {
  try {
    for (const m of deps.files.mountsUnder(runDir)) deps.files.unmount(m);
    deps.files.removeTree(runDir);
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

export async function attempt(fn: () => Promise<unknown>): Promise<string[]> {
  try {
    await fn();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}
