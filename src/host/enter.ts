/**
 * Running a command inside a running member: `crun|runc exec` for members with a
 * rootfs or an image, `nsenter` into the member's main process for members on the host's
 * file system. The argv builders are pure; reading /proc (through proc.ts) and
 * running the command are the only I/O here.
 */
import { readFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { firstChild, nsLink, parseEnviron, parseProcStatus, type ProcCreds } from "./proc.ts";

/** What podunit exec asks for, already decided (tty, stdin) and checked. */
export interface EnterRequest {
  command: string[];
  tty: boolean;
  /** `uid:gid`; undefined = the member's own user. */
  user?: string;
  workdir?: string;
  /** KEY=VALUE added to (and overriding) the member's environment. */
  env: string[];
}

/** What of a container's process its runtime's exec must be told again (crun), from the bundle's config.json. */
export interface ContainerSettings {
  uid: number;
  gid: number;
  cwd: string;
  env: string[];
  noNewPrivileges: boolean;
}

/**
 * `crun|runc exec` argv with these overrides (both runtimes spell them alike). runc
 * starts the command with the container's process settings (user, cwd, env,
 * capabilities, no-new-privileges) and adds `--env` to its environment. crun 1.8
 * takes the capabilities and the seccomp filter from the container but runs the
 * command as root in `/`, without no-new-privileges, and replaces the environment
 * with `--env`: for crun, `own` (the container's process, from its config) is said
 * again, each setting unless overridden, the environment less the names the
 * overrides set.
 */
export function runtimeExecArgv(runtime: string, id: string, r: EnterRequest, own?: ContainerSettings): string[] {
  const argv = [runtime, "exec"];
  if (r.tty) argv.push("--tty");
  const user = r.user ?? (own ? `${own.uid}:${own.gid}` : undefined);
  const cwd = r.workdir ?? own?.cwd;
  if (user !== undefined) argv.push("--user", user);
  if (cwd !== undefined) argv.push("--cwd", cwd);
  if (own?.noNewPrivileges) argv.push("--no-new-privs");
  const set = new Set(r.env.map((e) => e.slice(0, e.indexOf("="))));
  const kept = r.env.length && own ? own.env.filter((e) => !set.has(e.slice(0, e.indexOf("=")))) : [];
  for (const e of [...kept, ...r.env]) argv.push("--env", e);
  argv.push(id, ...r.command);
  return argv;
}

/** A container's process settings from its bundle's config.json; undefined when it cannot be read or holds no user. */
export function bundleProcess(bundle: string): ContainerSettings | undefined {
  let p: { user?: { uid?: unknown; gid?: unknown }; cwd?: unknown; env?: unknown; noNewPrivileges?: unknown } | undefined;
  try {
    p = (JSON.parse(readFileSync(`${bundle}/config.json`, "utf8")) as { process?: typeof p }).process;
  } catch {
    return undefined;
  }
  const uid = p?.user?.uid;
  const gid = p?.user?.gid;
  if (typeof uid !== "number" || typeof gid !== "number") return undefined;
  return {
    uid,
    gid,
    cwd: typeof p?.cwd === "string" ? p.cwd : "/",
    env: Array.isArray(p?.env) ? p.env.filter((e): e is string => typeof e === "string" && e.includes("=")) : [],
    noNewPrivileges: p?.noNewPrivileges === true,
  };
}

/** Variables systemd sets for the member's own run that would mislead a command started beside it. */
const PER_RUN = ["INVOCATION_ID", "JOURNAL_STREAM", "SYSTEMD_EXEC_PID", "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_PID", "WATCHDOG_USEC", "MAINPID", "MANAGERPID"];

/** The environment for a command entered with nsenter: the member's, minus per-run variables, plus the overrides. */
export function enterEnv(member: Map<string, string>, overrides: string[]): Record<string, string> {
  const env = new Map([...member].filter(([k]) => !PER_RUN.includes(k)));
  for (const kv of overrides) {
    const eq = kv.indexOf("=");
    env.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return Object.fromEntries(env);
}

/**
 * `nsenter` argv into process `pid`'s mount, UTS, IPC, network and PID namespaces,
 * its root and working directory; then, when the command is to run as someone else
 * than root or without new privileges (as the member does), `setpriv` switches to
 * those credentials (by number: no user database needed).
 */
export function nsenterArgv(paths: { nsenter: string; setpriv: string }, pid: number, creds: ProcCreds, r: EnterRequest): string[] {
  const argv = [paths.nsenter, `--target=${pid}`, "--mount", "--uts", "--ipc", "--net", "--pid", "--root"];
  argv.push(r.workdir !== undefined ? `--wd=${r.workdir}` : "--wd");
  argv.push("--");
  let uid = creds.uid;
  let gid = creds.gid;
  let groups = creds.groups;
  if (r.user !== undefined) {
    [uid, gid] = r.user.split(":").map(Number) as [number, number];
    groups = [];
  }
  if (uid !== 0 || gid !== 0 || creds.noNewPrivs || r.user !== undefined) {
    argv.push(paths.setpriv, `--reuid=${uid}`, `--regid=${gid}`);
    argv.push(groups.length ? `--groups=${groups.join(",")}` : "--clear-groups");
    if (creds.noNewPrivs) argv.push("--no-new-privs");
    argv.push("--");
  }
  argv.push(...r.command);
  return argv;
}

/** A member's process as nsenter should enter it. */
export interface EnterTarget {
  pid: number;
  creds: ProcCreds;
  env: Map<string, string>;
}

/**
 * The process to enter for a member whose main PID is `mainPid`. When the member
 * joins the pod's PID namespace, its main process is nsenter, which stays in the
 * host's PID namespace and forks the command into the pod's: then the command
 * (nsenter's child) is the one to enter.
 */
export function enterTarget(mainPid: number): EnterTarget {
  let pid = mainPid;
  if (nsLink(pid, "pid") !== nsLink(pid, "pid_for_children")) pid = firstChild(pid) ?? pid;
  return {
    pid,
    creds: parseProcStatus(readFileSync(`/proc/${pid}/status`, "utf8")),
    env: parseEnviron(readFileSync(`/proc/${pid}/environ`)),
  };
}

/** Signals podunit passes on to the command it waits for. */
const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

/**
 * Runs `argv` attached to podunit's standard output and error (and input, when
 * `stdin`), passing on the signals podunit receives, and returns its exit
 * status: its own code, or 128 + the signal number when a signal ended it.
 * `forwardTo` picks the process a signal goes to (runc forwards signals itself;
 * a forking nsenter does not, so its child gets them directly).
 */
export async function runAttached(
  argv: string[],
  opts: { stdin: boolean; env?: Record<string, string>; forwardTo?: (childPid: number) => number },
): Promise<number> {
  const proc = Bun.spawn(argv, {
    stdin: opts.stdin ? "inherit" : "ignore",
    stdout: "inherit",
    stderr: "inherit",
    ...(opts.env ? { env: opts.env } : {}),
  });
  const forward = (sig: NodeJS.Signals) => {
    const pid = opts.forwardTo ? opts.forwardTo(proc.pid) : proc.pid;
    try {
      process.kill(pid, sig);
    } catch {
      // Gone already; its exit status follows.
    }
  };
  for (const s of FORWARDED) process.on(s, forward);
  try {
    const code = await proc.exited;
    const sig = proc.signalCode;
    if (sig === null || sig === undefined) return code;
    return 128 + (typeof sig === "number" ? sig : signalNumber(sig));
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}

/** The number of a signal name (SIGTERM → 15). */
export function signalNumber(sig: string): number {
  return (osConstants.signals as Record<string, number>)[sig] ?? 0;
}
