/**
 * Pods with `userns = "auto"`: which range of host ids a pod gets (pure: the
 * records of the ranges taken in, a range or an error out) and how the plan
 * uses it (OCI ID maps, the owner of a volume). The records themselves, their
 * lock and how a stale one is told apart live in src/host/userns.ts.
 */
import { PodunitError } from "../errors.ts";
import { RANGE_SIZE, type UsernsConfig } from "../podspec/usernsconfig.ts";

/** A pod's ids: host ids `start` … `start + size - 1`, seen as 0 … size - 1 inside the pod's user namespace. */
export interface IdRange {
  start: number;
  size: number;
}

/** A range some pod holds (a record under /run/podunit/userns). */
export interface RangeRecord {
  pod: string;
  start: number;
}

/** No range is free. */
export class RangesExhaustedError extends PodunitError {}

/** The slot a pod tries first: a hash of its name, so a pod gets the same ids start after start (its persistent volumes' files keep their owner) unless another pod holds them. */
export function preferredSlot(pod: string, slots: number): number {
  // FNV-1a, 32 bits.
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(pod)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h % slots;
}

/**
 * The range for `pod`: the one it holds already (a repair, a restart of a pod whose
 * record outlived it), else the first free slot from its preferred one on. `taken`
 * holds the live records only (stale ones were dropped by the caller).
 */
export function pickRange(pod: string, config: UsernsConfig, taken: readonly RangeRecord[]): IdRange {
  const own = taken.find((r) => r.pod === pod);
  if (own) return { start: own.start, size: RANGE_SIZE };
  const used = new Set(taken.map((r) => r.start));
  const first = preferredSlot(pod, config.ranges);
  for (let i = 0; i < config.ranges; i++) {
    const start = config.start + ((first + i) % config.ranges) * RANGE_SIZE;
    if (!used.has(start)) return { start, size: RANGE_SIZE };
  }
  throw new RangesExhaustedError(
    `Failed to give pod '${pod}' a user namespace: all ${config.ranges} ranges of 65536 ids from ${config.start} are held by running pods.`,
    { hint: "Stop a pod with userns = \"auto\", or give podunit more ranges in /etc/podunit/userns.toml (docs/security.md)." },
  );
}

/** Whether two ranges share an id. */
export function overlaps(a: IdRange, b: IdRange): boolean {
  return a.start < b.start + b.size && b.start < a.start + a.size;
}

/** The host id of the pod's id `id`. */
export function hostId(range: IdRange, id: number): number {
  return range.start + id;
}

/** An OCI `linux.uidMappings`/`gidMappings` entry. */
export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** The pod's one mapping, the same for uids and gids. */
export function ociMappings(range: IdRange): OciIdMapping[] {
  return [{ containerID: 0, hostID: range.start, size: range.size }];
}

/** `0-65535 → 1879048192-1879113727`, for status and plan. */
export function describeRange(range: IdRange): string {
  return `0-${range.size - 1} → ${range.start}-${range.start + range.size - 1}`;
}
