import type { Command, Io } from "./command.ts";
import { parseArgs } from "./args.ts";
import { UsageError } from "../errors.ts";
import { mark } from "../trace.ts";
import { execDeps, hostFacts, loadPodSpec, onePod, requireRoot, withPodLock, withSystemd } from "./context.ts";
import { plan } from "../plan/plan.ts";
import { startPod, type StartResult } from "../exec/start.ts";
import type { SandboxBackend } from "../spec/types.ts";
import { preflight } from "../exec/preflight.ts";
import { hostLookup } from "../runtime/files.ts";
import { stopOne } from "./stop.ts";
import { startTarget, unitFileOf } from "../exec/target.ts";

export const START_OPTIONS = {
  dir: { value: true },
  backend: { value: true },
  json: { value: false },
} as const;

/** The --backend option, checked. */
export function backendOption(v: string | true | undefined): SandboxBackend | undefined {
  if (v === undefined) return undefined;
  if (v === "runc" || v === "native") return v;
  throw new UsageError(`Option '--backend' takes 'runc' or 'native', found '${v}'.`);
}

/**
 * Loads, checks, plans and starts one pod under its lock; with `restart`, stops it
 * first (after the spec has been found valid, so a broken spec leaves a running pod alone).
 */
export async function startOne(
  ref: string,
  opts: { dir?: string; backend?: SandboxBackend; restart?: boolean },
  io: Io,
): Promise<StartResult> {
  const spec = await loadPodSpec(ref, opts.dir, io);
  if (opts.backend) spec.sandbox = opts.backend;
  preflight(spec, hostLookup);
  mark("spec loaded and checked");
  return withSystemd(io, async (sd) => {
    mark("connected to systemd");
    const facts = await hostFacts(io, sd);
    const p = plan(spec, facts);
    mark("planned");
    return withPodLock(io, p.pod, async () => {
      if (opts.restart) await stopOne(p.pod, sd, io);
      // A pod with unit files (enabled, generated) starts through its target, as at boot.
      const fromFiles = await unitFileOf(sd, p.target.name);
      mark("locked; looked for unit files");
      // runc's path is already among the host facts the plan was made for.
      const deps = execDeps(sd, facts.paths.runc);
      return fromFiles ? startTarget(p, deps) : startPod(p, deps);
    });
  });
}

export function describeStart(r: StartResult): string {
  const members = r.units.filter((u) => !u.endsWith(".slice") && !u.endsWith("-sandbox.service")).length;
  if (r.alreadyRunning) return `Pod '${r.pod}' is already running; nothing changed.\n`;
  const repaired = r.repaired.length ? `Pod '${r.pod}' was partly running; started ${r.repaired.map((u) => `'${u}'`).join(", ")}.\n` : "";
  return `${repaired}Pod '${r.pod}' started: sandbox and ${members} member${members === 1 ? "" : "s"} active.\n`;
}

export const start: Command = {
  name: "start",
  summary: "Start a pod from its spec; returns once every member is active",
  usage: "podunit start POD|FILE [--dir DIR] [--backend runc|native] [--json]",
  async run(args, io) {
    const { options, positionals } = parseArgs("start", args, START_OPTIONS);
    const ref = onePod("start", positionals);
    requireRoot("start");
    const r = await startOne(ref, { dir: options.dir as string | undefined, backend: backendOption(options.backend) }, io);
    io.out(options.json ? JSON.stringify(r) + "\n" : describeStart(r));
    return 0;
  },
};
