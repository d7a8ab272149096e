/**
 * Which members a pod has, for the verbs that name one (logs, exec): the
 * members its spec lists, and those systemd has units for (a pod may run from
 * an older spec, or have no spec file any more).
 */
import type { Io } from "./command.ts";
import { loadPodSpec } from "./context.ts";
import { isPathRef } from "../podspec/load.ts";
import { NotFoundError, SpecError } from "../errors.ts";
import type { Systemd, UnitListEntry } from "../systemd/bus.ts";
import { podSliceName, sandboxUnitName } from "../systemd/unitname.ts";
import { podUnitPatterns } from "../pods/stop.ts";
import { memberOfUnit } from "../status/status.ts";

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
 * The pod `ref` names (a pod name or a spec file) and its members. A spec file
 * that is missing or invalid is no obstacle for a pod name: systemd's units
 * still tell the members. Without a systemd, `units` stays empty.
 */
export async function podMembers(ref: string, dir: string | undefined, io: Io, sd: Systemd | undefined): Promise<PodMembers> {
  let pod = ref;
  let spec = false;
  const members: string[] = [];
  try {
    const s = await loadPodSpec(ref, dir, io);
    pod = s.name;
    spec = true;
    members.push(...s.members.map((m) => m.name));
  } catch (err) {
    if (isPathRef(ref) || !(err instanceof NotFoundError || err instanceof SpecError)) throw err;
  }
  const units = new Map<string, UnitListEntry>();
  if (sd) {
    const sandbox = sandboxUnitName(pod);
    for (const e of await sd.listUnits(podUnitPatterns(pod, podSliceName(pod)))) {
      const m = e.name === sandbox ? "sandbox" : memberOfUnit(pod, e.name);
      if (m === null) continue;
      units.set(m, e);
      if (m !== "sandbox" && !members.includes(m)) members.push(m);
    }
  }
  return { pod, spec, members, units };
}

/** "a, b and c" for a message; "none" when empty. */
export function nameList(names: string[]): string {
  const q = names.map((n) => `'${n}'`);
  if (q.length === 0) return "none";
  return q.length === 1 ? q[0]! : `${q.slice(0, -1).join(", ")} and ${q[q.length - 1]}`;
}
