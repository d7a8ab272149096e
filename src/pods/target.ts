/**
 * Pods that have unit files (from `podunit enable`, the generator or `generate
 * --output`): they are started through their target, the way systemd starts them at
 * boot, since systemd refuses a transient unit whose name has a unit file. Whether
 * a pod has them is asked of systemd itself, which loads the target on the question.
 */
import { SystemdError } from "../errors.ts";
import type { Plan } from "../plan/types.ts";
import type { ExecDeps } from "./deps.ts";
import { StartError, type StartResult } from "./start.ts";
import { cleanupPod } from "./stop.ts";
import { podUnitPatterns } from "../systemd/unitname.ts";

/**
 * Starts the pod's target and checks that every unit of the pod came up; otherwise
 * stops and forgets everything of the pod and throws a StartError naming the unit.
 */
export async function startTarget(p: Plan, deps: ExecDeps): Promise<StartResult> {
  const sd = deps.systemd;
  const units = [p.sandbox, ...p.members];
  const stateOf = async () => new Map((await sd.listUnits(podUnitPatterns(p.pod))).map((u) => [u.name, u.activeState]));
  const before = await stateOf();
  if (units.every((u) => before.get(u.name) === "active")) return { pod: p.pod, alreadyRunning: true, units: [p.slice.name, ...units.map((u) => u.name)], repaired: [] };
  let jobError: Error | undefined;
  try {
    await sd.startUnit(p.target.name, "replace");
  } catch (err) {
    if (!(err instanceof SystemdError)) throw err;
    jobError = err;
  }
  const state = await stateOf();
  const down = units.find((u) => state.get(u.name) !== "active");
  if (down === undefined && jobError === undefined) return { pod: p.pod, alreadyRunning: false, units: [p.slice.name, ...units.map((u) => u.name)], repaired: [] };
  const unit = down?.name ?? p.target.name;
  const reason = down ? `it is ${state.get(down.name) ?? "not loaded"} after the start of ${p.target.name}` : jobError!.message;
  const journal = await deps.journal.tail(unit, 10);
  const problems = await cleanupPod(p.pod, p.runDir, deps).catch((e: Error) => [e.message]);
  throw new StartError(p.pod, unit, reason, journal, problems);
}
