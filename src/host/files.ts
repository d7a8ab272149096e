/** The real RunFiles: a pod's run directory on the local file system, its leftover mounts and cgroups. */
import { chmodSync, chownSync, existsSync, mkdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { removeCgroupTree } from "./cgroup.ts";
import { EINVAL, ENOENT, HostError } from "./errno.ts";
import { MNT_DETACH, umount2 } from "./libc.ts";
import type { RunFiles } from "./ports.ts";
import { mountinfo } from "./proc.ts";

export const hostFiles: RunFiles = {
  mkdir(path, mode) {
    mkdirSync(path, { recursive: true, mode });
    chmodSync(path, mode);
  },
  writeFile(path, content, mode) {
    writeFileSync(path, content, { mode });
    chmodSync(path, mode);
  },
  chown(path, uid, gid) {
    chownSync(path, uid, gid);
  },
  replaceFile(path, content, mode) {
    const tmp = `${path}.podunit-${process.pid}`;
    writeFileSync(tmp, content, { mode });
    chmodSync(tmp, mode);
    try {
      // A millisecond older than the old file: times set from JavaScript can round up, and a
      // newer file is one systemd would call "changed on disk".
      const old = statSync(path);
      utimesSync(tmp, old.atime, new Date(old.mtimeMs - 1));
    } catch {
      // No old file: nothing to keep.
    }
    renameSync(tmp, path);
  },
  mountsUnder(dir) {
    const prefix = dir.replace(/\/+$/, "");
    return mountinfo()
      .map((m) => m.mountPoint)
      .filter((m) => m === prefix || m.startsWith(prefix + "/"))
      .reverse();
  },
  unmount(path) {
    const err = umount2(path, MNT_DETACH);
    // Not a mount point (any more), or gone: what the caller wanted.
    if (err !== 0 && err !== EINVAL && err !== ENOENT) throw new HostError("unmount", "umount2", err, { path });
  },
  removeTree(path) {
    rmSync(path, { recursive: true, force: true });
  },
  exists(path) {
    return existsSync(path);
  },
  removeCgroupTree,
};
