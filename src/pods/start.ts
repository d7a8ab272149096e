/**
 * Runs a Plan against systemd: the plan's steps (Plan.steps: run files, the
 * slice and the sandbox in one pipelined burst, the sandbox's ready step, the
 * members in a second burst in stage order, the containers' waits, the unit
 * files), each with its undo, through the one loop in steps.ts. If a step
 * fails, the steps done are undone in reverse and the error names the unit
 * that caused it, with its last journal lines. If the connection to systemd is
 * lost meanwhile, nothing can be undone: the error says so, and a later
 * `start` (which repairs a partly running pod) or `stop` sets things right.
 */
import { BusUnreachableError, ExitCode, PodunitError, JobFailedError } from "../errors.ts";
import { planUnits } from "../plan/plan.ts";
import type { MemberRoot, Plan, PlannedStep, PlannedUnit } from "../plan/types.ts";
import { toDbus } from "../systemd/properties.ts";
import { isDbusError, isJobResult, type UnitListEntry } from "../systemd/bus.ts";
import { podUnitPatterns } from "../systemd/unitname.ts";
import { isLive } from "../systemd/state.ts";
import { containerPrefix } from "../plan/layout.ts";
import { runFilesOf } from "../plan/unitfiles.ts";
import type { ExecDeps, VolumesMade } from "./deps.ts";
import { mark } from "../trace.ts";
import { cleanupPod, freeRangeOf, stopPodUnits, stopUnits } from "./stop.ts";
import { replaceTransientFiles } from "./transient.ts";
import { runSteps, StepFailure, type Step } from "./steps.ts";
import { runFilesStep } from "./runfiles.ts";

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

/** A step's failure blamed on one unit (or, for run files, the run directory). */
export class UnitFailure extends Error {
  constructor(
    readonly unit: string,
    readonly cause: unknown,
    /** Whether the unit has a journal worth showing. */
    readonly logged = true,
  ) {
    super((cause as Error)?.message ?? String(cause));
  }
}

/**
 * Starts the pod described by `plan`. A running pod is left alone. A pod that is
 * partly running (a start that was interrupted, a member that died) is repaired:
 * when its sandbox still holds the pins, the members that are not active are
 * started and the rest is left alone; otherwise the pod is started afresh.
 * `loaded`: the pod's units as listed by the caller, asked for under the pod's
 * lock (one round trip less).
 */
export async function runStart(plan: Plan, deps: ExecDeps, loaded?: Promise<UnitListEntry[]>): Promise<StartResult> {
  const names = planUnits(plan).map((u) => u.name);
  let states = loaded ? new Map((await loaded).map((u) => [u.name, u.activeState])) : await unitStates(plan, deps);
  mark("unit states read");
  if (names.every((n) => states.get(n) === "active")) return { pod: plan.pod, alreadyRunning: true, units: names, repaired: [] };
  if (![...states.values()].some(isLive)) return freshStart(plan, deps, [], states.size);

  // Partly running. Let jobs still under way (an interrupted start's) finish first.
  for (const u of [plan.slice, plan.sandbox]) {
    const s = states.get(u.name);
    if (isLive(s) && s !== "active") await deps.systemd.startUnit(u.name, "replace").catch(() => {});
  }
  states = await unitStates(plan, deps);
  const sandboxUp =
    states.get(plan.slice.name) === "active" &&
    states.get(plan.sandbox.name) === "active" &&
    deps.readiness.pinsLive(plan.pins.map((p) => p.path));
  // Members cannot join a sandbox that is gone or lost its pins: start everything afresh.
  if (!sandboxUp) return freshStart(plan, deps, names, states.size);
  return repair(plan, deps, states);
}

/** Removes whatever an earlier run left, then runs every step of the plan. */
async function freshStart(plan: Plan, deps: ExecDeps, repaired: string[], loadedUnits: number): Promise<StartResult> {
  // Debris of an earlier run (a crash, or a failed stop) must not leak into this one;
  // on a clean start there is none, and asking systemd to stop nothing costs round trips.
  if (loadedUnits > 0 || deps.files.exists(plan.runDir) || deps.containers.list(containerPrefix(plan.pod)).length > 0) {
    await cleanupPod(plan.pod, plan.runDir, deps);
    mark("debris of an earlier run removed");
  }
  const all = planUnits(plan).map((u) => u.name);
  await run(plan, deps, planSteps(plan, deps, { units: new Set(all), states: new Map(), wanted: () => true }));
  return { pod: plan.pod, alreadyRunning: false, units: all, repaired };
}

