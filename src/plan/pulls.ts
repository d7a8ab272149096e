/**
 * Which images a pod fetches, by its members' pull policies, and the unit that
 * fetches them at boot. Pure: whether the store has an image comes in as a function.
 *
 * Unit files name every image by the manifest digest it had when they were written,
 * so a boot with every image there needs no registry and no network. They get a pull
 * unit, `podunit-POD-image-pull.service` (a oneshot after and wanting
 * network-online.target, required by the sandbox), only when a member says
 * `pull = "always"`, or when an image was not in the store when they were written
 * (the generator at boot: then the pull unit is all the pod has until the pull has
 * brought the image and systemd's reload has written the pod's units).
 */
import type { PodSpec, PullPolicy, SandboxBackend } from "../podspec/types.ts";
import { parseReference } from "../podspec/reference.ts";
import { podPullUnitName, podSliceName, podTargetName } from "../systemd/unitname.ts";
import { sortProperties } from "../systemd/properties.ts";
import { exec, prop } from "./builder.ts";
import type { UnitSpec, TargetSpec } from "../systemd/render.ts";
import type { PlannedUnit } from "./types.ts";

/** One image of a spec: its reference as written, the members that run it and their strongest policy. */
export interface SpecImage {
  ref: string;
  policy: PullPolicy;
  members: string[];
}

const STRENGTH: Record<PullPolicy, number> = { never: 0, missing: 1, always: 2 };

/** The images of `spec`, each once, in the order members name them. Pure. */
export function specImageList(spec: PodSpec): SpecImage[] {
  const out = new Map<string, SpecImage>();
  for (const m of spec.members) {
    if (m.image === undefined) continue;
    const policy = m.pull ?? "missing";
    const seen = out.get(m.image);
    if (!seen) out.set(m.image, { ref: m.image, policy, members: [m.name] });
    else {
      seen.members.push(m.name);
      if (STRENGTH[policy] > STRENGTH[seen.policy]) seen.policy = policy;
    }
  }
  return [...out.values()];
}

/** Whether a reference names an image of a registry; `localhost/...` ones exist only in this host's store (`image load`). */
export function fromRegistry(ref: string): boolean {
  return parseReference(ref).domain !== "localhost";
}

/**
 * The images a start must fetch: every `always` one, and each `missing` one the store
 * lacks (`has`); never a `localhost/` image, which no registry has (a missing one is
 * reported as missing, with how to load it). Pure.
 */
export function imagesToPull(spec: PodSpec, has: (ref: string) => boolean): SpecImage[] {
  return specImageList(spec).filter((i) => fromRegistry(i.ref) && (i.policy === "always" || (i.policy === "missing" && !has(i.ref))));
}


/** Started by name: systemd finds it along its own search path. */
const SYSTEMCTL = "systemctl";

/** How long a boot waits for a pull before it gives up on the pod (a registry that does not answer). */
export const PULL_TIMEOUT_USEC = 30n * 60n * 1_000_000n;

/** What the pull unit's `podunit internal pull` is given. */
export interface PullArgs {
  /** The image store. */
  store: string;
  /** Reference → manifest digest the unit files were written for; empty when they were written without the images. */
  pins: Record<string, string>;
  specFile: string;
  /** The sandbox backend the units were written for, to write them again alike. */
  backend: SandboxBackend;
}

/** argv of `podunit internal pull` (after the binary): pulls what the spec's policies ask, and has the units written again when an image changed. */
export function pullArgv(a: PullArgs): string[] {
  return ["internal", "pull", "--image-dir", a.store, "--backend", a.backend, ...Object.entries(a.pins).flatMap(([ref, d]) => ["--image", `${ref}=${d}`]), a.specFile];
}

/** The pod's pull unit: a oneshot in the pod's slice, after (and wanting) network-online.target. */
export function pullUnit(pod: string, podunit: string, a: PullArgs, then: "start-target" | "none" = "none"): UnitSpec {
  // Units written without the images: once they are pulled (and the reload has written the pod's units) the target is started again, without waiting for it.
  const start = then === "start-target" ? [prop("ExecStartPostEx", [exec(SYSTEMCTL, ["--no-block", "start", podTargetName(pod)])])] : [];
  return {
    name: podPullUnitName(pod),
    type: "service",
    properties: sortProperties([
      prop("Description", `Pull the images of pod '${pod}'`),
      prop("After", ["network-online.target"]),
      prop("Wants", ["network-online.target"]),
      prop("Slice", podSliceName(pod)),
      prop("Type", "oneshot"),
      prop("ExecStartEx", [exec(podunit, pullArgv(a))]),
      prop("TimeoutStartUSec", PULL_TIMEOUT_USEC),
      prop("SyslogIdentifier", `${pod}/image-pull`),
      ...start,
    ]),
  };
}

/** Whether unit files written now need a pull unit: an image to fetch at every boot (`always`). */
export function bootPullNeeded(spec: PodSpec): boolean {
  return specImageList(spec).some((i) => i.policy === "always" && fromRegistry(i.ref));
}

/** The sandbox of unit files with a pull unit: it starts only after the pull succeeded. */
export function afterPull(pod: string, sandbox: PlannedUnit): PlannedUnit {
  const name = podPullUnitName(pod);
  const get = (k: "After" | "Requires") => (sandbox.properties.find((p) => p.key === k)?.value as string[] | undefined) ?? [];
  const others = sandbox.properties.filter((p) => p.key !== "After" && p.key !== "Requires");
  return { ...sandbox, properties: sortProperties([...others, prop("After", [...get("After"), name]), prop("Requires", [...get("Requires"), name])]) };
}

/** The target of a pod whose units wait for their images: it wants only the pull unit. */
export function pullOnlyTarget(spec: PodSpec): TargetSpec {
  return {
    name: podTargetName(spec.name),
    properties: sortProperties([prop("Description", `Pod '${spec.name}' (waiting for its images)`), prop("Wants", [podPullUnitName(spec.name)])]),
    wantedBy: spec.install?.wantedBy ?? [],
  };
}
