/** A pod spec as the unit files `generate`, `enable` and the generator write (pure). */
import { plan, type PlanOptions } from "../plan/plan.ts";
import type { HostFacts, Plan } from "../plan/types.ts";
import { render, unitFilePlan } from "../plan/unitfiles.ts";
import type { PodSpec } from "../podspec/types.ts";
import type { PodUnits } from "./install.ts";

/** The pod's unit files in start order (slice, sandbox, members, target) and the targets that want it. */
export function podUnits(spec: PodSpec, host: HostFacts, opts: PlanOptions = {}): PodUnits & { plan: Plan } {
  const p = unitFilePlan(plan(spec, host, opts), host);
  return { pod: p.pod, files: render(p), wantedBy: p.target.wantedBy, plan: p };
}
