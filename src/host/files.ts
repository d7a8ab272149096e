/** The real RunFiles and Journal: the local file system, mountinfo, journalctl. */
import { accessSync, readlinkSync, chmodSync, constants, existsSync, statSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Containers, Journal, RunFiles } from "../pods/deps.ts";
import type { HostLookup } from "../pods/preflight.ts";
import { RUNC_ROOT } from "../plan/runc.ts";
import { PodunitError } from "../errors.ts";
import { MNT_DETACH, umount2, EINVAL, ENOENT } from "./libc.ts";

/** Undoes the octal escapes mountinfo uses for space, tab, newline and backslash. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export const hostFiles: RunFiles = {
  mkdir(path, mode) {
    mkdirSync(path, { recursive: true, mode });
    chmodSync(path, mode);
  },
  writeFile(path, content, mode) {
    writeFileSync(path, content, { mode });
    chmodSync(path, mode);
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
    return readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => unescapeMountPath(l.split(" ")[4]!))
      .filter((m) => m === prefix || m.startsWith(prefix + "/"))
      .reverse();
  },
  unmount(path) {
    const err = umount2(path, MNT_DETACH);
    if (err !== 0 && err !== EINVAL && err !== ENOENT) throw new PodunitError(`Failed to unmount '${path}': errno ${err}`);
  },
  removeTree(path) {
    rmSync(path, { recursive: true, force: true });
  },
  exists(path) {
    return existsSync(path);
  },
  removeCgroupTree(cgroup) {
    const left: string[] = [];
    for (const mnt of cgroupMounts()) {
      const root = join(mnt, cgroup);
      if (!existsSync(root)) continue;
      for (const dir of directoriesBelow(root).reverse()) {
        try {
          rmdirSync(dir);
        } catch (err) {
          if ((err as { code?: string }).code !== "ENOENT") left.push(dir);
        }
      }
    }
    return left;
  },
};

/** Mount points of every cgroup hierarchy (v1 and v2) this process sees. */
function cgroupMounts(): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((l) => / - cgroup2? /.test(l))
    .map((l) => unescapeMountPath(l.split(" ")[4]!));
}

/** A directory and every directory below it, parents before children. */
function directoriesBelow(root: string): string[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const e of readdirSync(out[i]!, { withFileTypes: true })) if (e.isDirectory()) out.push(join(out[i]!, e.name));
    } catch {
      // Removed meanwhile.
    }
  }
  return out;
}

/** Reads a unit's last lines with journalctl (the journal's own tool reads any journal format). */
export const hostJournal: Journal = {
  async tail(unit, n) {
    try {
      // journald writes what it received asynchronously; a unit's last lines are often the newest.
      await Bun.spawn(["journalctl", "--sync"], { stdout: "ignore", stderr: "ignore", stdin: "ignore" }).exited;
      const proc = Bun.spawn(["journalctl", "--no-pager", "-q", "-o", "cat", "-n", String(n), "-u", unit], {
        stdout: "pipe",
        stderr: "ignore",
        stdin: "ignore",
      });
      const text = await new Response(proc.stdout).text();
      await proc.exited;
      return text.split("\n").filter((l) => l.trim() !== "");
    } catch {
      return [];
    }
  },
};

/** The real HostLookup for preflight checks. */
export const hostLookup: HostLookup = {
  isExecutableFile(path) {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  },
  isDirectory(path) {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  },
  readLink(path) {
    try {
      return readlinkSync(path);
    } catch {
      return undefined;
    }
  },
  isHostRoot(path) {
    try {
      const [a, b] = [statSync(path), statSync("/")];
      return a.dev === b.dev && a.ino === b.ino;
    } catch {
      return false;
    }
  },
};


/** The real Containers: reads runc's state directory, deletes with runc itself. */
export function hostContainers(runc: string | undefined): Containers {
  return {
    list(prefix) {
      try {
        return readdirSync(RUNC_ROOT).filter((id) => id.startsWith(prefix));
      } catch {
        return [];
      }
    },
    async remove(id) {
      if (!runc) return;
      const proc = Bun.spawn([runc, "delete", "-f", id], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
      const [err, status] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      if (status !== 0) throw new PodunitError(`Failed to delete runc container '${id}': ${err.trim()}`);
    },
  };
}
