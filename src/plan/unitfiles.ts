/**
 * The unit-file form of a plan (`podunit generate`, `enable`, the generator).
 *
 * `podunit start` writes a pod's run files (OCI bundles, directories under
 * /run/podunit/<pod>) before it asks systemd for anything. Unit files are started by
 * systemd alone, possibly at boot with an empty /run, so in this form the units make
 * their own files: the sandbox, and every member with files of its own, first run
 * `podunit internal prepare`, which plans the pod again from its spec, checks that the
 * plan still has the digest written into the unit, and writes that unit's share of
 * the files. Units and files therefore come from the same plan or the pod does not
 * start. The slice is PartOf= the pod's target, so stopping or restarting the target
 * does the same to the whole pod. Pure: no I/O.
 */
import type { ExecCommand, UnitProperty } from "../systemd/properties.ts";
import { sortProperties } from "../systemd/properties.ts";
import { renderUnitFiles, type UnitFile } from "../systemd/render.ts";
import { exec, prop } from "./builder.ts";
import { PodLayout } from "./layout.ts";
import type { ContainerWait, HostFacts, MemberRoot, Plan, PlannedFile, PlannedUnit, SandboxReady } from "./types.ts";
import { networkUnitFile } from "./netplan.ts";
import { volumesDownArgv, volumesUpArgv } from "./volumes.ts";

/** Length of the digest written into unit files (hex digits of SHA-256). */
export const DIGEST_LENGTH = 16;

/**
 * A short digest of everything a plan asks of systemd and the file system: units,
 * properties, pins, directories and files. The host facts themselves are left out
 * (the running systemd's version, the cgroup mode): they count only through what
 * they change in the units (a container's cgroup differs on cgroup v2).
 */
