/**
 * Whether a file may be trusted by a program running as root, in the manner of
 * sshd's StrictModes: the file and every directory on the way to it (symbolic
 * links followed, each hop checked) must belong to root and must not be
 * writable by group or others. A directory that others may write is accepted
 * only with the sticky bit (as /tmp) and only when the entry taken from it
 * belongs to root: the sticky bit keeps others from renaming or deleting it.
 */
import { lstatSync, readlinkSync } from "node:fs";

/** What the walk needs to know about one path (from lstat: links are not followed). */
export interface PathInfo {
  uid: number;
  /** st_mode: type and permission bits. */
  mode: number;
  dev: number;
  ino: number;
}

/** The file system as the walk sees it; the real one is `hostPathFs`. */
export interface PathFs {
  lstat(path: string): PathInfo;
  readlink(path: string): string;
}

/** Why a path is not trusted: the path at fault, what is wrong with it, and the command that fixes it. */
export interface Untrusted {
  path: string;
  problem: string;
  fix: string;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const S_ISVTX = 0o1000;
const GROUP_OR_OTHER_WRITE = 0o022;
const MAX_LINKS = 40;

/** The real file system. */
export const hostPathFs: PathFs = {
  lstat(path) {
    const st = lstatSync(path);
    return { uid: st.uid, mode: st.mode, dev: st.dev, ino: st.ino };
  },
  readlink: (path) => readlinkSync(path),
};

function modeText(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

function whoMayWrite(mode: number): string {
  if (mode & 0o002) return "everyone";
  return "its group";
}

function parentOf(dir: string): string {
  const i = dir.lastIndexOf("/");
  return i <= 0 ? "/" : dir.slice(0, i);
}

function joinPath(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

function parts(path: string): string[] {
  return path.split("/").filter((p) => p !== "" && p !== ".");
}

/**
 * Walks the absolute `path` from `/`, following symbolic links, and returns the
 * first reason not to trust it, or the final file's information when it can be
 * trusted. Errors of the file system (a missing path) are thrown as they are.
 */
export function checkTrustedPath(path: string, fs: PathFs): { ok: PathInfo } | { untrusted: Untrusted } {
  let dir = "/";
  let dirInfo = fs.lstat(dir);
  if (dirInfo.uid !== 0) return { untrusted: { path: "/", problem: `belongs to uid ${dirInfo.uid}, not to root`, fix: "chown root /" } };
  const todo = parts(path);
  let links = 0;
  for (;;) {
    const part = todo.shift();
    if (part === undefined) {
      // Only reachable when `path` names a directory (or "/").
      return { ok: dirInfo };
    }
    if (part === "..") {
      // Every directory above `dir` was checked on the way down.
      dir = parentOf(dir);
      dirInfo = fs.lstat(dir);
      continue;
    }
    const entry = joinPath(dir, part);
    const info = fs.lstat(entry);
    if (dirInfo.mode & GROUP_OR_OTHER_WRITE) {
      const who = whoMayWrite(dirInfo.mode);
      if (!(dirInfo.mode & S_ISVTX)) {
        return { untrusted: { path: dir, problem: `is writable by ${who} (mode ${modeText(dirInfo.mode)})`, fix: `chmod go-w '${dir}'` } };
      }
      if (info.uid !== 0) {
        return {
          untrusted: {
            path: entry,
            problem: `belongs to uid ${info.uid}, not to root, in '${dir}', which ${who} may write to (mode ${modeText(dirInfo.mode)})`,
            fix: `chown root '${entry}'`,
          },
        };
      }
    }
    if (info.uid !== 0) {
      return { untrusted: { path: entry, problem: `belongs to uid ${info.uid}, not to root`, fix: `chown root '${entry}'` } };
    }
    const type = info.mode & S_IFMT;
    if (type === S_IFLNK) {
      if (++links > MAX_LINKS) return { untrusted: { path: entry, problem: "leads through too many symbolic links", fix: `readlink -f '${path}'` } };
      const target = fs.readlink(entry);
      if (target.startsWith("/")) {
        dir = "/";
        dirInfo = fs.lstat(dir);
      }
      todo.unshift(...parts(target));
      continue;
    }
    if (todo.length > 0) {
      if (type !== S_IFDIR) {
        // The caller opened the path, so this only happens when it changed meanwhile.
        return { untrusted: { path: entry, problem: "is not a directory", fix: `ls -ld '${entry}'` } };
      }
      dir = entry;
      dirInfo = info;
      continue;
    }
    if (info.mode & GROUP_OR_OTHER_WRITE) {
      return {
        untrusted: { path: entry, problem: `is writable by ${whoMayWrite(info.mode)} (mode ${modeText(info.mode)})`, fix: `chmod go-w '${entry}'` },
      };
    }
    return { ok: info };
  }
}
