/** The real RunFiles and Journal: the local file system, mountinfo, journalctl. */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Journal, RunFiles } from "../exec/deps.ts";
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
};

/** Reads a unit's last lines with journalctl (the journal's own tool reads any journal format). */
export const hostJournal: Journal = {
  async tail(unit, n) {
    try {
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
