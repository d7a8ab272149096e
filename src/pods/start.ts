/**
 * Runs a Plan against systemd. The slice and the sandbox are asked for in one
 * pipelined burst; once the sandbox runs, podunit makes it ready itself (its
 * hostname, loopback and pins: SandboxReady, in unit files the sandbox's
 * ExecStartPost) and asks for every member in a second burst, in stage order:
 * the messages reach systemd in that order, and the units' own
 * After=/BindsTo=/Requires= make systemd run the jobs in the right order, in
 * parallel where they allow it.
 * `start` returns once every job has finished; if any failed, everything that
 * was started is stopped and forgotten, and the run directory removed. If the
 * connection to systemd is lost meanwhile, nothing can be rolled back: the
 * error says so, and a later `start` (which repairs a partly running pod) or
 * `stop` sets things right.
 */
import { BusUnreachableError, ExitCode, PodunitError, SystemdError } from "../errors.ts";
import { planUnits } from "../plan/plan.ts";
import type { Plan, PlannedUnit } from "../plan/types.ts";
import { toDbus } from "../systemd/properties.ts";
import type { UnitListEntry } from "../systemd/bus.ts";
import type { ExecDeps } from "./deps.ts";
import { mark } from "../trace.ts";
import { cleanupPod, podUnitPatterns, runcPrefix } from "./stop.ts";
import { replaceTransientFiles } from "./transient.ts";
import { unitObjectPath } from "../systemd/unitname.ts";

const SERVICE = "org.freedesktop.systemd1.Service";

