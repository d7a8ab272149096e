/**
 * Runs a Plan against systemd. Every unit is asked for in one pipelined burst
 * (slice, sandbox, init members, members, in stage order): the messages reach
 * systemd in that order, and the units' own After=/BindsTo=/Requires= make
 * systemd run the jobs in the right order, in parallel where they allow it.
 * `start` returns once every job has finished; if any failed, everything that
 * was started is stopped and forgotten, and the run directory removed.
 */
import { PodunitError, SystemdError } from "../errors.ts";
import { planUnits } from "../plan/plan.ts";
import type { Plan, PlannedUnit } from "../plan/types.ts";
import { toDbus } from "../systemd/properties.ts";
import type { ExecDeps } from "./deps.ts";
import { cleanupPod, podUnitPatterns, runcPrefix } from "./stop.ts";

export interface StartResult {
  pod: string;
  /** True when the pod was already running and nothing was changed. */
  alreadyRunning: boolean;
  units: string[];
}

/** A pod start that failed; the pod was rolled back. */
export class StartError extends PodunitError {
  constructor(
    readonly pod: string,
    readonly unit: string,
    readonly reason: string,
    readonly journal: string[],
    readonly rollbackProblems: string[],
  ) {
    const lines = journal.length ? `\nLast lines of '${unit}':\n${journal.map((l) => `  ${l}`).join("\n")}` : "";
    const rb = rollbackProblems.length
      ? `\nRolling back also failed: ${rollbackProblems.join("; ")}`
      : "\nEverything it started was stopped and removed.";
    super(`Failed to start pod '${pod}': ${unit}: ${reason}${lines}${rb}`, {
      hint: `See 'journalctl -u ${unit}' for the whole log.`,
    });
  }
}

/** Starts the pod described by `plan`; idempotent for a running pod. */
export async function startPod(plan: Plan, deps: ExecDeps): Promise<StartResult> {
  const { systemd } = deps;
  const units = planUnits(plan);
  const names = units.map((u) => u.name);

  const { state, loaded } = await podState(plan, deps);
  if (state === "running") return { pod: plan.pod, alreadyRunning: true, units: names };
  if (state === "partial") {
    throw new PodunitError(`Pod '${plan.pod}' is partly running (some of its units are loaded but not all are active).`, {
      hint: `Run 'podunit restart ${plan.pod}' to start it afresh, or 'podunit status ${plan.pod}' to see which units.`,
    });
  }

  // Debris of an earlier run (a crash, or a failed stop) must not leak into this one.
  if (loaded > 0 || deps.files.exists(plan.runDir) || deps.containers.list(runcPrefix(plan.pod)).length > 0) {
    await cleanupPod(plan.pod, plan.runDir, deps);
  }

  try {
    for (const d of plan.directories) deps.files.mkdir(d, 0o700);
    for (const f of plan.files) deps.files.writeFile(f.path, f.content, f.mode);
  } catch (err) {
    const problems = await rollback(plan, deps);
    throw new StartError(plan.pod, plan.runDir, `could not write its run files: ${(err as Error).message}`, [], problems);
  }

  const byName = new Map(units.map((u) => [u.name, u]));
  const ordered = plan.stages.flatMap((s) => s.units).map((n) => byName.get(n)!);
  const results = await Promise.allSettled(ordered.map((u) => systemd.startTransientUnit(u.name, toDbus(u), "fail")));
  const failures = results
    .map((r, i) => ({ unit: ordered[i]!, r }))
    .filter((x): x is { unit: PlannedUnit; r: PromiseRejectedResult } => x.r.status === "rejected");
  if (failures.length === 0) return { pod: plan.pod, alreadyRunning: false, units: names };

  // The root cause is the first failure in start order that did not fail only because of another unit.
  const root = failures.find((f) => (f.r.reason as SystemdError).dbusName !== "dependency") ?? failures[0]!;
  const err = root.r.reason as Error;
  const journal = await deps.journal.tail(root.unit.name, 10);
  const problems = await rollback(plan, deps);
  throw new StartError(plan.pod, root.unit.name, reasonOf(err), journal, problems);
}

function reasonOf(err: Error): string {
  if (err instanceof SystemdError && err.dbusName && !err.dbusName.includes(".")) {
    return `its start job ended with result '${err.dbusName}'`;
  }
  return err.message.replace(/^Failed to start '[^']*': /, "");
}

/** Stops and forgets everything of the pod; returns what could not be undone. */
async function rollback(plan: Plan, deps: ExecDeps): Promise<string[]> {
  try {
    return await cleanupPod(plan.pod, plan.runDir, deps);
  } catch (err) {
    return [(err as Error).message];
  }
}

/**
 * "stopped": none of the pod's units is loaded (or all are inactive/failed);
 * "running": every unit of the plan is active; "partial": anything else.
 */
async function podState(plan: Plan, deps: ExecDeps): Promise<{ state: "stopped" | "running" | "partial"; loaded: number }> {
  const loaded = await deps.systemd.listUnits(podUnitPatterns(plan.pod, plan.slice.name));
  const live = loaded.filter((u) => u.activeState !== "inactive" && u.activeState !== "failed");
  if (live.length === 0) return { state: "stopped", loaded: loaded.length };
  const active = new Set(live.filter((u) => u.activeState === "active").map((u) => u.name));
  return { state: planUnits(plan).every((u) => active.has(u.name)) ? "running" : "partial", loaded: loaded.length };
}
