/** What the pod verbs share: root check, the systemd connection, host facts, the spec. */
import type { Io } from "./command.ts";
import { PermissionError, UsageError } from "../errors.ts";
import { connectSystemd, type Systemd } from "../systemd/bus.ts";
import { detectHostFacts, findProgram } from "../plan/hostfacts.ts";
import type { HostFacts } from "../plan/types.ts";
import { loadSpec, isPathRef } from "../podspec/load.ts";
import type { PodSpec } from "../podspec/types.ts";
import type { ExecDeps } from "../pods/deps.ts";
import { hostContainers, hostFiles, hostJournal } from "../host/files.ts";
import { lockPod } from "../host/lock.ts";
import { hostReadiness } from "../host/ready.ts";

/** The run directory: /run/podunit, or PODUNIT_RUN_DIR. */
export function runDir(io: Io): string {
  return io.env.PODUNIT_RUN_DIR || "/run/podunit";
}

/** Pod verbs change systemd and mounts: they need root. */
export function requireRoot(verb: string): void {
  if (process.getuid?.() !== 0) {
    throw new PermissionError(`'podunit ${verb}' must run as root.`, `Run it with sudo, or as root.`);
  }
}

/** Connects to systemd, runs `fn`, and always closes the connection. */
export async function withSystemd<T>(io: Io, fn: (sd: Systemd) => Promise<T>): Promise<T> {
  const sd = await connectSystemd(io.env);
  try {
    return await fn(sd);
  } finally {
    sd.close();
  }
}

/** Host facts for planning, with the version of the systemd actually running. */
export async function hostFacts(io: Io, sd: Systemd): Promise<HostFacts> {
  return { ...detectHostFacts(io.env, await sd.version()), runDir: runDir(io) };
}

/** The executor's dependencies on this host. */
export function execDeps(sd: Systemd, runc = findProgram("runc")): ExecDeps {
  return { systemd: sd, readiness: hostReadiness, files: hostFiles, journal: hostJournal, containers: hostContainers(runc) };
}

/** Loads the spec named or pointed to by `ref`. */
export function loadPodSpec(ref: string, dir: string | undefined, io: Io): Promise<PodSpec> {
  return loadSpec(ref, { dir, env: io.env });
}

/** The pod name `ref` stands for: a pod name as is, or the name inside the spec file it points to. */
export async function podName(ref: string, dir: string | undefined, io: Io): Promise<string> {
  return isPathRef(ref) ? (await loadPodSpec(ref, dir, io)).name : ref;
}

/** Runs `fn` while holding the pod's lock. */
export async function withPodLock<T>(io: Io, pod: string, fn: () => Promise<T>): Promise<T> {
  const lock = await lockPod(runDir(io), pod);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Exactly one positional argument, the pod. */
export function onePod(verb: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`'podunit ${verb}' takes one pod name or spec file, found ${positionals.length}.`);
  return positionals[0]!;
}
