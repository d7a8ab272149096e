/**
 * spec + host facts → Plan. Pure: the same inputs give the same plan, with no
 * I/O. The unit layout and why it looks this way: docs/design-decisions.md.
 */
import { PodunitError } from "../errors.ts";
import type { MemberSpec, Namespace, OciRuntime, PodSpec, SandboxBackend } from "../podspec/types.ts";
import { type UnitProperty, propertySince, sortProperties } from "../systemd/properties.ts";
import { memberUnitName, podSliceCgroup, podSliceName, podTargetName, sandboxUnitName, unitCgroup } from "../systemd/unitname.ts";
import { type Ctx, limitProps, NS_ORDER, prop, withProps } from "./builder.ts";
import { PodLayout } from "./layout.ts";
import { hostMember, imageMember, type MemberOrderInfo, rootfsMember } from "./members.ts";
import { planHealth, readinessProps } from "./health.ts";
import { orderMembers } from "./order.ts";
import { nativeSandbox, runtimeSandbox, sandboxReady } from "./sandbox.ts";
import { chooseBackend as chooseRuntimeBackend, sandboxRuntime } from "./runtime.ts";
import { networkParts } from "./netplan.ts";
import { mapVolumeOwners, planVolumes } from "./volumes.ts";
import type { IdRange } from "./userns.ts";
import type { ContainerWait, HostFacts, ImageFacts, Pin, Plan, PlannedFile, PlannedImage, PlannedStep, PlannedUnit, PlannedUserns, Stage } from "./types.ts";

/** Choices made for one run of a plan that are not in the spec (command-line options). */
export interface PlanOptions {
  /** The sandbox backend asked for on the command line; wins over the spec's `sandbox`. */
  backend?: SandboxBackend;
  /** What the pods layer found out about each image the spec names, by the reference as written. */
  images?: ReadonlyMap<string, ImageFacts>;
  /** The range of host ids the pods layer holds for a pod with userns = "auto" (src/host/userns.ts). */
  userns?: IdRange;
  /** The runtime each member of a running pod runs under (`apply`): kept for members whose spec and pod name none. */
  keepRuntimes?: ReadonlyMap<string, OciRuntime>;
}

/** The sandbox backend (src/plan/runtime.ts); a pod with userns = "auto" needs a runtime's, which makes its user namespace. */
export function chooseBackend(spec: PodSpec, host: HostFacts, asked: SandboxBackend | undefined): SandboxBackend {
  const backend = chooseRuntimeBackend(spec, host, asked);
  if (spec.userns === "auto" && backend === "native") {
    throw new PodunitError(`Failed to plan pod '${spec.name}': userns = "auto" needs a crun or runc sandbox, which makes the pod's user namespace and writes its ID maps, and the native one ${asked === "native" ? "was asked for" : spec.sandbox === "native" ? "is in the spec" : "is all this host has"}.`, {
      hint: asked === "native" ? "Leave out --backend native for this pod." : spec.sandbox === "native" ? "Drop sandbox = \"native\" from the spec, or drop userns." : "Install crun or runc (Debian: apt-get install crun), or drop userns from the spec.",
    });
  }
  return backend;
}

function pinnedNamespaces(spec: PodSpec): Namespace[] {
  const fromHost: Record<Namespace, boolean> = { net: spec.hostNetwork, ipc: spec.hostIpc, uts: false, pid: spec.hostPid };
  return NS_ORDER.filter((ns) => spec.share.includes(ns) && !fromHost[ns]);
}

function unit(name: string, type: PlannedUnit["type"], role: PlannedUnit["role"], cgroup: string, props: UnitProperty[], m?: MemberSpec, runtime?: OciRuntime): PlannedUnit {
  const keys = new Set<string>();
  for (const p of props) {
    if (keys.has(p.key)) throw new Error(`Property '${p.key}' planned twice for '${name}'`);
    keys.add(p.key);
  }
  return { name, type, role, ...(m ? { member: m.name, kind: m.kind } : {}), cgroup, ...(runtime ? { runtime } : {}), properties: sortProperties(props) };
}

