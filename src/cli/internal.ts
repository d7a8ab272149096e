/**
 * `podunit internal …`: helpers that podunit's own units run, not meant for people.
 *
 * `prepare` writes the run files of a pod started from unit files (src/boot/prepare.ts).
 *
 * `wait-ns PIN...` waits until each path is a bound namespace (a pin). The native
 * sandbox creates the pod's PID namespace in its main process, after systemd has
 * already counted the unit as started (Type=exec); its ExecStartPost runs this so
 * that members, ordered after the sandbox, never find the pin missing.
 */
import { statSync } from "node:fs";
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

export const internal: Command = {
  name: "internal",
  summary: "Helpers run by podunit's own units",
  usage: "podunit internal wait-ns [--timeout MS] PIN...\n       podunit internal prepare --sandbox|--member NAME --digest D --backend B --run-dir DIR SPEC",
  hidden: true,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === "wait-ns") return waitNs(rest);
    if (sub === "prepare") return prepare(rest);
    throw new UsageError(`Unknown subcommand 'internal ${sub ?? ""}'.`);
  },
};
