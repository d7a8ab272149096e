/**
 * The Plan: everything podunit will ask of systemd and the file system to run
 * one pod, as plain data. `plan(spec, host)` makes it; the executor runs it as
 * transient units, `render()` writes it as unit files. Bigints (bytes,
 * microseconds) become strings in JSON (see planToJson).
 */
import type { MemberKind, Namespace, OciRuntime, SandboxBackend } from "../podspec/types.ts";
import type { UnitProperty } from "../systemd/properties.ts";
import type { NetworkConfig } from "../podspec/netconfig.ts";
import type { PlannedNetwork } from "./network.ts";
import type { PlannedVolume } from "./volumes.ts";

export type { PlannedVolume } from "./volumes.ts";
import type { PlannedHealth } from "./health.ts";

export type CgroupMode = "legacy" | "hybrid" | "unified";

/** Absolute paths of the programs the units run. */
export interface HostPaths {
  /** Undefined when crun is not installed. */
  crun?: string;
  /** Undefined when runc is not installed. */
  runc?: string;
  catatonit: string;
  unshare: string;
  nsenter: string;
  rm: string;
  /** Narrows a host member's capabilities and switches it to its user, after nsenter. */
  setpriv: string;
  /** A POSIX shell (Debian: dash), for the one step of a crun unit that needs no more (runtime.ts, pidHandOff). */
  sh: string;
  podunit: string;
}

/** Facts about the host the plan depends on; detected by the command layer. */
export interface HostFacts {
  /** systemd's major version, e.g. 252. */
  systemdVersion: number;
  cgroupMode: CgroupMode;
  paths: HostPaths;
  /** Where pods keep pins, bundles and PID files; `/run/podunit` by default. */
  runDir: string;
  /** The host's pod network (network.toml), read on first use: only bridged pods need it. Undefined: the defaults. */
  network?: () => NetworkConfig;
}

export type UnitRole = "slice" | "sandbox" | "member" | "health";

/**
 * What the pods layer found out about one image before planning (the store, the
 * image's config, its /etc/passwd and /etc/group), so `plan()` stays pure.
 */
export interface ImageFacts {
  /** The manifest the reference resolved to. */
  manifestDigest: string;
  /** The image store it was found in. */
  store: string;
  /** Unpacked layer directories, lowest first. */
  layers: string[];
  /** The image's configuration (OCI image config `config`), as far as podunit uses it. */
  config: {
    entrypoint?: string[];
    cmd?: string[];
    /** `NAME=value` entries. */
    env?: string[];
    workingDir?: string;
    user?: string;
    stopSignal?: string;
  };
  /** The image's /etc/passwd: user name → uid and primary gid. */
  passwd: Record<string, { uid: number; gid: number }>;
  /** The image's /etc/group: group name → gid. */
  groups: Record<string, number>;
}

/** Where a member's resolved value came from. */
export type Source = "spec" | "image" | "default" | "spec args, image Entrypoint";

export interface Sourced<T> {
  value: T;
  from: Source;
}

/** An image member's command, environment, directory, user and stop signal, with where each came from. */
export interface ImageMemberConfig {
  command: Sourced<string[]>;
  env: Array<{ name: string; value: string; from: Source }>;
  workdir: Sourced<string>;
  /** `written`: the user as the spec or image wrote it, when it was looked up. */
  user: Sourced<{ uid: number; gid: number; written?: string }>;
  stopSignal: Sourced<string>;
}

/**
 * A member's root file system made from an image: the image's layers as overlayfs
 * lower directories (top first) and a writable layer of its own (upper and work
 * directories), mounted at `target` when the pod starts and removed when it stops.
 * Without `upper` the root is read-only: an overlay of the lowers, or a read-only
 * bind mount of a single layer (overlayfs needs two lowers without an upper).
 */
export interface MemberRoot {
  member: string;
  unit: string;
  /** The image as the spec names it, and the manifest it resolved to. */
  image: string;
  manifestDigest: string;
  lowerdirs: string[];
  upper?: string;
  work?: string;
  target: string;
  /**
   * userns = "auto": each layer is first mounted below `dir` with the ID map of the
   * user namespace pinned at `userns` (an idmapped mount), and the overlay is made of
   * those; the member's root then sees the image's root-owned files as its own.
   */
  idmap?: { userns: string; dir: string };
}

/** An image member in a plan: its root and its resolved configuration. */
export interface PlannedImage extends MemberRoot {
  /** The store the image was found in (unit files pass it on to `podunit internal prepare`). */
  store: string;
  config: ImageMemberConfig;
}

/** One unit to start: its escaped name, type, cgroup and typed properties (in table order). */
export interface PlannedUnit {
  name: string;
  type: "slice" | "service" | "timer";
  role: UnitRole;
  /** Member name, for member units. */
  member?: string;
  /** Member kind, for member units. */
  kind?: MemberKind;
  /** The unit's cgroup path below the root of the hierarchy. */
  cgroup: string;
  /** The OCI runtime of the unit's container (members with a rootfs or an image, a runtime sandbox); absent otherwise. */
  runtime?: OciRuntime;
  properties: UnitProperty[];
}

/** The pod's target (unit files only): wants the sandbox and every member. */
export interface PlannedTarget {
  name: string;
  properties: UnitProperty[];
  /** [Install] WantedBy=; empty when the spec has no [install] section. */
  wantedBy: string[];
}

/** A group of units started together; each stage waits for the one before. */
export interface Stage {
  kind: "slice" | "sandbox" | "init" | "members";
  units: string[];
}

/**
 * A namespace held by the sandbox and pinned at a path for members to join: a
 * symbolic link to `/proc/<holder>/ns/<ns>`, made once the sandbox is ready and
 * removed by systemd with the run directory when the sandbox stops.
 */