/** Turns a validated pod spec into a plan for this host. */
export function plan(spec: PodSpec, host: HostFacts, opts: PlanOptions = {}): Plan {
  const layout = new PodLayout(host.runDir, spec.name);
  const userns = spec.userns === "auto" ? usernsOf(spec, opts.userns) : undefined;
  const volumes = planVolumes(spec, layout);
  const c: Ctx = {
    spec,
    host,
    layout,
    backend: chooseBackend(spec, host, opts.backend),
    pinned: pinnedNamespaces(spec),
    slice: podSliceName(spec.name),
    sandbox: sandboxUnitName(spec.name),
    volumes: userns ? mapVolumeOwners(volumes, userns) : volumes,
    ...(userns ? { userns } : {}),
    keptRuntimes: opts.keepRuntimes ?? new Map(),
  };
  const dirs: string[] = [layout.dir, ...(c.pinned.length ? [layout.nsDir] : [])];
  const files: PlannedFile[] = [];
  const containerWaits: ContainerWait[] = [];

  const slice = unit(c.slice, "slice", "slice", podSliceCgroup(spec.name), [
    prop("Description", `Pod '${spec.name}'`),
    ...limitProps(spec.limits),
  ]);
  const network = networkParts(c);
  const rt = sandboxRuntime(c);
  const sandboxProps = network.sandbox(rt ? runtimeSandbox(c, rt, files, dirs) : nativeSandbox(c));
  const sandbox = unit(c.sandbox, "service", "sandbox", unitCgroup(spec.name, c.sandbox), sandboxProps, undefined, rt?.name);

  const order = orderMembers(spec);
  const initNames = order.inits.map((m) => m.name);
  if (spec.members.some((m) => m.rootfs !== undefined || m.image !== undefined)) dirs.push(layout.bundlesDir);
  const images: PlannedImage[] = [];
  const out = { files, dirs, waits: containerWaits, runtimes: new Map<string, OciRuntime>(), pidFiles: new Map<string, string>() };
  const members = spec.members.map((m) => {
    const info: MemberOrderInfo = { initsBefore: m.kind === "init" ? initNames.slice(0, initNames.indexOf(m.name)) : initNames };
    const name = memberUnitName(spec.name, m.name);
    const props =
      m.image !== undefined
        ? imageMember(c, m, info, out, opts.images?.get(m.image), images)
        : m.rootfs !== undefined
          ? rootfsMember(c, m, info, out)
          : hostMember(c, m, info);
    return unit(name, "service", "member", unitCgroup(spec.name, name), withProps(props, readinessProps(c, m, out.pidFiles.get(m.name))), m, out.runtimes.get(m.name));
  });
  network.files(files);
  if (images.length) files.push({ path: layout.imagesFile, mode: 0o644, content: imagesJson(images) });
  const health = planHealth(c, members, files, dirs);

  const unitOf = (m: MemberSpec) => memberUnitName(spec.name, m.name);
  const stages: Stage[] = [
    { kind: "slice", units: [slice.name] },
    { kind: "sandbox", units: [sandbox.name] },
    ...order.inits.map((m): Stage => ({ kind: "init", units: [unitOf(m)] })),
    ...order.waves.map((w): Stage => ({ kind: "members", units: w.map(unitOf) })),
  ];

  // The target is active exactly while the pod runs: it waits for every unit it wants
  // (After=) and goes down with the sandbox (BindsTo=).
  const wanted = [sandbox.name, ...members.map((u) => u.name), ...(health ? [health.timer.name] : [])];
  const target = {
    name: podTargetName(spec.name),
    properties: sortProperties([
      prop("Description", `Pod '${spec.name}'`),
      prop("After", wanted),
      prop("BindsTo", [sandbox.name]),
      prop("Wants", wanted),
    ]),
    wantedBy: spec.install?.wantedBy ?? [],
  };

  const all = [slice, sandbox, ...members, target, ...(health ? [health.timer, health.service] : [])];
  let requiresSystemd = 0;
  let needs = "";
  for (const u of all) {
    for (const p of u.properties) {
      const v = propertySince(p);
      if (v > requiresSystemd) [requiresSystemd, needs] = [v, `${p.key} on ${u.name}`];
    }
  }
  if (host.systemdVersion < requiresSystemd) {
    throw new PodunitError(
      `Failed to plan pod '${spec.name}': it needs systemd ${requiresSystemd} or later (for ${needs}), and this host runs systemd ${host.systemdVersion}.`,
    );
  }

  const pins: Pin[] = [...(userns ? ["user" as const] : []), ...c.pinned].map((ns) => ({ ns, path: layout.pin(ns) }));
  const ready = sandboxReady(c, pins);
  const steps = startSteps(stages, userns !== undefined, ready !== undefined, containerWaits.length > 0, images.length > 0, network.planned !== undefined, c.volumes.length > 0, health !== undefined);
  return {
    pod: spec.name,
    file: spec.file,
    backend: c.backend,
    systemdVersion: host.systemdVersion,
    cgroupMode: host.cgroupMode,
    requiresSystemd,
    runDir: layout.dir,
    slice,
    sandbox,
    members,
    target,
    stages,
    pins,
    ...(ready ? { ready } : {}),
    containerWaits,
    ...(network.planned ? { network: network.planned } : {}),
    ...(images.length ? { images } : {}),
    ...(c.volumes.length ? { volumes: c.volumes } : {}),
    ...(userns ? { userns: plannedUserns(userns, host, layout, images.length > 0) } : {}),
    ...(health ? { health } : {}),
    steps,
    directories: dirs,
    files,
  };
}