export function planDigest(p: Plan): string {
  const { systemdVersion: _version, cgroupMode: _mode, requiresSystemd: _needs, ...rest } = p;
  const text = JSON.stringify(rest, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  // Bun's own hasher: loading node:crypto would cost every podunit command about 2 ms.
  return new Bun.CryptoHasher("sha256").update(text).digest("hex").slice(0, DIGEST_LENGTH);
}

/** What `podunit internal prepare` needs to plan the pod again exactly as it was planned for the unit files. */
export interface PrepareArgs {
  /** The member whose files to write; undefined for the sandbox. */
  member?: string;
  digest: string;
  backend: Plan["backend"];
  /** The run directory root (`/run/podunit`), not the pod's own. */
  runDir: string;
  specFile: string;
  /**
   * The images the plan was made with, by the reference the spec writes, pinned to
   * their manifest digests: planning again uses exactly these, whatever the names
   * point to now.
   */
  images?: { store: string; pins: Record<string, string> };
}

/** argv of `podunit internal prepare` (after the binary). */
export function prepareArgv(a: PrepareArgs): string[] {
  const who = a.member === undefined ? ["--sandbox"] : ["--member", a.member];
  const images = a.images ? ["--image-dir", a.images.store, ...Object.entries(a.images.pins).flatMap(([ref, d]) => ["--image", `${ref}=${d}`])] : [];
  return ["internal", "prepare", ...who, "--digest", a.digest, "--backend", a.backend, "--run-dir", a.runDir, ...images, a.specFile];
}

/**
 * The PrepareArgs that `argv` (prepareArgv's, after the binary) was made from: what
 * `podunit internal prepare` runs with, and what `system refresh` reads back from a
 * unit file. Undefined for any other argv: exactly one of --sandbox and --member,
 * --digest, --backend and --run-dir once each, --image only with --image-dir, and
 * last the absolute path of the spec.
 */
export function parsePrepareArgv(argv: readonly string[]): PrepareArgs | undefined {
  if (argv[0] !== "internal" || argv[1] !== "prepare") return undefined;
  const one = new Map<string, string>();
  const pins: Record<string, string> = {};
  let sandbox = false;
  let i = 2;
  for (; i < argv.length - 1; i++) {
    const flag = argv[i]!;
    if (flag === "--sandbox" && !sandbox) {
      sandbox = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined || i === argv.length - 1) return undefined;
    if (flag === "--image") {
      const eq = value.lastIndexOf("=");
      if (eq <= 0) return undefined;
      pins[value.slice(0, eq)] = value.slice(eq + 1);
    } else if (PREPARE_VALUES.has(flag) && !one.has(flag)) one.set(flag, value);
    else return undefined;
  }
  const [member, digest, backend, runDir, store] = ["--member", "--digest", "--backend", "--run-dir", "--image-dir"].map((f) => one.get(f));
  const specFile = argv[i];
  if (sandbox === (member !== undefined) || digest === undefined || runDir === undefined || specFile === undefined || !specFile.startsWith("/")) return undefined;
  if (backend !== "crun" && backend !== "runc" && backend !== "native") return undefined;
  if (store === undefined && Object.keys(pins).length > 0) return undefined;
  return { ...(member !== undefined ? { member } : {}), digest, backend, runDir, specFile, ...(store !== undefined ? { images: { store, pins } } : {}) };
}

/** The options of prepareArgv that take one value, once. */
const PREPARE_VALUES = new Set(["--member", "--digest", "--backend", "--run-dir", "--image-dir"]);

/** The images of a plan as `prepare` pins them; undefined for a pod without image members. */
export function imagePins(p: Plan): PrepareArgs["images"] {
  if (!p.images?.length) return undefined;
  return { store: p.images[0]!.store, pins: Object.fromEntries(p.images.map((i) => [i.image, i.manifestDigest])) };
}

/**
 * argv of `podunit internal mount-root` (after the binary): an image member's
 * ExecStartPre, after its prepare. The image is named by its digest; the layers
 * are checked to be there, so a removed image fails the member with its name.
 */
export function mountRootArgv(r: MemberRoot): string[] {
  const rw = r.upper !== undefined && r.work !== undefined ? ["--upper", r.upper, "--work", r.work] : [];
  return ["internal", "mount-root", "--image", r.image, "--digest", r.manifestDigest, ...r.lowerdirs.flatMap((l) => ["--lower", l]), ...rw, r.target];
}

/** argv of `podunit internal umount-root` (after the binary): an image member's last ExecStopPost, so even a SIGKILLed member leaves no mount. */
export function umountRootArgv(r: MemberRoot): string[] {
  return ["internal", "umount-root", r.target];
}

/** The directories and files one unit writes before it starts: members their own bundle, the sandbox the rest. */
export function runFilesOf(p: Plan, unit: PlannedUnit): { directories: string[]; files: PlannedFile[] } {
  const layout = PodLayout.of(p);
  const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);
  if (unit.role === "member" && unit.member !== undefined) {
    const bundle = layout.memberBundle(unit.member);
    return {
      directories: p.directories.filter((d) => d === layout.dir || d === layout.bundlesDir || under(d, bundle)),
      files: p.files.filter((f) => under(f.path, bundle)),
    };
  }
  if (unit.role === "sandbox") {
    return {
      directories: p.directories.filter((d) => !under(d, layout.bundlesDir)),
      files: p.files.filter((f) => !under(f.path, layout.bundlesDir)),
    };
  }
  return { directories: [], files: [] };
}

/** `u` with `command` run after its own ExecStartPost= commands. */
function withPost(u: PlannedUnit, command: ExecCommand): PlannedUnit {
  const post = (u.properties.find((x) => x.key === "ExecStartPostEx")?.value as ExecCommand[] | undefined) ?? [];
  return withProperty(u, prop("ExecStartPostEx", [...post, command]));
}

function withProperty(u: PlannedUnit, p: UnitProperty): PlannedUnit {
  return { ...u, properties: sortProperties([...u.properties.filter((x) => x.key !== p.key), p]) };
}

/**
 * argv of `podunit internal ready` (after the binary): the sandbox's ready step
 * as its ExecStartPost: a runtime sandbox's PID from the runtime's PID file, the
 * native one's from ${MAINPID}, which systemd expands (so that command keeps
 * environment expansion on; nothing else in it holds a `$`).
 */
export function readyArgv(r: SandboxReady): string[] {
  return [
    "internal",
    "ready",
    ...(r.pidFile !== undefined ? ["--pid-file", r.pidFile] : ["--main-pid", "${MAINPID}"]),
    "--unit",
    r.unit,
    "--holder",
    r.holder,
    "--launcher",
    r.launcher,
    ...(r.hostname !== undefined ? ["--hostname", r.hostname] : []),
    ...(r.loopback ? ["--loopback"] : []),
    ...r.pins.map((p) => `${p.ns}=${p.path}`),
  ];
}

/** argv of `podunit internal wait-exec` (after the binary): a member's wait for catatonit (Plan.containerWaits). */
export function waitExecArgv(w: ContainerWait): string[] {
  return ["internal", "wait-exec", "--children", "--launcher", w.launcher, w.pidFile];
}

