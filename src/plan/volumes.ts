/**
 * Pod volumes in a plan: where each volume's data lives on the host, how each
 * member sees it (systemd's BindPaths= for members on the host's file system,
 * OCI bind mounts for crun and runc members), and the argv of the unit-file helpers
 * that make and remove them. Pure.
 *
 * persistent  /var/lib/podunit/volumes/POD/NAME, made on first start, never removed by podunit stop
 * scratch     /run/podunit/POD/volumes/NAME, a directory made at start, gone at stop
 * tmpfs       /run/podunit/POD/volumes/NAME, a tmpfs of its own size mounted there, gone at stop
 * host        the spec's path, which must exist
 */
import type { MountSpec, PodSpec, VolumeSpec, VolumeType } from "../podspec/types.ts";
import type { BindPath, UnitProperty } from "../systemd/properties.ts";
import { prop } from "./builder.ts";
import type { PodLayout } from "./layout.ts";
import type { OciMount } from "./oci.ts";
import { hostId, type IdRange } from "./userns.ts";

/** Where persistent volumes live: one directory per pod, one below it per volume. */
export const VOLUME_ROOT = "/var/lib/podunit/volumes";

/** A persistent volume's directory. Pod and volume names are DNS labels: the path cannot leave VOLUME_ROOT/POD. */
export function persistentDir(pod: string, name: string, root = VOLUME_ROOT): string {
  return `${root}/${pod}/${name}`;
}

/** Mode of a volume's top directory when the spec gives none: scratch and tmpfs are writable by every member, as /tmp is. */
export function defaultMode(type: VolumeType): number {
  return type === "persistent" ? 0o755 : 0o1777;
}

/** A volume in a plan: the spec's volume with the host path members mount. */
export interface PlannedVolume {
  name: string;
  type: VolumeType;
  /** The host path that members' mounts bind (a directory, or a host volume's file). */
  source: string;
  /** tmpfs: bytes. */
  size?: number | bigint;
  /** Owner and mode of the top directory (not host volumes). */
  owner?: { uid: number; gid: number };
  mode?: number;
}

/** The pod's volumes with their host paths. */
export function planVolumes(spec: PodSpec, layout: PodLayout, root = VOLUME_ROOT): PlannedVolume[] {
  return (spec.volumes ?? []).map((v: VolumeSpec): PlannedVolume => {
    const source = v.type === "persistent" ? persistentDir(spec.name, v.name, root) : v.type === "host" ? v.path! : layout.volume(v.name);
    return {
      name: v.name,
      type: v.type,
      source,
      ...(v.size !== undefined ? { size: v.size } : {}),
      ...(v.owner ? { owner: v.owner } : {}),
      ...(v.type !== "host" ? { mode: v.mode ?? defaultMode(v.type) } : {}),
    };
  });
}

/**
 * A userns pod's volumes: the owner a spec gives is one of the pod's ids, and without
 * one the pod's root owns the volume; either is made a host id of the pod's range. A
 * host volume keeps its host owner (podunit never changes a host path).
 */
export function mapVolumeOwners(volumes: readonly PlannedVolume[], range: IdRange): PlannedVolume[] {
  return volumes.map((v) => {
    if (v.type === "host") return v;
    const o = v.owner ?? { uid: 0, gid: 0 };
    return { ...v, owner: { uid: hostId(range, o.uid), gid: hostId(range, o.gid) } };
  });
}

function sourceOf(volumes: readonly PlannedVolume[], m: MountSpec): string {
  const v = volumes.find((x) => x.name === m.volume);
  if (!v) throw new Error(`Mount of unknown volume '${m.volume}' (validation lets none through)`);
  return v.source;
}

/**
 * A host member's mounts: systemd gives a unit with BindPaths= a mount namespace
 * of its own, binds each source recursively, and with BindReadOnlyPaths= makes
 * the bind and every mount below it read-only. A member without mounts gets no
 * such properties, and so no mount namespace (which costs every start a copy of
 * the host's mount table).
 */