export interface Pin {
  ns: Namespace | "user";
  path: string;
}

/**
 * What makes a started sandbox ready for members: its holder process (the one in
 * every pod namespace) must have left the launcher that made them (`unshare`, or
 * the runtime's init), then the pod gets its hostname and loopback (native sandbox;
 * a runtime sets both itself) and the pins are linked to the holder's namespaces. `podunit
 * start` does this itself between starting the sandbox and the members; unit files
 * run it as the sandbox's ExecStartPost (`podunit internal ready`).
 */
export interface ContainerWait {
  /** The member's unit. */
  unit: string;
  /** The runtime's PID file of the container. */
  pidFile: string;
  /** The first process's command name (/proc/PID/comm) until it runs the container's program (RUNTIME_INIT_COMM). */
  launcher: string;
}

export interface SandboxReady {
  /** The sandbox's unit: the holder must be in its cgroup. */
  unit: string;
  /** The holder: the sandbox's main process, or its first child (`unshare --fork` for a PID namespace). */
  holder: "main" | "child";
  /** The holder's command name (/proc/PID/comm) while it is still the launcher. */
  launcher: string;
  /**
   * A runtime sandbox's PID file as its runtime writes it: the unit's ready step
   * reads the main PID there (systemd may learn it only after ExecStartPost=; see
   * runtime.ts, pidHandOff). Absent for the native sandbox, whose step gets ${MAINPID}.
   */
  pidFile?: string;
  hostname?: string;
  /** Bring up `lo` in the pod's network namespace. */
  loopback: boolean;
  pins: Pin[];
}

/**
 * One step of a pod's start, in order. `podunit start` runs them one after the
 * other and, when one fails, undoes the ones done (the failed one too) in
 * reverse; unit files do the same work as Exec lines of the units (see
 * docs/architecture.md). A step names what it works on; the data stays in the
 * plan's own fields (files, units, ready, containerWaits).
 */
export type PlannedStep =
  /** Hold the pod's range of host ids (Plan.userns), recorded before planning. Undo: free it. */
  | { kind: "userns" }
  /** Write the plan's directories and files (bundles, configs). Undo: remove the run directory. */
  | { kind: "run-files" }
  /** Start these units in one burst and wait for their jobs. Undo: stop them and forget them. */
  | { kind: "start-units"; units: string[] }
  /** Make the started sandbox ready (Plan.ready). Undo: nothing (its pins go with the sandbox). */
  | { kind: "sandbox-ready" }
  /** Attach the pod to the bridge, publish its ports, name it (Plan.network). Undo: CNI DEL and the rest of the tear-down. */
  | { kind: "network-up" }
  /** Mount the image members' roots (Plan.images): an overlay of the layers each. Undo: unmount them and remove their writable layers. */
  | { kind: "member-roots" }
  /** Make the pod's volumes (Plan.volumes): check host paths, make directories, mount tmpfs. Undo: unmount and remove what it made, never a persistent volume's data. */
  | { kind: "volumes" }
  /** Wait until each container runs catatonit (Plan.containerWaits). Undo: nothing. */
  | { kind: "container-waits" }
  /** Start the pod's health timer (Plan.health) with its check service. Undo: stop both. */
  | { kind: "health-timer" }
  /** Replace the transient unit files of the services started (see src/pods/transient.ts). Undo: nothing. */
  | { kind: "unit-files" };

/**
 * A pod's user namespace: its range of host ids, the directories on the way to the
 * sandbox's and members' roots that the pod's root (an unprivileged user on the host)
 * must be able to pass (mode 0711: search, no listing), and those it must own (the
 * sandbox's empty root, where runc makes mount points as that user).
 */
export interface PlannedUserns {
  start: number;
  size: number;
  traverse: string[];
  own: string[];
}

/** A file the executor writes before starting units. */
export interface PlannedFile {
  path: string;
  /** Permission bits, e.g. 0o600. */
  mode: number;
  content: string;
}

export interface Plan {
  pod: string;
  /** The spec file the plan came from. */
  file: string;
  backend: SandboxBackend;
  /** Host facts the plan was made for. */
  systemdVersion: number;
  cgroupMode: CgroupMode;
  /** The lowest systemd version that understands every property of the plan. */
  requiresSystemd: number;
  /** `<runDir>/<pod>`: pins, bundles, PID files; removed when the sandbox stops. */
  runDir: string;
  slice: PlannedUnit;
  sandbox: PlannedUnit;
  /** Member units in spec order. */
  members: PlannedUnit[];
  target: PlannedTarget;
  stages: Stage[];
  pins: Pin[];
  /** How the sandbox is made ready after it started; undefined when it holds no namespaces. */
  ready?: SandboxReady;
  /**
   * Members with a rootfs and a PID namespace of their own: the first process a runtime
   * starts ignores a SIGTERM until it has executed catatonit, so the member counts as
   * started only once catatonit runs and has started the command (\`podunit start\`
   * waits itself; unit files run \`podunit internal wait-exec\` as ExecStartPost).
   */
  containerWaits: ContainerWait[];
  /** A bridged pod's network; undefined for the others. */
  network?: PlannedNetwork;
  /** The pod's health timer, check service and checks; absent when no member has a check. */
  health?: PlannedHealth;
  /** Image members: their roots and resolved configuration; absent when the pod has none. */
  images?: PlannedImage[];
  /** The pod's volumes; absent when the spec has none. */
  volumes?: PlannedVolume[];
  /** userns = "auto": the pod's host ids and what the run files need for them; absent otherwise. */
  userns?: PlannedUserns;
  /** How `podunit start` runs the plan, in order. */
  steps: PlannedStep[];
  /** Directories the executor creates (mode 0700) before writing files. */
  directories: string[];
  files: PlannedFile[];
}
