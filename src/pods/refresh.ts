/**
 * Writing the unit files of enabled pods again for the podunit that is installed
 * now (`podunit system refresh`; the package's postinst and `podunit system
 * install` run it). Unit files carry the digest of the plan they were written
 * from, and the sandbox's prepare step refuses to start a pod whose plan is no
 * longer that one: after an upgrade that plans pods differently (a new default,
 * a new step), every pod enabled with the podunit before would fail at the next
 * boot. Each pod is planned again from the spec, the backend and the image pins
 * its unit files name, and its files are written again where they differ; pods
 * the generator makes are written again by systemd's reload on their own.
 */
import { PodunitError } from "../errors.ts";
import { installedPods, installedPrepare, installUnits, SYSTEM_UNIT_DIR } from "../boot/install.ts";
import { podUnits } from "../boot/units.ts";
import { resolveImages } from "./images.ts";
import { type Env, hostFacts, loadPodSpec, withPodLock, withSystemd } from "./wiring.ts";
import type { HostFacts } from "../plan/types.ts";

export interface RefreshedPod {
  pod: string;
  /** Unit files and links written again (empty: they were those of this podunit already). */
  written: string[];
  removed: string[];
  /** Why the pod's files could not be written again; they were left as they were. */
  error?: Error;
}

export interface RefreshResult {
  pods: RefreshedPod[];
  /** Whether systemd was reloaded (something was written). */
  reloaded: boolean;
}

export interface RefreshOptions {
  /** The unit directory (default /etc/systemd/system). */
  dir?: string;
  /** The podunit the unit files run (default this one): `system install` names the binary it installed. */
  podunit?: string;
}

/** Writes again the unit files of every pod enabled in the unit directory whose plan this podunit makes differently; reloads systemd once when any changed. */
export async function refreshEnabledPods(env: Env, opts: RefreshOptions = {}): Promise<RefreshResult> {
  const dir = opts.dir ?? SYSTEM_UNIT_DIR;
  const names = installedPods(dir);
  if (names.length === 0) return { pods: [], reloaded: false };
  return withSystemd(env, async (sd) => {
    const found = await hostFacts(env, sd);
    const facts = opts.podunit ? { ...found, paths: { ...found.paths, podunit: opts.podunit } } : found;
    const pods: RefreshedPod[] = [];
    for (const pod of names) {
      try {
        pods.push(await withPodLock(env, pod, () => refreshPod(pod, dir, facts, env)));
      } catch (err) {
        pods.push({ pod, written: [], removed: [], error: err as Error });
      }
    }
    const reloaded = pods.some((p) => p.written.length > 0 || p.removed.length > 0);
    if (reloaded) await sd.reload();
    return { pods, reloaded };
  });
}

async function refreshPod(pod: string, dir: string, facts: HostFacts, env: Env): Promise<RefreshedPod> {
  const args = installedPrepare(dir, pod);
  if (args === undefined) {
    throw new PodunitError(`its sandbox's unit file in ${dir} has no prepare step this podunit can read`);
  }
  const spec = await loadPodSpec(args.specFile, undefined, env);
  if (spec.name !== pod) throw new PodunitError(`its spec '${args.specFile}' now names pod '${spec.name}'`);
  // The images the pod was enabled with, as pinned: a tag that moved since does not change the pod here.
  const images = args.images ? resolveImages(spec, args.images.store, args.images.pins) : undefined;
  const units = podUnits(spec, { ...facts, runDir: args.runDir }, { backend: args.backend, ...(images ? { images } : {}) });
  const r = installUnits(dir, units, { links: "absolute" });
  return { pod, written: r.written, removed: r.removed };
}
