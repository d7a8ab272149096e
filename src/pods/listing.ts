/**
 * `podunit list`: the pods systemd has units of, the specs in the spec directory,
 * and the addresses of bridged pods, from one call to systemd and two directory
 * reads. Apart from queries.ts, whose status plans a pod: a list loads no spec
 * parser, planner, or image and network code.
 */
import { mark } from "../trace.ts";
import { listSpecs, specDir } from "../podspec/specdir.ts";
import { byName, podSummaries, type PodState } from "../status/status.ts";
import { type Env, runDir, withSystemd } from "./context.ts";
import { networkInfos } from "./netrecords.ts";

/** One row of `podunit list`. */
export interface PodRow {
  pod: string;
  state: PodState;
  /** Member units active, and loaded. */
  active: number;
  members: number;
  /** Whether a spec file for the pod exists in the spec directory. */
  spec: boolean;
  /** The pod's addresses on the pod bridge (bridged pods that run). */
  addresses?: string[];
}

/** Every pod that has units loaded or a spec in the spec directory, in name order. */
export async function listPods(dir: string | undefined, env: Env): Promise<PodRow[]> {
  const [pods, specs] = await Promise.all([withSystemd(env, (sd) => (mark("connected"), podSummaries(sd))), listSpecs(specDir({ dir, env }))]);
  mark("pods listed");
  const rows = new Map<string, PodRow>(pods.map((p) => [p.pod, { ...p, spec: false }]));
  for (const s of specs) {
    const row = rows.get(s);
    if (row) row.spec = true;
    else rows.set(s, { pod: s, state: "stopped", active: 0, members: 0, spec: true });
  }
  for (const [pod, net] of networkInfos(runDir(env))) {
    const row = rows.get(pod);
    if (row) row.addresses = net.addresses;
  }
  mark("specs and networks");
  return [...rows.values()].sort((a, b) => byName(a.pod, b.pod));
}
