/**
 * The part of the host wiring (wiring.ts) that a stop needs: the run directory,
 * the systemd connection, the pod's lock and name, and the dependencies of a stop.
 * None of it loads the spec parser, the planner, or the image and network code:
 * `podunit stop` loads this module and not wiring.ts, and each module a command
 * loads costs it start-up time (docs/benchmarks.md).
 */
import { existsSync } from "node:fs";
import { connectSystemd, type Systemd } from "../systemd/bus.ts";
import { NetworkLayout, PodLayout, rangeRecord } from "../plan/layout.ts";
import { findProgram } from "../plan/programs.ts";
import { isPathRef } from "../podspec/specdir.ts";
import { hostContainers } from "../host/runtime.ts";
import { hostFiles } from "../host/files.ts";
import { lockPod } from "../host/lock.ts";
import type { StopDeps } from "./deps.ts";

export type Env = Record<string, string | undefined>;

/** The run directory: /run/podunit, or PODUNIT_RUN_DIR. */
export function runDir(env: Env): string {
  return env.PODUNIT_RUN_DIR || "/run/podunit";
}

/** Connects to systemd, runs `fn`, and always closes the connection. */
export async function withSystemd<T>(env: Env, fn: (sd: Systemd) => Promise<T>): Promise<T> {
  const sd = await connectSystemd(env);
  try {
    return await fn(sd);
  } finally {
    sd.close();
  }
}

/** The pod name `ref` stands for: a pod name as is, or the name inside the spec file it points to. */
export async function podName(ref: string, dir: string | undefined, env: Env): Promise<string> {
  if (!isPathRef(ref)) return ref;
  const { loadSpec } = await import("../podspec/load.ts");
  return (await loadSpec(ref, { dir, env })).name;
}

/** Runs `fn` while holding the pod's lock; a pod left without a run directory (stopped, or its start undone) keeps no lock file either. */
export async function withPodLock<T>(env: Env, pod: string, fn: () => Promise<T>): Promise<T> {
  const lock = await lockPod(runDir(env), pod);
  try {
    return await fn();
  } finally {
    lock.release({ remove: !existsSync(new PodLayout(runDir(env), pod).dir) });
  }
}

/**
 * What a stop takes from this host. The network and the range of host ids are
 * torn down by their own modules, loaded only for a pod that has a record of
 * either: most pods have neither.
 */
export function stopDeps(sd: Systemd, env: Env): StopDeps {
  const dir = runDir(env);
  return {
    systemd: sd,
    files: hostFiles,
    containers: hostContainers({ crun: findProgram("crun"), runc: findProgram("runc") }),
    network: {
      down: async (pod) => (existsSync(new NetworkLayout(dir).stateFile(pod)) ? (await import("./network.ts")).networkDown(dir, pod, env) : []),
    },
    ranges: {
      free: async (pod) => {
        if (existsSync(rangeRecord(dir, pod))) await (await import("../host/userns.ts")).freeRange(dir, pod);
      },
    },
  };
}
