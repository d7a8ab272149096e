/**
 * What the use cases take from this host: the run directory, the systemd
 * connection, host facts, the spec, the pod lock and the adapters of src/host/.
 * The environment (`env`) is the only input: PODUNIT_RUN_DIR,
 * DBUS_SYSTEM_BUS_ADDRESS, PODUNIT_SPEC_DIR and the like.
 */
import type { Systemd } from "../systemd/bus.ts";
import { type Env, runDir } from "./context.ts";
import { detectHostFacts, findProgram } from "../plan/hostfacts.ts";
import type { HostFacts, HostPaths, Plan } from "../plan/types.ts";
import { readFileSync } from "node:fs";
import { PodLayout } from "../plan/layout.ts";
import { parsePlanRecord } from "../plan/record.ts";
import { isValidName } from "../podspec/grammar.ts";
import { isPathRef, loadSpec } from "../podspec/load.ts";
import type { OciRuntime, PodSpec } from "../podspec/types.ts";
import type { ExecDeps } from "./deps.ts";
import { hostContainers } from "../host/runtime.ts";
import { hostFiles } from "../host/files.ts";
import { hostJournal } from "../host/journal.ts";
import { hostReadiness } from "../host/ready.ts";
import { networkDown, networkUp } from "./network.ts";
import { hostRoots } from "../host/rootfs.ts";
import { hostVolumes } from "../host/volumes.ts";
import { freeRange } from "../host/userns.ts";

export { podName, runDir, withPodLock, withSystemd, type Env } from "./context.ts";

/** Host facts for planning, with the version of the systemd actually running. */
export async function hostFacts(env: Env, sd: Systemd): Promise<HostFacts> {
  return { ...detectHostFacts(env, await sd.version()), runDir: runDir(env) };
}

/** The executor's dependencies on this host. */
export function execDeps(sd: Systemd, runtimes: Pick<HostPaths, OciRuntime> = { crun: findProgram("crun"), runc: findProgram("runc") }, env: Env = process.env): ExecDeps {
  const network = {
    up: async (n: Parameters<typeof networkUp>[0]) => void (await networkUp(n, env)),
    down: (pod: string) => networkDown(runDir(env), pod, env),
  };
  const ranges = { free: (pod: string) => freeRange(runDir(env), pod) };
  return { systemd: sd, readiness: hostReadiness, files: hostFiles, journal: hostJournal, containers: hostContainers(runtimes), roots: hostRoots, volumes: hostVolumes, network, ranges };
}

/** Loads the spec named or pointed to by `ref`. */
export function loadPodSpec(ref: string, dir: string | undefined, env: Env): Promise<PodSpec> {
  return loadSpec(ref, { dir, env });
}

/** The plan the pod was started from (its record in the run directory), or undefined. */
export function recordedPlan(env: Env, pod: string): Plan | undefined {
  if (!isValidName(pod)) return undefined;
  let text: string;
  try {
    text = readFileSync(new PodLayout(runDir(env), pod).planFile, "utf8");
  } catch {
    return undefined;
  }
  return parsePlanRecord(text);
}

/** What to load for `ref`: a path as it is; a pod name that runs from a recorded spec, that spec's path; else the name. */
export function specRef(ref: string, env: Env): string {
  if (isPathRef(ref)) return ref;
  return recordedPlan(env, ref)?.file ?? ref;
}
