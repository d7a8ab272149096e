/**
 * `podunit internal …`: helpers that podunit's own units run, not meant for people.
 *
 * `prepare` writes the run files of a pod started from unit files (src/boot/prepare.ts).
 *
 * `wait-ns PIN...` waits until each path is a bound namespace (a pin). The native
 * sandbox creates the pod's PID namespace in its main process, after systemd has
 * already counted the unit as started (Type=exec); its ExecStartPost runs this so
 * that members, ordered after the sandbox, never find the pin missing.
 *
 * `wait-exec [--children] PIDFILE` waits until the process in PIDFILE (a runc
 * container's first process) is no longer runc's own init but the program it
 * runs (catatonit), and with --children until that has started its child. `runc
 * run -d` returns a moment before that; a SIGTERM that reaches the container in
 * between is lost (the first process of a PID namespace ignores signals it has
 * no handler for), and the stop then waits for its whole timeout. Run as
 * ExecStartPost, it keeps the unit "starting" until a stop will work.
 */
import { readFileSync, statSync } from "node:fs";
import type { Command } from "./command.ts";
import { parseArgs } from "./args.ts";
import { PodunitError, UsageError } from "../errors.ts";
import { prepare } from "./prepare.ts";

/** True when `path` is a namespace file (same device as the namespaces in /proc). */
function isNamespace(path: string, nsfsDev: number): boolean {
  try {
    return statSync(path).dev === nsfsDev;
  } catch {
    return false;
  }
}

async function waitNs(args: string[]): Promise<number> {
  const { options, positionals } = parseArgs("internal wait-ns", args, { timeout: { value: true } });
  if (positionals.length === 0) throw new UsageError("'podunit internal wait-ns' needs at least one path.");
  const timeoutMs = Number(options.timeout ?? 5000);
  const nsfs = statSync("/proc/self/ns/net").dev;
  const end = Date.now() + timeoutMs;
  for (const p of positionals) {
    while (!isNamespace(p, nsfs)) {
      if (Date.now() > end) throw new PodunitError(`'${p}' did not become a namespace pin within ${timeoutMs} ms.`);
      await Bun.sleep(2);
    }
  }
  return 0;
}

/** runc's init names itself so until it executes the container's program. */
const RUNC_INIT_COMM = "runc:[2:INIT]";

/** "waiting", "ready" or "gone" for the container process `pid`. */
function execState(pid: number, children: boolean): "waiting" | "ready" | "gone" {
  try {
    if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === RUNC_INIT_COMM) return "waiting";
    if (children && readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim() === "") return "waiting";
    return "ready";
  } catch {
    return "gone";
  }
}

async function waitExec(args: string[]): Promise<number> {
  const { options, positionals } = parseArgs("internal wait-exec", args, { timeout: { value: true }, children: { value: false } });
  if (positionals.length !== 1) throw new UsageError("'podunit internal wait-exec' needs one PID file.");
  const timeoutMs = Number(options.timeout ?? 5000);
  const pid = Number(readFileSync(positionals[0]!, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new PodunitError(`'${positionals[0]}' holds no process ID.`);
  const end = Date.now() + timeoutMs;
  // A process that is gone has exited already: systemd sees that itself.
  while (execState(pid, options.children === true) === "waiting") {
    if (Date.now() > end) throw new PodunitError(`Process ${pid} did not start its program within ${timeoutMs} ms.`);
    await Bun.sleep(2);
  }
  return 0;
}

export const internal: Command = {
  name: "internal",
  summary: "Helpers run by podunit's own units",
  usage:
    "podunit internal wait-ns [--timeout MS] PIN...\n" +
    "       podunit internal wait-exec [--timeout MS] [--children] PIDFILE\n" +
    "       podunit internal prepare --sandbox|--member NAME --digest D --backend B --run-dir DIR SPEC",
  hidden: true,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === "wait-ns") return waitNs(rest);
    if (sub === "wait-exec") return waitExec(rest);
    if (sub === "prepare") return prepare(rest);
    throw new UsageError(`Unknown subcommand 'internal ${sub ?? ""}'.`);
  },
};
