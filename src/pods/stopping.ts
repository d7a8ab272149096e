/**
 * The stop use case: a pod by name or spec file, under its lock. Apart from
 * lifecycle.ts, whose start brings in the spec parser, the planner and the
 * image code: `podunit stop` loads only this, context.ts and stop.ts.
 */
import { PodunitError } from "../errors.ts";
import { mark } from "../trace.ts";
import { connectSystemd, type Systemd } from "../systemd/bus.ts";
import { PodLayout } from "../plan/layout.ts";
import { runStop, type StopResult } from "./stop.ts";
import { type Env, podName, runDir, stopDeps, withPodLock } from "./context.ts";

/** Stops one pod by name or spec file; idempotent. */
export async function stopPod(ref: string, dir: string | undefined, env: Env): Promise<StopResult> {
  const pod = await podName(ref, dir, env);
  mark("pod named");
  // The connection is made while the pod is locked.
  const connecting = connectSystemd(env);
  connecting.catch(() => {});
  try {
    return await withPodLock(env, pod, async () => {
      mark("locked");
      const sd = await connecting;
      mark("connected to systemd");
      return stopLocked(pod, sd, env);
    });
  } finally {
    await connecting.then((sd) => sd.close(), () => {});
  }
}

/** Stops a pod whose lock the caller holds; throws when cleanup left something behind. */
export async function stopLocked(pod: string, sd: Systemd, env: Env): Promise<StopResult> {
  const r = await runStop(pod, new PodLayout(runDir(env), pod).dir, stopDeps(sd, env));
  if (r.problems.length) {
    throw new PodunitError(`Failed to stop pod '${pod}' cleanly: ${r.problems.join("; ")}`, {
      hint: `Run 'podunit stop ${pod}' again; 'podunit status ${pod}' shows what is left.`,
    });
  }
  return r;
}
