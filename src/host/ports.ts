/**
 * What the pod executor and preflight need from the host, as small interfaces.
 * The real adapters live beside this file (files.ts, journal.ts, runtime.ts,
 * ready.ts, lookup.ts); unit tests of ordering and rollback pass fakes.
 */
import type { ContainerWait, MemberRoot, PlannedVolume, SandboxReady } from "../plan/types.ts";

/** A pod's run directory and the mounts and cgroups it leaves. */
export interface RunFiles {
  /** Creates a directory (and its parents) with the given mode. */
  mkdir(path: string, mode: number): void;
  writeFile(path: string, content: string, mode: number): void;
  /** Gives a file or directory to a user and group (by number). */
  chown(path: string, uid: number, gid: number): void;
  /**
   * Replaces a file at once (a new file renamed over the old one), so no reader sees half
   * of it, and keeps it from looking newer than the old one (see transient.ts).
   */
  replaceFile(path: string, content: string, mode: number): void;
  /** Mount points at or below `dir` (pins an older podunit bound and did not unmount). */
  mountsUnder(dir: string): string[];
  /** Detaches a mount point. */
  unmount(path: string): void;
  /** Removes a directory tree; a missing one is fine. */
  removeTree(path: string): void;
  exists(path: string): boolean;
  /**
   * Removes the directories of a cgroup (a path such as `/podunit.slice/podunit-web.slice`)
   * and everything below it in every mounted hierarchy, deepest first. systemd removes the
   * ones it manages; this catches what crun or runc made in v1 hierarchies systemd does not manage.
   * Returns the directories that could not be removed (still holding processes).
   */
  removeCgroupTree(cgroup: string): string[];
}

export interface Journal {
  /** The last `n` lines a unit logged in its current or last run (best effort: [] when unreadable). */
  tail(unit: string, n: number): Promise<string[]>;
}

/** The OCI runtimes' records of containers (their state directories), for a crashed run's leftovers. */
export interface Containers {
  /** Ids of containers, of any installed runtime, whose id starts with `prefix`. */
  list(prefix: string): string[];
  /** `crun|runc delete -f ID`, by the runtime that knows the container. */
  remove(id: string): Promise<void>;
}

/** Steps that make started units ready for what follows (src/host/ready.ts). */
export interface Readiness {
  /** Waits for the namespaces of the sandbox whose main process is `mainPid`, names the pod, links the pins. */
  sandbox(r: SandboxReady, mainPid: number): Promise<void>;
  /** Waits until the container whose PID file is `w.pidFile` runs catatonit and catatonit its child. */
  container(w: ContainerWait): Promise<void>;
  /** True when every pin links to a namespace that is still there. */
  pinsLive(pins: readonly string[]): boolean;
}

/** The file system questions preflight asks before anything is started. */
export interface HostLookup {
  isExecutableFile(path: string): boolean;
  isDirectory(path: string): boolean;
  /** The target of a symbolic link, or undefined when `path` is not one. */
  readLink(path: string): string | undefined;
  /** True when `path` is the host's root directory itself (through links or a bind mount). */
  isHostRoot(path: string): boolean;
}

/** Image members' root file systems (src/host/rootfs.ts). */
export interface MemberRoots {
  /** Makes the directories and mounts the root (an overlay of the image's layers). */
  mount(r: MemberRoot): void;
  /** Unmounts the root and removes its writable layer and mount point; nothing there is fine. */
  unmount(r: MemberRoot): void;
  isMounted(path: string): boolean;
}

/** What making a pod's volumes made, so a failed start removes exactly that (src/host/volumes.ts). */
export interface VolumesMade {
  /** tmpfs mounts made. */
  mounts: string[];
  /** Directories made, parents first; `recursive` for scratch and tmpfs ones (their content goes too). */
  dirs: { path: string; recursive: boolean }[];
}

/** Pod volumes on the host (src/host/volumes.ts). */
export interface PodVolumes {
  /** Checks host volumes exist, then makes directories and mounts tmpfs; what is there already is kept. */
  prepare(volumes: readonly PlannedVolume[]): VolumesMade;
  /** Undoes `made`: unmounts its tmpfs, removes its scratch directories, and its persistent ones only while empty. Returns what could not be undone. */
  release(made: VolumesMade): string[];
}
