/**
 * Image members' root file systems: an overlay of the image's unpacked layers
 * with a writable layer of the member's own, mounted with mount(2) (no `mount`
 * process: see docs/images.md for the measured difference). A read-only root is
 * an overlay of the lowers alone; overlayfs refuses that with a single lower
 * directory, so a one-layer read-only root is a read-only bind mount instead.
 */
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, rmdirSync, rmSync, statSync } from "node:fs";
import { NotFoundError, PodunitError } from "../errors.ts";
import { EINVAL, ENOENT, HostError } from "./errno.ts";
import { idmappedBind, mount, MNT_DETACH, MS_BIND, MS_RDONLY, MS_REMOUNT, umount2 } from "./libc.ts";
import type { MemberRoots } from "./ports.ts";
import { mountinfo } from "./proc.ts";
import type { MemberRoot } from "../plan/types.ts";

/** The overlay's option string; refuses paths overlayfs cannot take in it. */
export function overlayOptions(r: Pick<MemberRoot, "lowerdirs" | "upper" | "work">): string {
  const paths = [...r.lowerdirs, ...(r.upper !== undefined ? [r.upper, r.work ?? ""] : [])];
  const bad = paths.find((p) => /[,:\\\n]/.test(p));
  if (bad !== undefined) {
    throw new PodunitError(`Cannot mount an overlay with the directory '${bad}': overlayfs options cannot hold ',', ':' or '\\' in a path.`, {
      hint: "Keep the image store ($PODUNIT_IMAGE_DIR) and the run directory at paths without those characters.",
    });
  }
  const lower = `lowerdir=${r.lowerdirs.join(":")}`;
  return r.upper !== undefined ? `${lower},upperdir=${r.upper},workdir=${r.work}` : lower;
}

/** Whether `path` is a mount point in this mount namespace. */
export function isMountPoint(path: string): boolean {
  const p = path.replace(/\/+$/, "");
  return mountinfo().some((m) => m.mountPoint === p);
}

/** Checks that every layer is there; a missing one means the image left the store. */
export function checkLayers(r: Pick<MemberRoot, "image" | "manifestDigest" | "lowerdirs">): void {
  const missing = r.lowerdirs.find((l) => !existsSync(l));
  if (missing !== undefined) {
    throw new NotFoundError(
      `Image '${r.image}' (${r.manifestDigest}) is not in the image store: its unpacked layer '${missing}' is missing.`,
      `Load it again with 'podunit image load FILE' (or fetch it with 'podunit image pull ${r.image}'), then start the pod again.`,
    );
  }
}

/**
 * userns = "auto": mounts every layer below `r.idmap.dir` with the ID map of the pod's
 * user namespace; returns their paths, lowest-numbered first as in `r.lowerdirs`.
 */
function idmapLayers(r: MemberRoot & { idmap: NonNullable<MemberRoot["idmap"]> }): string[] {
  const fd = openSync(r.idmap.userns, "r");
  const made: string[] = [];
  try {
    mkdirSync(r.idmap.dir, { recursive: true, mode: 0o700 });
    r.lowerdirs.forEach((layer, i) => {
      const at = `${r.idmap.dir}/${i}`;
      mkdirSync(at, { mode: 0o700 });
      const err = idmappedBind(layer, at, fd);
      if (err !== 0) {
        throw new HostError(`mount the layer '${layer}' of member '${r.member}' with the pod's ID map at`, err[0], err[1], {
          path: at,
          hint:
            err[1] === EINVAL
              ? "The image store's file system cannot be mounted with an ID map (ext4, xfs and btrfs can; overlayfs cannot, tmpfs only from Linux 6.3). Keep /var/lib/podunit/images on such a file system, or drop userns from the spec."
              : undefined,
        });
      }
      made.push(at);
    });
    return made;
  } catch (e) {
    releaseIdmaps(r.idmap.dir);
    throw e;
  } finally {
    closeSync(fd);
  }
}

/** Detaches the ID-mapped layers below `dir` (the overlay keeps its own references) and removes their mount points. */
function releaseIdmaps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const at = `${dir}/${n}`;
    for (let i = 0; i < 8 && isMountPoint(at); i++) umount2(at, MNT_DETACH);
    // Never recursive: through a mount left there, that would delete the image's files.
    rmdirSync(at);
  }
  rmdirSync(dir);
}

/** Makes the directories and mounts the root at `r.target`; with `r.idmap`, of the layers mounted with the pod's ID map. */
export function mountRoot(r: MemberRoot): void {
  checkLayers(r);
  if (r.idmap === undefined) return mountLayers(r);
  const lowerdirs = idmapLayers({ ...r, idmap: r.idmap });
  try {
    mountLayers({ ...r, lowerdirs });
  } finally {
    releaseIdmaps(r.idmap.dir);
  }
}

function mountLayers(r: MemberRoot): void {
  for (const d of [r.target, r.upper, r.work]) if (d !== undefined) mkdirSync(d, { recursive: true, mode: 0o700 });
  if (r.upper !== undefined) {
    // The overlay's `/` is the upper directory itself: it takes the owner and mode of the image's top `/`.
    const top = statSync(r.lowerdirs[0]!);
    chownSync(r.upper, top.uid, top.gid);
    chmodSync(r.upper, top.mode & 0o7777);
  }
  const what = `mount the root of member '${r.member}' (image '${r.image}') at`;
  if (r.upper === undefined && r.lowerdirs.length === 1) {
    let err = mount(r.lowerdirs[0]!, r.target, null, MS_BIND, null);
    if (err !== 0) throw new HostError(what, "mount", err, { path: r.target });
    // A bind mount takes MS_RDONLY only on a remount.
    err = mount(null, r.target, null, MS_REMOUNT | MS_BIND | MS_RDONLY, null);
    if (err !== 0) {
      umount2(r.target, MNT_DETACH);
      throw new HostError(what, "mount", err, { path: r.target });
    }
    return;
  }
  const err = mount("overlay", r.target, "overlay", r.upper === undefined ? MS_RDONLY : 0, overlayOptions(r));
  if (err !== 0) {
    throw new HostError(what, "mount", err, {
      path: r.target,
      hint: err === EINVAL ? "overlayfs refused the layers; the upper directory must be on a file system that supports it (tmpfs, ext4, xfs), not on an overlay." : undefined,
    });
  }
}

/**
 * Unmounts the root at `target` (every mount stacked there) and, with `layers`,
 * removes the writable layer and the mount point. Nothing there is fine.
 */
export function unmountRoot(target: string, layers?: string): void {
  for (let i = 0; i < 8 && isMountPoint(target); i++) {
    const err = umount2(target, MNT_DETACH);
    if (err !== 0 && err !== EINVAL && err !== ENOENT) throw new HostError("unmount the member root", "umount2", err, { path: target });
  }
  try {
    // Never recursive: a mount left there (in spite of the above) must not be emptied through.
    rmdirSync(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new PodunitError(`Failed to remove the member root '${target}': ${(e as Error).message}`);
  }
  if (layers !== undefined) rmSync(layers, { recursive: true, force: true });
}

/** The real MemberRoots port. */
export const hostRoots: MemberRoots = {
  mount: mountRoot,
  unmount: (r) => {
    if (r.idmap) releaseIdmaps(r.idmap.dir);
    unmountRoot(r.target, r.upper !== undefined ? r.upper.slice(0, r.upper.lastIndexOf("/")) : undefined);
  },
  isMounted: isMountPoint,
};
