/**
 * Applies a plan diff to a pod that runs from transient units, as one list of
 * steps through the loop in steps.ts, so a failure anywhere undoes what was
 * done before it, in reverse: members added are stopped and their files
 * removed, members restarted or removed get their old units back (from the
 * recorded plan), limits go back to their old values. Order: members added
 * first (a new member that cannot start changes nothing else), then the members
 * that restart (old unit stopped, new one started), then those removed, then
 * the limits, then the record of the new plan.
 */
import type { PlanDiff } from "../plan/diff.ts";
import { PodLayout } from "../plan/layout.ts";
import { planRecordText } from "../plan/record.ts";
import type { Plan, PlannedUnit } from "../plan/types.ts";
import { runFilesOf } from "../plan/unitfiles.ts";
import { encodeProperty, unsetProperty } from "../systemd/properties.ts";
import type { ExecDeps } from "./deps.ts";
import { planSteps, run, UnitFailure, type StepsFailed } from "./start.ts";
import { runSteps, type Step } from "./steps.ts";
import { attempt, stopUnits } from "./stop.ts";
import { replaceTransientFiles } from "./transient.ts";

/** Runs the diff against the pod's transient units; throws what `failed` makes when a step fails (everything undone as far as it could be). */
export async function applyTransient(from: Plan, to: Plan, d: PlanDiff, deps: ExecDeps, failed: StepsFailed): Promise<void> {
  const unitsOf = (p: Plan, members: string[]) => p.members.filter((u) => members.includes(u.member!));
  const restarted = d.restart.map((r) => r.member);
  // A member added after one that restarts starts with it, after it.
  const needsRestarted = (u: PlannedUnit) => {
    const after = (u.properties.find((p) => p.key === "After")?.value as string[] | undefined) ?? [];
    return unitsOf(to, restarted).some((r) => after.includes(r.name));
  };
  const added = unitsOf(to, d.add);
  const addFirst = added.filter((u) => !needsRestarted(u));
  const addLater = added.filter(needsRestarted);

  const steps: Step[] = [
    ...membersStarted(to, addFirst, deps),
    ...(restarted.length ? [membersStopped(from, unitsOf(from, restarted), deps, "stop the old units of")] : []),
    ...membersStarted(to, [...unitsOf(to, restarted), ...addLater], deps),
    ...(d.remove.length ? [membersStopped(from, unitsOf(from, d.remove), deps, "stop the removed members")] : []),
    ...d.live.map((l): Step => {
      const old = [...from.members, from.slice].find((u) => u.name === l.unit)!;
      const before = l.changes.map((c) => old.properties.find((p) => p.key === c.key) ?? unsetProperty(c.key));
      return {
        name: `change ${l.changes.map((c) => c.key).join(", ")} of ${l.unit}`,
        run: async () => {
          await deps.systemd.setUnitProperties(l.unit, l.set.map(encodeProperty), true).catch((err) => {
            throw new UnitFailure(l.unit, err, false);
          });
        },
        undo: async () => attempt(() => deps.systemd.setUnitProperties(l.unit, before.map(encodeProperty), true)),
      };
    }),
    {
      name: "record the new plan",
      run: async () => {
        const changed = to.members.filter((u) => d.live.some((l) => l.unit === u.name));
        const problems = replaceTransientFiles(to, changed, deps);
        if (problems.length) throw new UnitFailure(changed[0]!.name, new Error(`could not replace its transient unit file: ${problems.join("; ")}`), false);
        const layout = PodLayout.of(to);
        const images = to.files.find((f) => f.path === layout.imagesFile);
        if (images) deps.files.writeFile(images.path, images.content, images.mode);
        else if (deps.files.exists(layout.imagesFile)) deps.files.removeTree(layout.imagesFile);
        deps.files.writeFile(layout.planFile, planRecordText(to), 0o600);
      },
    },
  ];
  await run(to, deps, steps, failed);
}

/** The start's steps for some members of a running pod: their run files, roots, units, waits and unit files. */
function membersStarted(p: Plan, units: PlannedUnit[], deps: ExecDeps): Step[] {
  if (units.length === 0) return [];
  const paths = new Set(units.flatMap((u) => filesOf(p, u)));
  // Empty states: each unit is made anew from this plan, never started again from an old one systemd still has.
  return planSteps(p, deps, { units: new Set(units.map((u) => u.name)), states: new Map(), wanted: (path) => paths.has(path), partial: true });
}

/**
 * Stops members (their units, roots and bundles); the undo starts them again
 * from the plan they ran from.
 */
function membersStopped(from: Plan, units: PlannedUnit[], deps: ExecDeps, what: string): Step {
  return {
    name: `${what} ${units.map((u) => u.member).join(", ")}`,
    run: async () => {
      const problems = await stopUnits(units.map((u) => u.name), deps);
      for (const r of (from.images ?? []).filter((i) => units.some((u) => u.name === i.unit))) {
        try {
          deps.roots.unmount(r);
        } catch (err) {
          problems.push((err as Error).message);
        }
      }
      for (const u of units) for (const path of filesOf(from, u, true)) deps.files.removeTree(path);
      if (problems.length) throw new UnitFailure(units[0]!.name, new Error(problems.join("; ")), false);
    },
    undo: async () => {
      try {
        await runSteps(membersStarted(from, units, deps));
        return [];
      } catch (err) {
        return [`could not start ${units.map((u) => `'${u.name}'`).join(", ")} again from the old plan: ${(err as Error).message}`];
      }
    },
  };
}

/** A member's own run files and directories (its bundle); `own`: without the directories it shares with others. */
function filesOf(p: Plan, u: PlannedUnit, own = false): string[] {
  const { directories, files } = runFilesOf(p, u);
  const layout = PodLayout.of(p);
  const dirs = own ? directories.filter((d) => d !== layout.dir && d !== layout.bundlesDir) : directories;
  return [...dirs, ...files.map((f) => f.path)];
}
