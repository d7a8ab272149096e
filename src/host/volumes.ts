/**
 * Pod volumes on the host: persistent directories below
 * /var/lib/podunit/volumes/POD/ (never followed through a symbolic link out of
 * it), scratch directories and tmpfs mounts below the pod's run directory
 * (mount(2), no `mount` process), host paths that must exist. Used by the
 * start's volumes step and, for unit-file pods, by `podunit internal
 * volumes-up`/`volumes-down`.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, rmdirSync, rmSync, statSync } from "node:fs";
import { NotFoundError, PodunitError } from "../errors.ts";
import { EINVAL, ENOENT, HostError } from "./errno.ts";
import { mount, MNT_DETACH, MS_NODEV, MS_NOSUID, umount2 } from "./libc.ts";
import type { PodVolumes, VolumesMade } from "./ports.ts";
import { isMountPoint } from "./rootfs.ts";
import type { PlannedVolume } from "../plan/types.ts";

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** Refuses every host volume whose path is missing, before anything is made. */
export function checkHostVolumes(volumes: readonly PlannedVolume[]): void {
  const missing = volumes.filter((v) => {
    if (v.type !== "host") return false;
    try {
      statSync(v.source);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) {
    throw new NotFoundError(
      `Host volume${missing.length > 1 ? "s" : ""} ${missing.map((v) => `'${v.name}' ('${v.source}')`).join(", ")} ${missing.length > 1 ? "do" : "does"} not exist.`,
      "Create the path (a directory or a file), or change path in the pod's [volumes] table.",
    );
  }
}

/**
 * Makes `dir` (mode `mode`) unless it is there; a symbolic link or a non-directory
 * in its place is refused, so a volume never lands outside its parent.
 */
function ensureDir(dir: string, mode: number, made: VolumesMade, what: string, recursive = false): void {
  try {
    const st = lstatSync(dir);
    if (st.isSymbolicLink() || !st.isDirectory()) {
      throw new PodunitError(`Failed to make ${what}: '${dir}' is ${st.isSymbolicLink() ? "a symbolic link" : "not a directory"}, and podunit does not follow it out of its volume directory.`, {
        hint: `Move '${dir}' away (it is not podunit's), then start the pod again.`,
      });
    }
    return;
  } catch (e) {
    if (code(e) !== "ENOENT") throw e;
  }
  mkdirSync(dir, { mode });
  chmodSync(dir, mode);
  made.dirs.push({ path: dir, recursive });
}

/** The owner and mode the spec asks for, applied to the volume's top directory on every start. */
function applyOwnerMode(v: PlannedVolume): void {
  if (v.owner) chownSync(v.source, v.owner.uid, v.owner.gid);
  if (v.mode !== undefined) chmodSync(v.source, v.mode);
}

function prepareOne(v: PlannedVolume, made: VolumesMade): void {
  const parent = v.source.slice(0, v.source.lastIndexOf("/"));
  const what = `${v.type} volume '${v.name}'`;
  if (v.type === "host") return;
  if (v.type === "persistent") {
    // VOLUME_ROOT itself may be a link (to another disk); the pod's directory and the volume's may not.
    mkdirSync(parent.slice(0, parent.lastIndexOf("/")), { recursive: true, mode: 0o700 });
    ensureDir(parent, 0o700, made, what);
    ensureDir(v.source, v.mode ?? 0o755, made, what);
    applyOwnerMode(v);
    return;
  }
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  ensureDir(v.source, 0o700, made, what, true);
  if (v.type === "scratch") {
    applyOwnerMode(v);
    return;
  }
  if (isMountPoint(v.source)) return;
  const opts = [`size=${v.size}`, `mode=${(v.mode ?? 0o1777).toString(8)}`, ...(v.owner ? [`uid=${v.owner.uid}`, `gid=${v.owner.gid}`] : [])];
  const err = mount("tmpfs", v.source, "tmpfs", MS_NOSUID | MS_NODEV, opts.join(","));
  if (err !== 0) throw new HostError(`mount ${what} at`, "mount", err, { path: v.source });
  made.mounts.push(v.source);
}

/** Makes the pod's volumes: host paths are checked first, so a missing one leaves nothing made. */
export function prepareVolumes(volumes: readonly PlannedVolume[]): VolumesMade {
  checkHostVolumes(volumes);
  const made: VolumesMade = { mounts: [], dirs: [] };
  try {
    for (const v of volumes) prepareOne(v, made);
  } catch (e) {
    releaseVolumes(made);
    throw e;
  }
  return made;
}

/** Unmounts everything stacked at `path`; nothing there is fine. */
function unmountAll(path: string): void {
  for (let i = 0; i < 8 && isMountPoint(path); i++) {
    const err = umount2(path, MNT_DETACH);
    if (err !== 0 && err !== EINVAL && err !== ENOENT) throw new HostError("unmount the volume", "umount2", err, { path });
  }
}

/** Undoes `made`; a persistent directory goes only while it is empty. Returns what could not be undone. */
export function releaseVolumes(made: VolumesMade): string[] {
  const problems: string[] = [];
  for (const m of [...made.mounts].reverse()) {
    try {
      unmountAll(m);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  for (const d of [...made.dirs].reverse()) {
    try {
      if (d.recursive) rmSync(d.path, { recursive: true, force: true });
      else rmdirSync(d.path);
    } catch (e) {
      if (code(e) !== "ENOENT" && code(e) !== "ENOTEMPTY") problems.push(`Failed to remove '${d.path}': ${(e as Error).message}`);
    }
  }
  return problems;
}

/** Unmounts the tmpfs volumes and removes the scratch and tmpfs directories (a pod's stop, in unit files). */
export function removeRunVolumes(volumes: readonly PlannedVolume[]): void {
  for (const v of volumes) {
    if (v.type !== "scratch" && v.type !== "tmpfs") continue;
    unmountAll(v.source);
    // A mount left there in spite of the above is never emptied through: --one-file-system's rule, by hand.
    if (isMountPoint(v.source)) throw new PodunitError(`Failed to remove volume '${v.name}': '${v.source}' is still a mount point.`);
    rmSync(v.source, { recursive: true, force: true });
  }
}

/** One persistent volume on disk, for `podunit volume list` and `inspect`. */
export interface VolumeOnDisk {
  pod: string;
  name: string;
  path: string;
  uid: number;
  gid: number;
  mode: number;
  /** Bytes in regular files below it (not following links, not descending into mounts). */
  bytes: number;
}

function du(dir: string, dev: number): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    const st = lstatSync(p);
    // Only directories tell a mount apart: on overlayfs a file's st_dev is its layer's.
    if (st.isDirectory()) total += st.dev === dev ? du(p, dev) : 0;
    else if (st.isFile()) total += st.size;
  }
  return total;
}

/** The persistent volumes below `root` (`/var/lib/podunit/volumes`), sorted by pod and name. */
export function listVolumes(root: string): VolumeOnDisk[] {
  const out: VolumeOnDisk[] = [];
  const dirs = (p: string) => {
    try {
      return readdirSync(p, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch (e) {
      if (code(e) === "ENOENT") return [];
      throw e;
    }
  };
  for (const pod of dirs(root)) {
    for (const name of dirs(`${root}/${pod}`)) {
      const path = `${root}/${pod}/${name}`;
      const st = lstatSync(path);
      out.push({ pod, name, path, uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, bytes: du(path, st.dev) });
    }
  }
  return out;
}

/** Removes a persistent volume's directory (and the pod's, once it is empty). */
export function removeVolume(root: string, pod: string, name: string): void {
  const path = `${root}/${pod}/${name}`;
  const st = lstatSync(path);
  if (!st.isDirectory()) throw new PodunitError(`Failed to remove volume '${pod}/${name}': '${path}' is not a directory.`);
  rmSync(path, { recursive: true, force: false });
  try {
    rmdirSync(`${root}/${pod}`);
  } catch {
    // Other volumes of the pod are still there.
  }
}

/** The real PodVolumes port. */
export const hostVolumes: PodVolumes = { prepare: prepareVolumes, release: releaseVolumes };
