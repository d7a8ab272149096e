/** What the unit builders of a plan share: the planning context and small property helpers. */
import type { Namespace, OciRuntime, PodSpec, SandboxBackend } from "../podspec/types.ts";
import type { ExecCommand, ExecFlag, PropertyKey, PropertyValues, UnitProperty } from "../systemd/properties.ts";
import type { PodLayout } from "./layout.ts";
import type { OciNamespaceType } from "./oci.ts";
import type { HostFacts } from "./types.ts";
import type { PlannedVolume } from "./volumes.ts";
import type { IdRange } from "./userns.ts";

/** Namespaces in the order flags and pins are written. */
export const NS_ORDER: readonly Namespace[] = ["net", "ipc", "uts", "pid"];
export const OCI_TYPE: Record<Namespace, OciNamespaceType> = { net: "network", ipc: "ipc", uts: "uts", pid: "pid" };

export function prop<K extends PropertyKey>(key: K, value: PropertyValues[K]): UnitProperty {
  return { key, value } as UnitProperty;
}

/** A command whose argv[0] is its path; `flags` default to no `$` expansion. */
export function exec(path: string, args: string[], flags: ExecFlag[] = ["no-env-expand"]): ExecCommand {
  return { path, argv: [path, ...args], flags };
}

/**
 * `props` with `more` added: a key already there whose value is a list of
 * commands (ExecStartPostEx, ...) gets the new commands after its own; any other
 * key is replaced.
 */
export function withProps(props: readonly UnitProperty[], more: readonly UnitProperty[]): UnitProperty[] {
  const out = [...props];
  for (const p of more) {
    const i = out.findIndex((x) => x.key === p.key);
    if (i < 0) out.push(p);
    else if (p.key.startsWith("Exec")) out[i] = { key: p.key, value: [...(out[i]!.value as ExecCommand[]), ...(p.value as ExecCommand[])] } as UnitProperty;
    else out[i] = p;
  }
  return out;
}

export const IGNORE: ExecFlag[] = ["ignore-failure", "no-env-expand"];

/** Percent of one CPU → microseconds per second, rounded to what CPUQuota= can write (0.01%). */
export function cpuQuotaUsec(percent: number): bigint {
  return BigInt(Math.round(percent * 100)) * 100n;
}

export function limitProps(l: PodSpec["limits"]): UnitProperty[] {
  const out: UnitProperty[] = [];
  if (l.memoryMax !== undefined) out.push(prop("MemoryMax", l.memoryMax));
  if (l.cpuQuota !== undefined) out.push(prop("CPUQuotaPerSecUSec", cpuQuotaUsec(l.cpuQuota)));
  if (l.tasksMax !== undefined) out.push(prop("TasksMax", l.tasksMax));
  return out;
}

export interface Ctx {
  spec: PodSpec;
  host: HostFacts;
  layout: PodLayout;
  backend: SandboxBackend;
  /** Namespaces the sandbox holds and pins (shared and not taken from the host). */
  pinned: Namespace[];
  slice: string;
  sandbox: string;
  /** The pod's volumes with their host paths (members' mounts refer to them by name). */
  volumes: PlannedVolume[];
  /** The pod's host ids (userns = "auto"); undefined: the host's. */
  userns?: IdRange;
  /** The runtime each member runs under now, kept when the spec names none (`apply`); empty otherwise. */
  keptRuntimes: ReadonlyMap<string, OciRuntime>;
}

/** `--net=PIN --ipc=PIN ...` for nsenter or unshare. */
export function nsFlags(c: Ctx, namespaces: readonly Namespace[]): string[] {
  return namespaces.map((ns) => `--${ns}=${c.layout.pin(ns)}`);
}
