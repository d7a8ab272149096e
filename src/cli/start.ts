import type { Command, Io } from "./command.ts";
import { parseArgs } from "./args.ts";
import { UsageError } from "../errors.ts";
import { mark } from "../trace.ts";
import { execDeps, hostFacts, loadPodSpec, onePod, requireRoot, withPodLock } from "./context.ts";
import { connectSystemd } from "../systemd/bus.ts";
import { podSliceName, podTargetName } from "../systemd/unitname.ts";
import { podUnitPatterns } from "../pods/stop.ts";
import { plan } from "../plan/plan.ts";
import { startPod, type StartResult } from "../pods/start.ts";
import type { PodSpec, SandboxBackend } from "../podspec/types.ts";
import { preflight } from "../pods/preflight.ts";
import { hostLookup } from "../host/files.ts";
import { warmCgroupAttach } from "../host/cgroup-warm.ts";
import { stopOne } from "./stop.ts";
import { startTarget, unitFileOf } from "../pods/target.ts";

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
  warmCgroupAttach();
  // The connection to systemd is made while the spec is read and checked; a bad spec is
  // still reported first, and the connection then closed unused.
  const connecting = connectSystemd(io.env);
  connecting.catch(() => {});
  let spec: PodSpec;
  try {
    spec = await loadPodSpec(ref, opts.dir, io);
    preflight(spec, hostLookup);
  } catch (err) {
    connecting.then((sd) => sd.close(), () => {});
    throw err;
  }
  mark("spec loaded and checked");
  const sd = await connecting;
  try {
    mark("connected to systemd");
    return await withPodLock(io, spec.name, async () => {
      mark("locked");
      if (opts.restart) await stopOne(spec.name, sd, io);
      // One burst: systemd's version (for the plan), whether the pod has unit files (enabled,
      // generated: then it starts through its target, as at boot) and its units' states.
      const loaded = sd.listUnits(podUnitPatterns(spec.name, podSliceName(spec.name)));
      loaded.catch(() => {});
      const [facts, fromFiles] = await Promise.all([hostFacts(io, sd), unitFileOf(sd, podTargetName(spec.name))]);
      mark("asked systemd: version, unit files, unit states");
      const p = plan(spec, facts, opts.backend ? { backend: opts.backend } : {});
      mark("planned");
      // runc's path is already among the host facts the plan was made for.
      const deps = execDeps(sd, facts.paths.runc);
      return fromFiles ? startTarget(p, deps) : startPod(p, deps, loaded);
    });
  } finally {
    sd.close();
  }
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
