/** What the pod verbs share on the command line: the root check, the pod argument, the backend option. */
import { PermissionError, UsageError } from "../../errors.ts";
import { BACKEND_OPTION, DIR_OPTION, JSON_OPTION } from "./args.ts";
import type { SandboxBackend } from "../../podspec/types.ts";
import type { StartResult } from "../../pods/start.ts";

/** Pod verbs change systemd and mounts: they need root. */
export function requireRoot(verb: string): void {
  if (process.getuid?.() !== 0) {
    throw new PermissionError(`'podunit ${verb}' must run as root.`, `Run it with sudo, or as root.`);
  }
}

/** Exactly one positional argument, the pod. */
export function onePod(verb: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`'podunit ${verb}' takes one pod name or spec file, found ${positionals.length}.`);
  return positionals[0]!;
}

/** The options of `start` and `restart`. */
export const START_OPTIONS = { ...DIR_OPTION, ...BACKEND_OPTION, ...JSON_OPTION } as const;

/** The --backend option, checked. */
export function backendOption(v: string | true | undefined): SandboxBackend | undefined {
  if (v === undefined) return undefined;
  if (v === "crun" || v === "runc" || v === "native") return v;
  throw new UsageError(`Option '--backend' takes 'crun', 'runc' or 'native', found '${v}'.`);
}

/** What `start` and `restart` print; `verb` is "started" or "restarted". */
export function describeStart(r: StartResult, verb = "started"): string {
  const members = r.units.filter((u) => !u.endsWith(".slice") && !u.endsWith("-sandbox.service")).length;
  if (r.alreadyRunning) return `Pod '${r.pod}' is already running; nothing changed.\n`;
  const repaired = r.repaired.length ? `Pod '${r.pod}' was partly running; started ${r.repaired.map((u) => `'${u}'`).join(", ")}.\n` : "";
  return `${repaired}Pod '${r.pod}' ${verb}: sandbox and ${members} member${members === 1 ? "" : "s"} active.\n`;
}

/** "a, b and c" for a message; "none" when empty. */
export function nameList(names: string[]): string {
  const q = names.map((n) => `'${n}'`);
  if (q.length === 0) return "none";
  return q.length === 1 ? q[0]! : `${q.slice(0, -1).join(", ")} and ${q[q.length - 1]}`;
}
