/**
 * What podunit reads from /proc: a process's children, name, namespaces,
 * credentials, environment and cgroups, and the mount table. The parsers take
 * the text, so tests give them fixtures; the readers return undefined for a
 * process that is gone, which callers treat as an answer, not an error.
 */
import { readFileSync, readlinkSync } from "node:fs";

/** Parses a `children` file: PIDs separated by spaces. */
export function parseChildren(text: string): number[] {
  return text.trim().split(/\s+/).filter(Boolean).map(Number);
}

/** The children of process `pid` (of its main thread), or undefined when it is gone. */
export function children(pid: number): number[] | undefined {
  try {
    return parseChildren(readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8"));
  } catch {
    return undefined;
  }
}

/** The first child of a process (the command under a forking launcher), if any. */
export function firstChild(pid: number): number | undefined {
  return children(pid)?.[0];
}

/** The name of the program process `pid` runs (its `comm`), or undefined when it is gone. */
export function comm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Path of a namespace of a process (`ns` as in /proc/PID/ns: net, uts, pid, ...). */
export function nsPath(pid: number | "self" | "thread-self", ns: string): string {
  return `/proc/${pid}/ns/${ns}`;
}

/** The identity of a process's namespace (`net:[4026531840]`); throws when the process is gone. */
export function nsLink(pid: number, ns: string): string {
  return readlinkSync(nsPath(pid, ns));
}

/** One line of /proc/PID/cgroup: the hierarchy's number, its controllers (or `name=...`), the path in it. */
export interface CgroupLine {
  hierarchy: number;
  controllers: string;
  path: string;
}

/** Parses /proc/PID/cgroup (`0::/podunit.slice/...` for v2, `4:memory:/...` for v1). */
export function parseProcCgroup(text: string): CgroupLine[] {
  const out: CgroupLine[] = [];
  for (const line of text.split("\n")) {
    const a = line.indexOf(":");
    const b = line.indexOf(":", a + 1);
    if (a < 0 || b < 0) continue;
    out.push({ hierarchy: Number(line.slice(0, a)), controllers: line.slice(a + 1, b), path: line.slice(b + 1) });
  }
  return out;
}

/** The cgroups of process `pid` (or this one), or undefined when it is gone. */
export function procCgroups(pid: number | "self"): CgroupLine[] | undefined {
  try {
    return parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, "utf8"));
  } catch {
    return undefined;
  }
}

/** One mount of the mount table: where it is mounted and the file system type. */
export interface Mount {
  mountPoint: string;
  fsType: string;
  /** The directory of the file system that is mounted there (`/` for a whole one). */
  root: string;
  /** The file system's own options (a v1 cgroup's controllers: `rw,memory`). */
  superOptions: string;
}

/** Undoes the octal escapes the mount table uses for space, tab, newline and backslash. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * Parses /proc/PID/mountinfo, in its order (parents before what is mounted on them).
 * The mount point is the fifth field; the file system type follows the ` - ` that
 * ends the optional fields, whose number varies.
 */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-", 6);
    if (fields.length < 5 || dash < 0) continue;
    out.push({
      mountPoint: unescapeMountField(fields[4]!),
      fsType: unescapeMountField(fields[dash + 1] ?? ""),
      root: unescapeMountField(fields[3]!),
      superOptions: fields[dash + 3] ?? "",
    });
  }
  return out;
}

/** This process's mount table. */
export function mountinfo(): Mount[] {
  return parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8"));
}

/** The credentials of a process, from /proc/PID/status. */
export interface ProcCreds {
  uid: number;
  gid: number;
  groups: number[];
  noNewPrivs: boolean;
}

/** Parses the Uid, Gid, Groups and NoNewPrivs lines of /proc/PID/status (real ids). */
export function parseProcStatus(text: string): ProcCreds {
  const field = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, "m").exec(text)?.[1]?.trim() ?? "";
  const first = (name: string) => Number(field(name).split(/\s+/)[0] ?? 0) || 0;
  const groups = field("Groups").split(/\s+/).filter(Boolean).map(Number);
  return { uid: first("Uid"), gid: first("Gid"), groups, noNewPrivs: field("NoNewPrivs") === "1" };
}

/** Parses /proc/PID/environ (NUL-separated KEY=VALUE) into an ordered map. */
export function parseEnviron(bytes: Uint8Array): Map<string, string> {
  const env = new Map<string, string>();
  for (const kv of new TextDecoder().decode(bytes).split("\0")) {
    const eq = kv.indexOf("=");
    if (eq > 0) env.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return env;
}
