/**
 * The pod use cases: start, restart, enable, disable (stop: stopping.ts). Each takes what the
 * command line said and the environment, takes the pod's lock, and goes down to
 * the executor (start.ts, stop.ts, target.ts) and the boot layer (unit files);
 * the verbs in src/cli/ only parse arguments, call one of these and print.
 */
import { PodunitError } from "../errors.ts";
import { mark } from "../trace.ts";
import { connectSystemd, type Systemd } from "../systemd/bus.ts";
import { podTargetName, podUnitPatterns } from "../systemd/unitname.ts";
import { plan } from "../plan/plan.ts";
import type { SandboxBackend } from "../podspec/types.ts";
import type { PodSpec } from "../podspec/types.ts";
import { installUnits, SYSTEM_UNIT_DIR, uninstallUnits, type InstallResult } from "../boot/install.ts";
import { podUnits } from "../boot/units.ts";
import { warmCgroupAttach } from "../host/cgroup.ts";
import { hostLookup } from "../host/lookup.ts";
import { preflight } from "./preflight.ts";
import { assertPortsFree } from "./network.ts";
import { checkImagePrograms, imageStoreDir, resolveImages } from "./images.ts";
import type { ImageFacts } from "../plan/types.ts";
import { runStart, StartError, StartInterruptedError, type StartResult } from "./start.ts";
import { freeRange, holdRange } from "../host/userns.ts";
import { readUsernsConfig } from "../plan/hostfacts.ts";
import { stopLocked } from "./stopping.ts";
import { pullSpecImages } from "./pull.ts";
import type { OnPullEvent } from "../image/index.ts";
import { startTarget } from "./target.ts";
import { type Env, execDeps, hostFacts, loadPodSpec, podName, runDir, specRef, withPodLock, withSystemd } from "./wiring.ts";
import { PodLayout } from "../plan/layout.ts";

export interface StartRequest {
  /** A pod name or the path of a spec file. */
  ref: string;
  /** Where pod names are looked up (default /etc/podunit/pods). */
  dir?: string;
  /** The sandbox backend asked for on the command line. */
  backend?: SandboxBackend;
  /** Progress of the images pulled before the pod starts (members' `pull` policy), for the command layer to show. */
  onPull?: OnPullEvent;
}

/**
 * Loads, checks, plans and starts one pod under its lock. A running pod is left
 * alone; a partly running one is repaired. A pod with unit files starts through
 * its target, as at boot.
 */
export function startPod(req: StartRequest, env: Env): Promise<StartResult> {
  return start(req, env, false);
}

/** Stops the pod and starts it afresh; a broken spec leaves the running pod alone (it is checked first). */
export function restartPod(req: StartRequest, env: Env): Promise<StartResult> {
  return start(req, env, true);
}

async function start(req: StartRequest, env: Env, restart: boolean): Promise<StartResult> {
  warmCgroupAttach();
  // The connection to systemd is made while the spec is read and checked; a bad spec is
  // still reported first, and the connection then closed unused.
  const connecting = connectSystemd(env);
  connecting.catch(() => {});
  let spec: PodSpec;
  let images: Map<string, ImageFacts>;
  try {
    // A restart by name uses the spec the pod was started from, wherever that was.
    spec = await loadPodSpec(restart ? specRef(req.ref, env) : req.ref, req.dir, env);
    preflight(spec, hostLookup);
    // Before the lock and before anything starts: a pull that fails leaves nothing to undo.
    await pullSpecImages(spec, env, req.onPull);
    images = resolveImages(spec, imageStoreDir(env));
  } catch (err) {
    connecting.then((sd) => sd.close(), () => {});
    throw err;
  }
  mark("spec loaded and checked");
  const sd = await connecting;
  try {
    mark("connected to systemd");
    return await withPodLock(env, spec.name, async () => {
      mark("locked");
      if (restart) await stopLocked(spec.name, sd, env);
      // One burst: systemd's version (for the plan), whether the pod has unit files (enabled,
      // generated: then it starts through its target, as at boot) and its units' states.
      const loaded = sd.listUnits(podUnitPatterns(spec.name));
      loaded.catch(() => {});
      const [facts, fromFiles] = await Promise.all([hostFacts(env, sd), sd.fragmentPath(podTargetName(spec.name))]);
      mark("asked systemd: version, unit files, unit states");
      // The range is held before planning (config.json names it); the start's first step owns it.
      const held = spec.userns === "auto" ? await holdRange(runDir(env), spec.name, readUsernsConfig(env)) : undefined;
      try {
        const p = plan(spec, facts, { ...(req.backend ? { backend: req.backend } : {}), images, ...(held ? { userns: held.range } : {}) });
        checkImagePrograms(p);
        // A host port that is taken refuses the start before anything of the pod runs.
        if (p.network) assertPortsFree(p.network);
        mark("planned");
        // The runtimes' paths are already among the host facts the plan was made for.
        const deps = execDeps(sd, facts.paths, env);
        return await (fromFiles ? startTarget(p, deps) : runStart(p, deps, loaded));
      } catch (err) {
        // A start that failed was rolled back (its steps freed the range); one refused before any step frees it here.
        // An interrupted one keeps it: the pod may be partly running.
        if (held?.fresh && !(err instanceof StartInterruptedError)) await freeRange(runDir(env), spec.name);
        throw err;
      }
    });
  } finally {
    sd.close();
  }
}