export interface StartResult {
  pod: string;
  /** True when the pod was already running and nothing was changed. */
  alreadyRunning: boolean;
  units: string[];
  /** Units started to repair a pod that was partly running (empty for a pod that was stopped). */
  repaired: string[];
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

/** A start whose connection to systemd broke while the units were starting; nothing was rolled back. */
export class StartInterruptedError extends PodunitError {
  constructor(readonly pod: string, reason: string) {
    super(
      `Failed to start pod '${pod}': the connection to systemd was lost while its units were starting (${reason}). ` +
        "systemd goes on with the jobs it was given, so the pod may be partly started.",
      {
        exitCode: ExitCode.SYSTEMD_UNREACHABLE,
        hint: `Run 'podunit start ${pod}' to finish starting it, or 'podunit stop ${pod}' to remove it; 'podunit status ${pod}' shows where it is.`,
      },
    );
  }
}

const LIVE = (state: string | undefined) => state !== undefined && state !== "inactive" && state !== "failed";

/**
 * Starts the pod described by `plan`. A running pod is left alone. A pod that is
 * partly running (a start that was interrupted, a member that died) is repaired:
 * when its sandbox still holds the pins, the members that are not active are
 * started and the rest is left alone; otherwise the pod is started afresh.
 * `loaded`: the pod's units as listed by the caller, asked for under the pod's
 * lock (one round trip less).
 */
export async function startPod(plan: Plan, deps: ExecDeps, loaded?: Promise<UnitListEntry[]>): Promise<StartResult> {
  const units = planUnits(plan);
  const names = units.map((u) => u.name);
  let states = loaded ? new Map((await loaded).map((u) => [u.name, u.activeState])) : await unitStates(plan, deps);
  mark("unit states read");
  if (units.every((u) => states.get(u.name) === "active")) return { pod: plan.pod, alreadyRunning: true, units: names, repaired: [] };
  if (![...states.values()].some(LIVE)) return freshStart(plan, deps, [], states.size);

  // Partly running. Let jobs still under way (an interrupted start's) finish first.
  for (const u of [plan.slice, plan.sandbox]) {
    const s = states.get(u.name);
    if (LIVE(s) && s !== "active") await deps.systemd.startUnit(u.name, "replace").catch(() => {});
  }
  states = await unitStates(plan, deps);
  const sandboxUp =
    states.get(plan.slice.name) === "active" &&
    states.get(plan.sandbox.name) === "active" &&
    deps.readiness.pinsLive(plan.pins.map((p) => p.path));
  if (!sandboxUp) {
    // Members cannot join a sandbox that is gone or lost its pins: start everything afresh.
    return freshStart(plan, deps, names, states.size);
  }
  const missing = plan.members.filter((u) => states.get(u.name) !== "active");
  // A member made again gets its bundle written again (the run directory may have been tampered with).
  const bundles = missing.filter((m) => !LIVE(states.get(m.name))).map((m) => `${plan.runDir}/bundles/${m.member}`);
  await writeRunFiles(plan, deps, (path) => path === `${plan.runDir}/bundles` || bundles.some((b) => path === b || path.startsWith(`${b}/`)));
  return startUnits(plan, deps, missing, states);
}

/** Writes the plan's directories and files that `wanted` selects; rolls the pod back if that fails. */
async function writeRunFiles(plan: Plan, deps: ExecDeps, wanted: (path: string) => boolean = () => true): Promise<void> {
  try {
    for (const d of plan.directories) if (wanted(d)) deps.files.mkdir(d, 0o700);
    for (const f of plan.files) if (wanted(f.path)) deps.files.writeFile(f.path, f.content, f.mode);
  } catch (err) {
    const problems = await rollback(plan, deps);
    throw new StartError(plan.pod, plan.runDir, `could not write its run files: ${(err as Error).message}`, [], problems);
  }
}

/** Removes whatever an earlier run left, writes the run files and starts every unit. */
async function freshStart(plan: Plan, deps: ExecDeps, repaired: string[], loadedUnits: number): Promise<StartResult> {
  // Debris of an earlier run (a crash, or a failed stop) must not leak into this one;
  // on a clean start there is none, and asking systemd to stop nothing costs round trips.
  if (loadedUnits > 0 || deps.files.exists(plan.runDir) || deps.containers.list(runcPrefix(plan.pod)).length > 0) {
    await cleanupPod(plan.pod, plan.runDir, deps);
  }
  await writeRunFiles(plan, deps);
  mark("run files written");
  const byName = new Map(planUnits(plan).map((u) => [u.name, u]));
  const ordered = plan.stages.flatMap((s) => s.units).map((n) => byName.get(n)!);
  return startUnits(plan, deps, ordered, new Map(), repaired);
}

/**
 * Asks for every unit of `todo` in one pipelined burst, in stage order: a unit
 * systemd still has on its way up is waited for, a failed one is reset and made
 * again, a missing one is made. Rolls the whole pod back when any of them fails.
 */
async function startUnits(
  plan: Plan,
  deps: ExecDeps,
  todo: PlannedUnit[],
  states: Map<string, string>,
  repaired: string[] = todo.map((u) => u.name),
): Promise<StartResult> {
  const { systemd } = deps;
  const rank = new Map(plan.stages.flatMap((s) => s.units).map((n, i) => [n, i]));
  const ordered = [...todo].sort((a, b) => rank.get(a.name)! - rank.get(b.name)!);
  // Failed leftovers are reset first, so the start requests still reach systemd in stage order.
  await Promise.all(ordered.filter((u) => states.get(u.name) === "failed").map((u) => systemd.resetFailedUnit(u.name)));
  const make = (u: PlannedUnit) => systemd.startTransientUnit(u.name, toDbus(u), "fail");
  const request = (u: PlannedUnit): Promise<void> => {
    const s = states.get(u.name);
    if (s === undefined || s === "failed") return make(u);
    // Loaded and on its way (or queued by an interrupted start): wait for it; made again if systemd just forgot it.
    return systemd.startUnit(u.name, "replace").catch((err) => {
      if (err instanceof SystemdError && err.dbusName === "org.freedesktop.systemd1.NoSuchUnit") return make(u);
      throw err;
    });
  };
  const settle = async (units: PlannedUnit[]) =>
    (await Promise.allSettled(units.map(request))).map((r, i) => ({ unit: units[i]!, r }));
  // A sandbox that starts now is made ready (named, pins linked) before any member is asked for.
  const ready = plan.ready && ordered.some((u) => u.name === plan.sandbox.name) ? plan.ready : undefined;
  const results = await settle(ready ? ordered.filter((u) => u.role !== "member") : ordered);
  if (ready && results.every((x) => x.r.status === "fulfilled")) {
    mark("sandbox started (jobs done)");
    try {
      const { MainPID: pid } = await systemd.getProperties(unitObjectPath(plan.sandbox.name), SERVICE, ["MainPID"]);
      if (typeof pid !== "number" || pid <= 0) throw new PodunitError("it is active but has no main process.");
      await deps.readiness.sandbox(ready, pid);
      mark("sandbox ready");
      results.push(...(await settle(ordered.filter((u) => u.role === "member"))));
    } catch (reason) {
      results.push({ unit: plan.sandbox, r: { status: "rejected", reason } });
    }
  }
  mark("units started (jobs done)");
  // Containers that must run catatonit before a stop can work (Plan.containerWaits).
  if (results.every((x) => x.r.status === "fulfilled")) {
    const waits = plan.containerWaits.filter((w) => ordered.some((u) => u.name === w.unit));
    await Promise.all(
      waits.map((w) =>
        deps.readiness.container(w.pidFile).catch((reason) => {
          results.push({ unit: ordered.find((u) => u.name === w.unit)!, r: { status: "rejected", reason } });
        }),
      ),
    );
    if (waits.length) mark("containers running catatonit");
  }
  const failures = results.filter((x): x is { unit: PlannedUnit; r: PromiseRejectedResult } => x.r.status === "rejected");
  const names = planUnits(plan).map((u) => u.name);
  if (failures.length === 0) {
    const problems = replaceTransientFiles(plan, ordered, deps);
    mark("transient unit files replaced");
    if (problems.length === 0) return { pod: plan.pod, alreadyRunning: false, units: names, repaired };
    const rb = await rollback(plan, deps);
    throw new StartError(plan.pod, problems[0]!.split(":")[0]!, `could not replace its transient unit file: ${problems.join("; ")}`, [], rb);
  }

  const lost = failures.find((f) => f.r.reason instanceof BusUnreachableError);
  if (lost) throw new StartInterruptedError(plan.pod, (lost.r.reason as Error).message.replace(/^Failed to reach systemd over D-Bus at /, ""));
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

/** ActiveState of each loaded unit of the pod, by name. */
async function unitStates(plan: Plan, deps: ExecDeps): Promise<Map<string, string>> {
  const loaded = await deps.systemd.listUnits(podUnitPatterns(plan.pod, plan.slice.name));
  return new Map(loaded.map((u) => [u.name, u.activeState]));
}