export function hostMountProps(volumes: readonly PlannedVolume[], mounts: readonly MountSpec[] | undefined): UnitProperty[] {
  const bind = (m: MountSpec): BindPath => ({ source: sourceOf(volumes, m), destination: m.path, recursive: true });
  const rw = (mounts ?? []).filter((m) => !m.readonly).map(bind);
  const ro = (mounts ?? []).filter((m) => m.readonly).map(bind);
  return [...(rw.length ? [prop("BindPaths", rw)] : []), ...(ro.length ? [prop("BindReadOnlyPaths", ro)] : [])];
}

/**
 * A crun or runc member's mounts: recursive binds; `:ro` adds `rro`, which both apply (mount_setattr(2)
 * with AT_RECURSIVE, so mounts below the volume are read-only too) besides `ro`.
 */
export function ociVolumeMounts(volumes: readonly PlannedVolume[], mounts: readonly MountSpec[] | undefined): OciMount[] {
  return (mounts ?? []).map((m) => ({
    destination: m.path,
    type: "bind",
    source: sourceOf(volumes, m),
    options: ["rbind", "nosuid", "nodev", ...(m.readonly ? ["ro", "rro"] : ["rw"])],
  }));
}

/**
 * One volume as `podunit internal volumes-up`/`volumes-down` take it:
 * `type=T[,size=BYTES][,owner=UID:GID][,mode=OCTAL],path=SOURCE` (the path last,
 * so it may hold any character).
 */
export function volumeArg(v: PlannedVolume): string {
  const parts = [`type=${v.type}`];
  if (v.size !== undefined) parts.push(`size=${v.size}`);
  if (v.owner) parts.push(`owner=${v.owner.uid}:${v.owner.gid}`);
  if (v.mode !== undefined) parts.push(`mode=${v.mode.toString(8).padStart(4, "0")}`);
  return `${parts.join(",")},path=${v.source}`;
}

/** The inverse of volumeArg; undefined for a string it did not write. */
export function parseVolumeArg(s: string, name: string): PlannedVolume | undefined {
  const at = s.indexOf("path=");
  if (at < 0 || (at > 0 && s[at - 1] !== ",")) return undefined;
  const source = s.slice(at + "path=".length);
  const fields = new Map(at === 0 ? [] : s.slice(0, at - 1).split(",").map((f) => [f.slice(0, f.indexOf("=")), f.slice(f.indexOf("=") + 1)] as [string, string]));
  const type = fields.get("type") as VolumeType | undefined;
  if (!type || !["persistent", "scratch", "tmpfs", "host"].includes(type) || !source.startsWith("/")) return undefined;
  const v: PlannedVolume = { name, type, source };
  const size = fields.get("size");
  if (size !== undefined) {
    if (!/^[1-9][0-9]*$/.test(size)) return undefined;
    v.size = BigInt(size);
  }
  const owner = fields.get("owner");
  if (owner !== undefined) {
    const m = /^([0-9]+):([0-9]+)$/.exec(owner);
    if (!m) return undefined;
    v.owner = { uid: Number(m[1]), gid: Number(m[2]) };
  }
  const mode = fields.get("mode");
  if (mode !== undefined) {
    if (!/^[0-7]{3,4}$/.test(mode)) return undefined;
    v.mode = parseInt(mode, 8);
  }
  return v;
}

/** argv of the sandbox's ExecStartPre that makes the volumes (after its prepare). */
export function volumesUpArgv(volumes: readonly PlannedVolume[]): string[] {
  return ["internal", "volumes-up", ...volumes.map(volumeArg)];
}

/** argv of the sandbox's ExecStopPost that unmounts the tmpfs volumes and removes the scratch ones. */
export function volumesDownArgv(volumes: readonly PlannedVolume[]): string[] {
  return ["internal", "volumes-down", ...volumes.filter((v) => v.type === "scratch" || v.type === "tmpfs").map(volumeArg)];
}