/**
 * Starts the members of a running sandbox that are not active; a member made again
 * gets its bundle written again (the run directory may have been tampered with). A
 * failed repair removes the whole pod, as a failed start does: the first step
 * adopts the running part, and its undo stops it.
 */
async function repair(plan: Plan, deps: ExecDeps, states: Map<string, string>): Promise<StartResult> {
  const missing = plan.members.filter((u) => states.get(u.name) !== "active").map((u) => u.name);
  const remade = plan.members.filter((m) => missing.includes(m.name) && !isLive(states.get(m.name))).map((m) => runFilesOf(plan, m));
  const paths = new Set(remade.flatMap((r) => [...r.directories, ...r.files.map((f) => f.path)]));
  const wanted = (path: string) => paths.has(path);
  const adopt: Step = {
    name: `adopt the running part of pod '${plan.pod}'`,
    run: async () => {},
    undo: async () => [...(await cleanupPod(plan.pod, plan.runDir, deps)), ...(await freeRangeOf(plan.pod, deps))],
  };
  await run(plan, deps, [adopt, ...planSteps(plan, deps, { units: new Set(missing), states, wanted })]);
  return { pod: plan.pod, alreadyRunning: false, units: planUnits(plan).map((u) => u.name), repaired: missing };
}

/** Which part of the plan a start does: the units to start, their states now, the run files to write. */
export interface Selection {
  units: Set<string>;
  states: Map<string, string>;
  wanted: (path: string) => boolean;
  /**
   * Part of a running pod (apply): undoing the run files removes only what this
   * selection wrote, not the pod's run directory.
   */
  partial?: boolean;
}

/** The plan's steps as runnable steps, narrowed to `sel`; steps with nothing to do are left out. */
export function planSteps(plan: Plan, deps: ExecDeps, sel: Selection): Step[] {
  const byName = new Map(planUnits(plan).map((u) => [u.name, u]));
  const steps: Step[] = [];
  const files: Replaced = { units: new Set(), problems: [] };
  for (const s of plan.steps) {
    const step = toStep(s, plan, deps, sel, byName, files);
    if (step) steps.push(step);
  }
  return steps;
}

/** The transient unit files replaced while their units' jobs ran, and what could not be replaced then. */
interface Replaced {
  units: Set<string>;
  problems: string[];
}

