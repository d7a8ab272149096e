/**
 * Namespaces from outside: whether a process has its own, doing one thing inside
 * another process's namespace on this thread (setns(2) in and back, no process
 * spawned), and whether a pin still leads to one.
 */
import { closeSync, openSync, statSync } from "node:fs";
import { errnoText, HostError } from "./errno.ts";
import { CLONE_NEWNET, CLONE_NEWUTS, setns } from "./libc.ts";
import { nsPath } from "./proc.ts";

/** The namespace types podunit enters, by their name in /proc/PID/ns. */
const NSTYPE = { net: CLONE_NEWNET, uts: CLONE_NEWUTS } as const;

/** True when process `pid` shares its `ns` namespace with PID 1 (systemd: the host's). Throws when it cannot be read. */
export function inHostNamespace(pid: number, ns: string): boolean {
  const [a, b] = [statSync(nsPath(pid, ns)), statSync(nsPath(1, ns))];
  return a.ino === b.ino && a.dev === b.dev;
}

/**
 * Runs `fn` (a libc call returning 0 or an errno) with this thread in process
 * `pid`'s `ns` namespace, then returns to its own; `what` names the call's purpose
 * for the error (`set the hostname 'web'`), `call` the call.
 */
export function inNamespace(pid: number, ns: keyof typeof NSTYPE, what: string, call: string, fn: () => number): void {
  const nstype = NSTYPE[ns];
  const path = nsPath(pid, ns);
  const own = openSync(nsPath("thread-self", ns), "r");
  const target = openSync(path, "r");
  try {
    const err = setns(target, nstype);
    if (err !== 0) throw new HostError("enter", "setns", err, { path });
    let result: number;
    try {
      result = fn();
    } finally {
      // Staying in the pod's namespace would be worse than any error: nothing else may run
      // here. A plain Error, so the top level reports it as the bug it would be.
      const back = setns(own, nstype);
      if (back !== 0) throw new Error(`could not return from '${path}' to its own namespace: setns: ${errnoText(back)}`);
    }
    if (result !== 0) throw new HostError(what, call, result);
  } finally {
    closeSync(target);
    closeSync(own);
  }
}

/** True when `path` leads to a namespace (a pin whose holder is alive). */
export function pinLive(path: string): boolean {
  try {
    return statSync(path).dev === statSync(nsPath("self", "net")).dev;
  } catch {
    return false;
  }
}
