/**
 * The read-only use cases: a pod's status and the members of a
 * pod (for the verbs that name one: logs, exec).
 */
import { heldRange, previewRange } from "../host/userns.ts";
import { readUsernsConfig } from "../plan/hostfacts.ts";
import { NotFoundError, SpecError } from "../errors.ts";
import { mark } from "../trace.ts";
import type { Systemd, UnitListEntry } from "../systemd/bus.ts";
import { memberOfUnit, podUnitPatterns, sandboxUnitName } from "../systemd/unitname.ts";
import { plan } from "../plan/plan.ts";
import { imageStoreDir, resolveImages } from "./images.ts";
import { isPathRef } from "../podspec/specdir.ts";
import type { PodSpec } from "../podspec/types.ts";
import { networkInfo } from "./netrecords.ts";
import { memberHealth, pinProblems, podStatus, type PodStatus } from "../status/status.ts";
import { readHealthState } from "../status/health.ts";
import { PodLayout } from "../plan/layout.ts";
import { pinLive } from "../host/ns.ts";
import { type Env, hostFacts, loadPodSpec, recordedPlan, withSystemd, runDir, specRef } from "./wiring.ts";

/**
 * The status of the pod `ref` names. Its spec, when there is one, names members
 * systemd may have forgotten (exited, not restarted) and the pins to check.
 */
export async function statusOf(ref: string, dir: string | undefined, env: Env): Promise<PodStatus> {
  let pod = ref;
  let spec: PodSpec | undefined;
  let noSpec: NotFoundError | undefined;
  try {
    spec = await loadPodSpec(specRef(ref, env), dir, env);
    pod = spec.name;
  } catch (err) {
    if (isPathRef(ref) || !(err instanceof NotFoundError)) throw err;
    noSpec = err;
  }
  mark("spec loaded");
  return withSystemd(env, async (sd) => {
    mark("connected");
    if (noSpec && (await sd.listUnits(podUnitPatterns(pod))).length === 0) {
      throw new NotFoundError(`Pod '${pod}' does not exist: it has no spec and systemd has no units of it.`, noSpec.hint);
    }
    const st = await podStatus(sd, pod, spec?.members.map((m) => m.name) ?? []);
    mark("units and their properties read");
    const net = networkInfo(runDir(env), pod);
    if (net) st.network = net;
    const held = heldRange(runDir(env), pod);
    if (held) st.userns = held;
    const layout = new PodLayout(runDir(env), pod);
    const running = recordedPlan(env, pod);
    if (running) {
      const runtimes = new Map([running.sandbox, ...running.members].map((u) => [u.name, u.runtime]));
      for (const u of [st.sandbox, ...st.members]) {
        const rt = runtimes.get(u.unit);
        if (rt !== undefined && u.state !== "not-loaded") u.runtime = rt;
      }
    }
    for (const m of st.members) {
      if (m.state === "not-loaded") continue;
      const h = readHealthState(layout.healthState(m.name));
      if (h) m.health = memberHealth(h);
    }
    if (spec) {
      // The pins the spec's plan expects; a spec that no longer plans on this host has nothing to check.
      const p = await hostFacts(env, sd)
        .then((h) => plan(spec!, h, { images: resolveImages(spec!, imageStoreDir(env)), ...(spec!.userns ? { userns: held ?? previewRange(runDir(env), pod, readUsernsConfig(env)) } : {}) }))
        .catch(() => undefined);
      if (p) st.problems.push(...pinProblems(st, p.pins.map((x) => x.path), pinLive));
    }
    mark("health, network and pins checked");
    return st;
  });
}

export interface PodMembers {
  pod: string;
  /** Whether a spec file for the pod was found (and valid). */
  spec: boolean;
  /** Members in spec order, then members that only systemd knows; without the sandbox. */
  members: string[];
  /** The pod's loaded units by member name ("sandbox" for the sandbox). */
  units: Map<string, UnitListEntry>;
}

/**
 * The pod `ref` names (a pod name or a spec file) and its members: those its
 * spec lists, and those systemd has units for (a pod may run from an older spec,
 * or have no spec file any more). A spec file that is missing or invalid is no
 * obstacle for a pod name. Without a systemd, `units` stays empty.
 */
export async function podMembers(ref: string, dir: string | undefined, env: Env, sd: Systemd | undefined): Promise<PodMembers> {
  let pod = ref;
  let spec = false;
  const members: string[] = [];
  try {
    const s = await loadPodSpec(ref, dir, env);
    pod = s.name;
    spec = true;
    members.push(...s.members.map((m) => m.name));
  } catch (err) {
    if (isPathRef(ref) || !(err instanceof NotFoundError || err instanceof SpecError)) throw err;
  }
  const units = new Map<string, UnitListEntry>();
  if (sd) {
    const sandbox = sandboxUnitName(pod);
    for (const e of await sd.listUnits(podUnitPatterns(pod))) {
      const m = e.name === sandbox ? "sandbox" : memberOfUnit(pod, e.name);
      if (m === null) continue;
      units.set(m, e);
      if (m !== "sandbox" && !members.includes(m)) members.push(m);
    }
  }
  return { pod, spec, members, units };
}
