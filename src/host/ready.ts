/**
 * Makes a started sandbox ready for its members (see SandboxReady): waits until
 * its holder process has left the launcher that made the namespaces, checks that
 * they are not the host's, names the pod and brings up its loopback from outside
 * (setns into the namespace on this thread and back: no process spawned), then
 * links the pins to the holder's namespaces. Each link is made under a temporary
 * name and renamed into place, so a reader finds the old link or the new one.
 */
import { readFileSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { PodunitError } from "../errors.ts";
import { RUNTIME_INIT_COMM } from "../plan/runtime.ts";
import type { SandboxReady } from "../plan/types.ts";
import { inUnit } from "./cgroup.ts";
import { interfaceUp, sethostname } from "./libc.ts";
import { inHostNamespace, inNamespace, pinLive } from "./ns.ts";
import type { Readiness } from "./ports.ts";
import { children, comm, firstChild, nsPath } from "./proc.ts";

export interface ReadyOptions {
  /** How long the holder may take to leave its launcher; 5 s by default. */
  timeoutMs?: number;
}

/** A sandbox or container that could not be made ready; the caller rolls the pod back. */
export class SandboxNotReadyError extends PodunitError {}

/**
 * Waits for the holder to run its own program; returns its PID. The PID comes from
 * systemd: the process must be in the sandbox unit's cgroup, so a podunit that sees
 * other PIDs than systemd does (another PID namespace) never links the pins to a
 * stranger's namespaces.
 */
async function holderOf(r: SandboxReady, mainPid: number, timeoutMs: number): Promise<number> {
  const start = Date.now();
  const end = start + timeoutMs;
  let nap = 0.25;
  for (;;) {
    const pid = r.holder === "main" ? mainPid : firstChild(mainPid);
    const name = pid === undefined ? undefined : comm(pid);
    if (pid !== undefined && name !== undefined && name !== r.launcher) {
      if (!inUnit(pid, r.unit)) throw new SandboxNotReadyError(`process ${pid} is not in the cgroup of ${r.unit}; podunit must see the PIDs systemd sees.`);
      return pid;
    }
    if (comm(mainPid) === undefined) throw new SandboxNotReadyError(`the sandbox's process ${mainPid} exited while it was starting.`);
    if (Date.now() > end) {
      const what = r.holder === "main" ? `process ${mainPid}` : `the first child of process ${mainPid}`;
      throw new SandboxNotReadyError(`${what} was still '${r.launcher}' after ${timeoutMs} ms.`);
    }
    // The holder is usually ready within a few milliseconds (an exec), so the naps stay
    // short for the first 20 ms (a doubling nap overshot by 1-3 ms); then they grow to
    // 10 ms, so a slow start (one CPU at boot, several pods at once) is not starved by
    // this loop (seen in the VM: 'unshare' not yet exec'd after 5 s).
    Bun.sleepSync(nap);
    if (Date.now() > start + 20) nap = Math.min(nap * 2, 10);
  }
}

/** Makes the sandbox whose main process is `mainPid` ready; throws SandboxNotReadyError when it cannot be. */
export async function readySandbox(r: SandboxReady, mainPid: number, opts: ReadyOptions = {}): Promise<void> {
  const pid = await holderOf(r, mainPid, opts.timeoutMs ?? 5000);
  for (const p of r.pins) {
    // PID 1 is systemd, which forked the sandbox: a namespace it shares is not the pod's.
    let same: boolean;
    try {
      same = inHostNamespace(pid, p.ns);
    } catch (err) {
      throw new SandboxNotReadyError(`could not read the ${p.ns} namespace of process ${pid}: ${(err as Error).message}`);
    }
    if (same) throw new SandboxNotReadyError(`process ${pid} is still in the host's ${p.ns} namespace.`);
  }
  if (r.hostname !== undefined) {
    const name = r.hostname;
    inNamespace(pid, "uts", `set the hostname '${name}'`, "sethostname", () => sethostname(name));
  }
  if (r.loopback) inNamespace(pid, "net", "bring up the loopback interface", "ioctl", () => interfaceUp("lo"));
  for (const p of r.pins) {
    const tmp = `${p.path}.new`;
    rmSync(tmp, { force: true });
    symlinkSync(nsPath(pid, p.ns), tmp);
    renameSync(tmp, p.path);
  }
}

/** "waiting", "ready" or "gone" for the container process `pid`, which is called `launcher` until it runs its program. */
function execState(pid: number, launcher: string, withChildren: boolean): "waiting" | "ready" | "gone" {
  const name = comm(pid);
  if (name === undefined) return "gone";
  if (name === launcher) return "waiting";
  if (!withChildren) return "ready";
  const kids = children(pid);
  return kids === undefined ? "gone" : kids.length === 0 ? "waiting" : "ready";
}

/**
 * Waits until the process in `pidFile` (a container's first process) is no longer the
 * runtime's own init (`launcher`, by default runc's) but the program it runs (catatonit),
 * and with `children` until that has started its child. `run -d` can return a moment
 * before that; a SIGTERM that
 * reaches the container in between is lost (the first process of a PID namespace
 * ignores signals it has no handler for), and a stop then waits for its whole timeout.
 * A process that is gone has exited already: systemd sees that itself.
 */
/** The process ID a runtime wrote to `pidFile`. */
export function readPidFile(pidFile: string): number {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, "utf8").trim());
  } catch (err) {
    throw new SandboxNotReadyError(`could not read '${pidFile}': ${(err as Error).message}`);
  }
  if (!Number.isInteger(pid) || pid <= 0) throw new SandboxNotReadyError(`'${pidFile}' holds no process ID.`);
  return pid;
}

export async function waitForExec(pidFile: string, opts: { children?: boolean; timeoutMs?: number; launcher?: string } = {}): Promise<void> {
  const launcher = opts.launcher ?? RUNTIME_INIT_COMM.runc;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const pid = readPidFile(pidFile);
  const end = Date.now() + timeoutMs;
  while (execState(pid, launcher, opts.children === true) === "waiting") {
    if (Date.now() > end) throw new SandboxNotReadyError(`process ${pid} did not start its program within ${timeoutMs} ms.`);
    Bun.sleepSync(0.2);
  }
}

export const hostReadiness: Readiness = {
  sandbox: (r, mainPid) => readySandbox(r, mainPid),
  container: (w) => waitForExec(w.pidFile, { children: true, launcher: w.launcher }),
  pinsLive: (pins) => pins.every(pinLive),
};