/**
 * The steps of a start: run files, the volumes, then the slice and the sandbox;
 * a sandbox that must be made ready is, before any member is asked for; a
 * bridged pod's network is set up once the sandbox holds the namespace; the
 * image members' roots; then every member in one burst, in stage order (their
 * After=/Requires= order the jobs, systemd runs them in parallel where that
 * allows); the containers' waits; the health timer; the unit files.
 */
function startSteps(stages: Stage[], userns: boolean, ready: boolean, waits: boolean, roots: boolean, network: boolean, volumes: boolean, health: boolean): PlannedStep[] {
  const units = (kinds: Stage["kind"][]) => stages.filter((s) => kinds.includes(s.kind)).flatMap((s) => s.units);
  const pod = units(["slice", "sandbox"]);
  const members = units(["init", "members"]);
  // Volumes come before any unit: a missing host path refuses the start before anything runs.
  // The range was recorded before planning (the configs name it); the first step holds it, its undo frees it.
  const steps: PlannedStep[] = [...(userns ? [{ kind: "userns" } as const] : []), { kind: "run-files" }, ...(volumes ? [{ kind: "volumes" } as const] : [])];
  // Roots are mounted after the sandbox started (a runtime sandbox's mount namespace then holds
  // no copy of them) and before any member: a member's bundle points at its root.
  const mountRoots: PlannedStep[] = roots ? [{ kind: "member-roots" }] : [];
  if (ready) {
    steps.push({ kind: "start-units", units: pod }, { kind: "sandbox-ready" });
    // The namespace exists and is pinned; members that start next find the network up.
    if (network) steps.push({ kind: "network-up" });
    steps.push(...mountRoots);
    if (members.length) steps.push({ kind: "start-units", units: members });
  } else {
    steps.push(...mountRoots, { kind: "start-units", units: [...pod, ...members] });
  }
  if (waits) steps.push({ kind: "container-waits" });
  // Armed after every member passed its first check (their start jobs waited for it).
  if (health) steps.push({ kind: "health-timer" });
  steps.push({ kind: "unit-files" });
  return steps;
}

function usernsOf(spec: PodSpec, range: IdRange | undefined): IdRange {
  if (range === undefined) {
    throw new PodunitError(`Failed to plan pod '${spec.name}': it has userns = "auto", and no range of host ids was held for it before planning.`, {
      hint: "This is a bug in podunit: the range should have been taken (src/host/userns.ts) before planning.",
    });
  }
  return range;
}

/** The range and the directories the pod's root must pass or own (see PlannedUserns). */
function plannedUserns(range: IdRange, host: HostFacts, layout: PodLayout, roots: boolean): PlannedUserns {
  const runDir = host.runDir.replace(/\/+$/, "");
  return {
    ...range,
    traverse: [runDir, layout.dir, layout.sandboxBundle, ...(roots ? [layout.rootsDir] : [])],
    own: [`${layout.sandboxBundle}/rootfs`],
  };
}

/** The run file that records which images a running pod uses (`podunit image rm` and `prune` read it). */
function imagesJson(images: PlannedImage[]): string {
  const members = Object.fromEntries(images.map((i) => [i.member, { image: i.image, manifestDigest: i.manifestDigest }]));
  return `${JSON.stringify({ members }, null, 2)}\n`;
}

/** Every unit podunit starts for the plan, in start order of their kinds (slice, sandbox, members). */
export function planUnits(p: Plan): PlannedUnit[] {
  return [p.slice, p.sandbox, ...p.members];
}