function toStep(s: PlannedStep, plan: Plan, deps: ExecDeps, sel: Selection, byName: Map<string, PlannedUnit>, files: Replaced): Step | undefined {
  switch (s.kind) {
    case "userns": {
      const u = plan.userns;
      // Held before planning (the configs name it); a repair or an apply keeps the running pod's.
      if (!u || sel.partial || !sel.units.has(plan.sandbox.name)) return undefined;
      return {
        name: `hold the host ids ${u.start}-${u.start + u.size - 1}`,
        run: async () => {},
        undo: () => freeRangeOf(plan.pod, deps),
      };
    }
    case "run-files":
      return runFilesStep(plan, deps, sel);
    case "start-units": {
      const units = s.units.filter((n) => sel.units.has(n)).map((n) => byName.get(n)!);
      if (units.length === 0) return undefined;
      const names = units.map((u) => u.name);
      return {
        name: `start ${names.join(", ")}`,
        // Their transient files are replaced while systemd runs their jobs (the unit-files step does the rest).
        run: () =>
          startUnits(units, sel.states, deps, () => {
            const services = units.filter((u) => u.type === "service");
            files.problems.push(...replaceTransientFiles(plan, services, deps));
            for (const u of services) files.units.add(u.name);
          }),
        // Stopping the slice stops everything in it; members alone are stopped alone.
        undo: () => (names.includes(plan.slice.name) ? stopPodUnits(plan.pod, deps) : stopUnits(names, deps)),
      };
    }
    case "sandbox-ready": {
      const ready = plan.ready;
      if (!ready || !sel.units.has(plan.sandbox.name)) return undefined;
      return {
        name: "make the sandbox ready",
        run: async () => {
          try {
            const pid = await deps.systemd.mainPid(plan.sandbox.name);
            if (pid === undefined) throw new PodunitError("it is active but has no main process.");
            await deps.readiness.sandbox(ready, pid);
          } catch (err) {
            throw new UnitFailure(plan.sandbox.name, err);
          }
        },
      };
    }
    case "network-up": {
      const network = plan.network;
      if (!network || !sel.units.has(plan.sandbox.name)) return undefined;
      const ops = deps.network;
      return {
        name: "set up the pod's network",
        run: async () => {
          if (!ops) throw new UnitFailure(plan.sandbox.name, new Error("this podunit was built without networking"), false);
          await ops.up(network).catch((err) => {
            throw new UnitFailure(plan.sandbox.name, new Error(`could not set up its network: ${(err as Error).message}`), false);
          });
        },
        undo: async () => (ops ? ops.down(plan.pod) : []),
      };
    }
    case "member-roots": {
      // A repair mounts only the roots of the members it starts, and only those that are gone.
      const roots = (plan.images ?? []).filter((i) => sel.units.has(i.unit));
      if (roots.length === 0) return undefined;
      const mounted: MemberRoot[] = [];
      return {
        name: `mount the roots of ${roots.map((r) => r.member).join(", ")}`,
        run: async () => {
          for (const r of roots) {
            if (deps.roots.isMounted(r.target)) continue;
            try {
              deps.roots.mount(r);
            } catch (err) {
              throw new UnitFailure(r.unit, err, false);
            }
            mounted.push(r);
          }
        },
        undo: async () => {
          const problems: string[] = [];
          for (const r of mounted.reverse()) {
            try {
              deps.roots.unmount(r);
            } catch (err) {
              problems.push((err as Error).message);
            }
          }
          return problems;
        },
      };
    }
    case "volumes": {
      // A repair finds the volumes made with the sandbox; making them again keeps what is there.
      const volumes = plan.volumes ?? [];
      // Part of a running pod (apply): its volumes are there already (a change of them is one of the whole pod).
      if (volumes.length === 0 || sel.partial) return undefined;
      let made: VolumesMade | undefined;
      return {
        name: `make the volumes ${volumes.map((v) => v.name).join(", ")}`,
        run: async () => {
          try {
            made = deps.volumes.prepare(volumes);
          } catch (err) {
            throw new UnitFailure(plan.pod, err, false);
          }
        },
        undo: async () => (made ? deps.volumes.release(made) : []),
      };
    }
    case "container-waits": {
      // Containers that must run catatonit before a stop can work.
      const waits = plan.containerWaits.filter((w) => sel.units.has(w.unit));
      if (waits.length === 0) return undefined;
      return {
        name: "wait for the containers to run catatonit",
        run: async () => {
          const results = await Promise.allSettled(waits.map((w) => deps.readiness.container(w)));
          const i = results.findIndex((r) => r.status === "rejected");
          if (i >= 0) throw new UnitFailure(waits[i]!.unit, (results[i] as PromiseRejectedResult).reason);
        },
      };
    }
    case "health-timer": {
      const h = plan.health;
      // A repair leaves a running timer alone.
      // Part of a running pod (apply): the pod's timer runs already (a change of the checks is one of the whole pod).
      if (!h || sel.partial || sel.states.get(h.timer.name) === "active") return undefined;
      return {
        name: `start ${h.timer.name}`,
        run: async () => {
          try {
            await deps.systemd.startTransientUnit(h.timer.name, toDbus(h.timer), "fail", [{ name: h.service.name, props: toDbus(h.service) }]);
          } catch (err) {
            throw new UnitFailure(h.timer.name, err);
          }
          const problems = replaceTransientFiles(plan, [h.service], deps);
          if (problems.length) throw new UnitFailure(h.service.name, new Error(`could not replace its transient unit file: ${problems.join("; ")}`), false);
        },
        undo: () => stopUnits([h.timer.name, h.service.name], deps),
      };
    }
    case "unit-files": {
      const units = [...sel.units].map((n) => byName.get(n)!).filter((u) => u.type === "service");
      if (units.length === 0) return undefined;
      return {
        name: "replace the transient unit files",
        run: async () => {
          const problems = [...files.problems, ...replaceTransientFiles(plan, units.filter((u) => !files.units.has(u.name)), deps)];
          if (problems.length) throw new UnitFailure(problems[0]!.split(":")[0]!, new Error(`could not replace its transient unit file: ${problems.join("; ")}`), false);
        },
      };
    }
  }
}