export interface EnableRequest extends StartRequest {
  /** Start the pod's target too. */
  now?: boolean;
}

export interface EnableResult extends InstallResult {
  pod: string;
  target: string;
  wantedBy: string[];
  /** How many unit files the pod has. */
  files: number;
  started?: StartResult;
}

/**
 * Installs the pod's unit files into /etc/systemd/system, links its target into
 * the `.wants/` of every target its spec's [install] names (what `systemctl
 * enable` would do), reloads systemd, and with `now` starts the target. Running
 * it again rewrites only what changed. A failed start is rolled back like
 * `podunit start`; the pod stays enabled, as with `systemctl enable --now`.
 */
export async function enablePod(req: EnableRequest, env: Env): Promise<EnableResult> {
  const spec = await loadPodSpec(req.ref, req.dir, env);
  if (spec.install === undefined) {
    throw new PodunitError(`Failed to enable pod '${spec.name}': its spec '${spec.file}' has no [install] section, so nothing would start it at boot.`, {
      hint: `Add an [install] section (wanted_by defaults to ["multi-user.target"]), or start the pod now with 'podunit start ${spec.name}'.`,
    });
  }
  preflight(spec, hostLookup);
  // Unit files name each image by the digest it has now (see plan/unitfiles.ts): what is missing is pulled first.
  await pullSpecImages(spec, env, req.onPull);
  const images = resolveImages(spec, imageStoreDir(env));
  return withSystemd(env, async (sd) => {
    const units = podUnits(spec, await hostFacts(env, sd), { ...(req.backend ? { backend: req.backend } : {}), images });
    checkImagePrograms(units.plan);
    return withPodLock(env, units.pod, async () => {
      const r = installUnits(SYSTEM_UNIT_DIR, units, { links: "absolute" });
      await sd.reload();
      let started: StartResult | undefined;
      if (req.now) {
        try {
          started = await startTarget(units.plan, execDeps(sd, undefined, env));
        } catch (e) {
          if (!(e instanceof StartError)) throw e;
          throw new PodunitError(`${e.message}\nThe pod stays enabled; 'podunit disable ${units.pod}' undoes that.`, { hint: e.hint });
        }
      }
      return { ...r, pod: units.pod, target: units.plan.target.name, wantedBy: units.wantedBy, files: units.files.length, ...(started ? { started } : {}) };
    });
  });
}

export interface DisableResult {
  pod: string;
  removed: string[];
  /** Whether the pod was running when `now` stopped it. */
  stopped: boolean;
  /** Where systemd still finds the pod's target outside /etc/systemd/system (the generator makes it). */
  stillGenerated?: string;
}

/**
 * Removes the links and unit files `enablePod` installed and reloads systemd; with
 * `now` it stops the pod first. Needs no spec: the pod's name is enough.
 */
export async function disablePod(req: { ref: string; dir?: string; now?: boolean }, env: Env): Promise<DisableResult> {
  const pod = await podName(req.ref, req.dir, env);
  return withSystemd(env, (sd) =>
    withPodLock(env, pod, async () => {
      const stopped = req.now ? (await stopLocked(pod, sd, env)).wasRunning : false;
      const removed = uninstallUnits(SYSTEM_UNIT_DIR, pod);
      if (removed.length) await sd.reload();
      const still = await sd.fragmentPath(podTargetName(pod));
      const generated = still !== undefined && !still.startsWith(`${SYSTEM_UNIT_DIR}/`) ? still : undefined;
      return { pod, removed, stopped, ...(generated ? { stillGenerated: generated } : {}) };
    }),
  );
}
