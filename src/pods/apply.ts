/**
 * `podunit apply`: a running pod follows its edited spec, touching only what
 * changed (docs/apply.md). The new plan is compared with the plan the pod was
 * started from (recorded in its run directory at start); the diff's classes
 * (src/plan/diff.ts) say what happens: limits changed live, members restarted,
 * added or removed alone, or the whole pod started again (only with
 * `recreate`). A dry run stops after the diff and touches nothing.
 */
import { ExitCode, PodunitError } from "../errors.ts";
import { diffPlans, isEmptyDiff, type PlanDiff } from "../plan/diff.ts";
import { applyBackend, plannedRuntimes } from "../plan/runtime.ts";
import { plan } from "../plan/plan.ts";
import type { Plan } from "../plan/types.ts";
import type { SandboxBackend } from "../podspec/types.ts";
import { podUnits } from "../boot/units.ts";
import { installUnits, SYSTEM_UNIT_DIR } from "../boot/install.ts";
import { podSliceName, podTargetName, podUnitPatterns, sandboxUnitName } from "../systemd/unitname.ts";
import type { Systemd } from "../systemd/bus.ts";
import { hostLookup } from "../host/lookup.ts";
import { preflight } from "./preflight.ts";
import { checkImagePrograms, imageStoreDir, resolveImages } from "./images.ts";
import { applyTransient } from "./apply-run.ts";
import { applyUnitFiles } from "./apply-files.ts";
import { runStart } from "./start.ts";
import { startTarget } from "./target.ts";
import { stopLocked } from "./stopping.ts";
import { type Env, execDeps, hostFacts, loadPodSpec, recordedPlan, specRef, withPodLock, withSystemd } from "./wiring.ts";

export interface ApplyRequest {
  /** A pod name (its recorded spec, else the spec directory's) or the path of a spec file. */
  ref: string;
  dir?: string;
  /** The sandbox backend; default the one the pod runs with. */
  backend?: SandboxBackend;
  dryRun?: boolean;
  /** Allow changes that start the whole pod again. */
  recreate?: boolean;
}

export interface ApplyResult {
  pod: string;
  /** The spec file the new plan came from. */
  file: string;
  diff: PlanDiff;
  dryRun: boolean;
  /** False when there was nothing to do, or a dry run. */
  applied: boolean;
  /** The whole pod was started again. */
  recreated: boolean;
  /** The pod runs from unit files (they were written again and systemd reloaded). */
  unitFiles: boolean;
}

/** An apply to a transient pod that failed; what it had done was undone as far as it could be. */
export class ApplyError extends PodunitError {
  constructor(pod: string, unit: string, reason: string, journal: string[], detail: string) {
    const lines = journal.length ? `\nLast lines of '${unit}':\n${journal.map((l) => `  ${l}`).join("\n")}` : "";
    super(`Failed to apply the spec to pod '${pod}': ${unit}: ${reason}${lines}\n${detail}`, {
      hint: `See 'journalctl -u ${unit}'; fix the spec and run 'podunit apply ${pod}' again ('podunit status ${pod}' shows every member).`,
    });
  }
}