function withPrepare(u: PlannedUnit, command: ExecCommand): PlannedUnit {
  const pre = u.properties.find((x) => x.key === "ExecStartPreEx")?.value as ExecCommand[] | undefined;
  return withProperty(u, prop("ExecStartPreEx", [command, ...(pre ?? [])]));
}

/** An image member mounts its root after its prepare and unmounts it after its runtime has forgotten the container. */
function withRoot(u: PlannedUnit, root: MemberRoot | undefined, podunit: string): PlannedUnit {
  if (root === undefined) return u;
  const pre = (u.properties.find((x) => x.key === "ExecStartPreEx")?.value as ExecCommand[] | undefined) ?? [];
  const post = (u.properties.find((x) => x.key === "ExecStopPostEx")?.value as ExecCommand[] | undefined) ?? [];
  const mounted = withProperty(u, prop("ExecStartPreEx", [...pre, exec(podunit, mountRootArgv(root))]));
  return withProperty(mounted, prop("ExecStopPostEx", [...post, exec(podunit, umountRootArgv(root))]));
}

/**
 * The sandbox makes the pod's volumes before it starts (after its prepare, which
 * clears the run directory) and unmounts and removes the scratch and tmpfs ones
 * after it stopped, which is after every member stopped (members are After= it).
 */
function withVolumes(u: PlannedUnit, p: Plan, podunit: string): PlannedUnit {
  if (!p.volumes?.length) return u;
  const pre = (u.properties.find((x) => x.key === "ExecStartPreEx")?.value as ExecCommand[] | undefined) ?? [];
  const post = (u.properties.find((x) => x.key === "ExecStopPostEx")?.value as ExecCommand[] | undefined) ?? [];
  const up = withProperty(u, prop("ExecStartPreEx", [...pre, exec(podunit, volumesUpArgv(p.volumes))]));
  const down = volumesDownArgv(p.volumes);
  return down.length > 2 ? withProperty(up, prop("ExecStopPostEx", [exec(podunit, down), ...post])) : up;
}

/**
 * The plan as unit files carry it: prepare steps on the sandbox and on members with
 * files, the sandbox's ready step and the containers' waits as ExecStartPost
 * (podunit start does those itself), the slice part of the target.
 */
export function unitFilePlan(p: Plan, host: Pick<HostFacts, "runDir" | "paths">): Plan {
  const digest = planDigest(p);
  const images = imagePins(p);
  const prepare = (u: PlannedUnit): ExecCommand =>
    exec(host.paths.podunit, prepareArgv({ member: u.member, digest, backend: p.backend, runDir: host.runDir, specFile: p.file, ...(images ? { images } : {}) }));
  const hasFiles = (u: PlannedUnit) => runFilesOf(p, u).files.length > 0;
  const sandbox = withVolumes(p.sandbox, p, host.paths.podunit);
  return {
    ...p,
    slice: withProperty(p.slice, prop("PartOf", [p.target.name])),
    sandbox: networkUnitFile(
      p.ready
        ? withPost(withPrepare(sandbox, prepare(p.sandbox)), exec(host.paths.podunit, readyArgv(p.ready), p.ready.pidFile !== undefined ? undefined : []))
        : withPrepare(sandbox, prepare(p.sandbox)),
      p.network,
      p.runDir,
      host.paths,
    ),
    members: p.members.map((m) => {
      const root = p.images?.find((i) => i.unit === m.name);
      const prepared = withRoot(hasFiles(m) ? withPrepare(m, prepare(m)) : m, root, host.paths.podunit);
      const wait = p.containerWaits.find((w) => w.unit === m.name);
      if (!wait) return prepared;
      // The wait for catatonit comes before a readiness check (it reads the runtime's PID file, there before any ExecStartPost=).
      const post = (prepared.properties.find((x) => x.key === "ExecStartPostEx")?.value as ExecCommand[] | undefined) ?? [];
      return withProperty(prepared, prop("ExecStartPostEx", [exec(host.paths.podunit, waitExecArgv(wait)), ...post]));
    }),
  };
}

/** The plan's unit files in start order: slice, sandbox, members, then the pod's target. */
export function render(p: Plan): UnitFile[] {
  const health = p.health ? [p.health.timer, p.health.service] : [];
  return renderUnitFiles(p.file, [p.slice, p.sandbox, ...p.members, ...health], p.target);
}
