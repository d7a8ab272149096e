/** A pod spec as the unit files `generate`, `enable` and the generator write (pure). */
import { chooseBackend, plan, type PlanOptions } from "../plan/plan.ts";
import type { HostFacts, Plan } from "../plan/types.ts";
import { imagePins, render, unitFilePlan } from "../plan/unitfiles.ts";
import { afterPull, bootPullNeeded, pullOnlyTarget, pullUnit } from "../plan/pulls.ts";
import type { PodSpec } from "../podspec/types.ts";
import { ExitCode, PodunitError } from "../errors.ts";
import { renderUnit, renderTarget } from "../systemd/render.ts";
import type { PodUnits } from "./install.ts";

/**
 * The pod's unit files in start order (slice, sandbox, members, target) and the
 * targets that want it; with the pull unit first when a member pulls at every
 * boot (`pull = "always"`, see plan/pulls.ts).
 */
export function podUnits(spec: PodSpec, host: HostFacts, opts: PlanOptions = {}): PodUnits & { plan: Plan } {
  refuseUserns(spec);
  const p = unitFilePlan(plan(spec, host, opts), host);
  if (!bootPullNeeded(spec)) return { pod: p.pod, files: render(p), wantedBy: p.target.wantedBy, plan: p };
  const pins = imagePins(p)!;
  const pulled = { ...p, sandbox: afterPull(p.pod, p.sandbox) };
  const unit = pullUnit(p.pod, host.paths.podunit, { store: pins.store, pins: pins.pins, specFile: p.file, backend: p.backend });
  return { pod: p.pod, files: [renderUnit(unit, p.file), ...render(pulled)], wantedBy: p.target.wantedBy, plan: pulled };
}

/**
 * The units of a boot-time pod whose images are not in the store yet (the
 * generator at boot): its pull unit and a target that wants it. Once the pull has
 * brought them, `podunit internal pull` reloads systemd, whose generator then
 * writes the pod's full units, and starts the target again.
 */
export function pullOnlyUnits(spec: PodSpec, host: HostFacts, store: string): PodUnits {
  refuseUserns(spec);
  const backend = chooseBackend(spec, host, undefined);
  const unit = pullUnit(spec.name, host.paths.podunit, { store, pins: {}, specFile: spec.file, backend }, "start-target");
  const target = pullOnlyTarget(spec);
  return { pod: spec.name, files: [renderUnit(unit, spec.file), renderTarget(target, spec.file)], wantedBy: [...target.wantedBy] };
}

/**
 * A pod with userns = "auto" has no unit files: its range of host ids is held by
 * `podunit start` before its configs are written, and nothing at boot takes one yet.
 */
function refuseUserns(spec: PodSpec): void {
  if (spec.userns !== "auto") return;
  throw new PodunitError(`Failed to write unit files for pod '${spec.name}': it has userns = "auto", which podunit supports only for pods started with 'podunit start' (not enable, generate or the boot-time generator).`, {
    exitCode: ExitCode.INVALID_SPEC,
    hint: "Start the pod with 'podunit start', or drop userns from the spec to give it unit files (docs/security.md).",
  });
}