/** Compares the pod's new plan with the running one and applies the difference. */
export async function applyPod(req: ApplyRequest, env: Env): Promise<ApplyResult> {
  const spec = await loadPodSpec(specRef(req.ref, env), req.dir, env);
  preflight(spec, hostLookup);
  const images = resolveImages(spec, imageStoreDir(env));
  return withSystemd(env, (sd) =>
    withPodLock(env, spec.name, async () => {
      const running = await runningPlan(spec.name, sd, env);
      const facts = await hostFacts(env, sd);
      if ((spec.userns === "auto") !== (running.userns !== undefined)) {
        throw new PodunitError(`Refused to apply the spec to pod '${spec.name}': userns changed, and a pod's user namespace is made with its sandbox. Nothing was changed.`, {
          exitCode: ExitCode.PERMISSION,
          hint: `Run 'podunit restart ${spec.name}' to start the pod again with the new spec.`,
        });
      }
      const userns = running.userns ? { start: running.userns.start, size: running.userns.size } : undefined;
      const fragment = await sd.fragmentPath(podTargetName(spec.name));
      // A transient pod keeps a default that moved since it started (the fastest runtime installed); what the spec
      // names it follows. Unit files keep nothing: their prepare plans again without the running pod, as at boot.
      const keepRuntimes = fragment === undefined ? plannedRuntimes(running) : undefined;
      const next = plan(spec, facts, { backend: req.backend ?? applyBackend(spec, running.backend), ...(keepRuntimes ? { keepRuntimes } : {}), images, ...(userns ? { userns } : {}) });
      checkImagePrograms(next);
      const diff = diffPlans(running, next);
      const result: ApplyResult = { pod: spec.name, file: spec.file, diff, dryRun: req.dryRun === true, applied: false, recreated: false, unitFiles: fragment !== undefined };
      if (req.dryRun || isEmptyDiff(diff)) return result;
      if (diff.recreate.length && !req.recreate) {
        throw new PodunitError(
          `Refused to apply the spec to pod '${spec.name}': ${diff.recreate.join("; ")}, and that needs the whole pod started again. Nothing was changed.`,
          { exitCode: ExitCode.PERMISSION, hint: `Run 'podunit apply ${spec.name} --recreate' to restart the whole pod with the new spec ('--dry-run' shows every change).` },
        );
      }
      const deps = execDeps(sd, facts.paths, env);
      const rewrite = fragment === undefined ? undefined : unitFileWriter(spec.name, fragment, () => podUnits(spec, facts, { backend: next.backend, images }), sd);
      if (diff.recreate.length) {
        await stopLocked(spec.name, sd, env);
        if (rewrite) {
          const units = await rewrite();
          await startTarget(units, deps);
        } else await runStart(next, deps);
        return { ...result, applied: true, recreated: true };
      }
      if (rewrite) {
        const failure = await applyUnitFiles(running, next, diff, deps, async () => void (await rewrite()));
        if (failure) {
          throw new ApplyError(spec.name, failure.unit, failure.reason, failure.journal, `The unit files follow the new spec; the pod's members now:\n${failure.states.map((s) => `  ${s}`).join("\n")}`);
        }
      } else {
        await applyTransient(running, next, diff, deps, (unit, reason, journal, problems) =>
          new ApplyError(spec.name, unit, reason, journal, problems.length ? `Undoing what apply had done also failed: ${problems.join("; ")}` : "Everything apply had changed was undone: the pod runs as before."),
        );
      }
      return { ...result, applied: true };
    }),
  );
}

/** The plan the running pod was started from; errors when the pod does not run or has no record. */
async function runningPlan(pod: string, sd: Systemd, env: Env): Promise<Plan> {
  const units = new Map((await sd.listUnits(podUnitPatterns(pod))).map((u) => [u.name, u.activeState]));
  if (units.get(podSliceName(pod)) !== "active" || units.get(sandboxUnitName(pod)) !== "active") {
    throw new PodunitError(`Failed to apply the spec to pod '${pod}': the pod is not running, so there is nothing to change.`, {
      hint: `Start it with 'podunit start ${pod}'.`,
    });
  }
  const recorded = recordedPlan(env, pod);
  if (!recorded) {
    throw new PodunitError(`Failed to apply the spec to pod '${pod}': it runs without a record of the plan it was started from (a start by an older podunit), so podunit cannot tell what changed.`, {
      hint: `Run 'podunit restart ${pod}' once: it starts the pod from its spec and records the plan.`,
    });
  }
  return recorded;
}

/**
 * What puts a unit-file pod's new files in place and reloads systemd: files
 * `podunit enable` installed are written again; the generator's are made again
 * by the reload itself. Files written elsewhere (`generate --output`) are not
 * podunit's to replace.
 */
function unitFileWriter(pod: string, fragment: string, units: () => ReturnType<typeof podUnits>, sd: Systemd): () => Promise<Plan> {
  return async () => {
    const u = units();
    if (fragment.startsWith(`${SYSTEM_UNIT_DIR}/`)) installUnits(SYSTEM_UNIT_DIR, u, { links: "absolute" });
    else if (!fragment.startsWith("/run/systemd/generator")) {
      throw new PodunitError(`Failed to apply the spec to pod '${pod}': it runs from the unit file '${fragment}', which neither 'podunit enable' nor the generator wrote.`, {
        hint: `Write its unit files again ('podunit generate ${pod} --output DIR'), run 'systemctl daemon-reload', then restart the pod.`,
      });
    }
    await sd.reload();
    return u.plan;
  };
}