/**
 * Asks for every unit of `units` in one pipelined burst, in order: a unit systemd
 * still has on its way up is waited for, a failed one is reset and made again, a
 * missing one is made. `onMade` runs once systemd has made every unit of the burst
 * (not when one was already there), while their jobs run. Throws for the root
 * cause when any fails: the first in start order that did not fail only because
 * of another unit.
 */
async function startUnits(units: PlannedUnit[], states: Map<string, string>, deps: ExecDeps, onMade?: () => void): Promise<void> {
  const { systemd } = deps;
  // Failed leftovers are reset first, so the start requests still reach systemd in order.
  await Promise.all(units.filter((u) => states.get(u.name) === "failed").map((u) => systemd.resetFailedUnit(u.name)));
  let made = 0;
  const queued = () => void (++made === units.length && onMade?.());
  const make = (u: PlannedUnit) => systemd.startTransientUnit(u.name, toDbus(u), "fail", [], queued);
  const request = (u: PlannedUnit): Promise<void> => {
    const s = states.get(u.name);
    if (s === undefined || s === "failed") return make(u);
    // Loaded and on its way (or queued by an interrupted start): wait for it; made again if systemd just forgot it.
    return systemd.startUnit(u.name, "replace").catch((err) => {
      if (isDbusError(err, "NoSuchUnit")) return make(u);
      throw err;
    });
  };
  const results = await Promise.allSettled(units.map(request));
  const failures = results.flatMap((r, i) => (r.status === "rejected" ? [{ unit: units[i]!, reason: r.reason as unknown }] : []));
  if (failures.length === 0) return;
  const lost = failures.find((f) => f.reason instanceof BusUnreachableError);
  const root = lost ?? failures.find((f) => !isJobResult(f.reason, "dependency")) ?? failures[0]!;
  throw new UnitFailure(root.unit.name, root.reason);
}

/** What a run of steps that failed reports: the unit blamed, why, its last journal lines, what could not be undone. */
export type StepsFailed = (unit: string, reason: string, journal: string[], problems: string[]) => Error;

/** Runs the steps; turns a failure into the error a person reads (a StartError unless `failed` makes another). */
export async function run(plan: Plan, deps: ExecDeps, steps: Step[], failed?: StepsFailed): Promise<void> {
  let journal: string[] = [];
  const causeOf = (e: unknown) => (e instanceof UnitFailure ? e.cause : e);
  try {
    await runSteps(steps, {
      keepOn: (e) => causeOf(e) instanceof BusUnreachableError,
      beforeUndo: async (e) => {
        if (e instanceof UnitFailure && e.logged) journal = await deps.journal.tail(e.unit, 10);
      },
    });
  } catch (err) {
    if (!(err instanceof StepFailure)) throw err;
    const cause = causeOf(err.error);
    if (!err.undone) throw new StartInterruptedError(plan.pod, (cause as Error).message.replace(/^Failed to reach systemd over D-Bus at /, ""));
    const unit = err.error instanceof UnitFailure ? err.error.unit : plan.pod;
    if (failed) throw failed(unit, reasonOf(cause), journal, err.problems);
    throw new StartError(plan.pod, unit, reasonOf(cause), journal, err.problems);
  }
}

function reasonOf(err: unknown): string {
  if (err instanceof JobFailedError) return `its start job ended with result '${err.result}'`;
  return ((err as Error)?.message ?? String(err)).replace(/^Failed to start '[^']*': /, "");
}

/** ActiveState of each loaded unit of the pod, by name. */
async function unitStates(plan: Plan, deps: ExecDeps): Promise<Map<string, string>> {
  const loaded = await deps.systemd.listUnits(podUnitPatterns(plan.pod));
  return new Map(loaded.map((u) => [u.name, u.activeState]));
}
