/**
 * What the executor needs from the world, as small interfaces: systemd (D-Bus),
 * the pod's run directory, and the journal. Real implementations live in
 * src/host/; unit tests of ordering and rollback pass fakes.
 */
import type { Containers, Journal, MemberRoots, PodVolumes, Readiness, RunFiles } from "../host/ports.ts";
import type { Systemd } from "../systemd/bus.ts";
import type { PlannedNetwork } from "../plan/network.ts";

/** A bridged pod's network (src/pods/network.ts); absent where no plan has one (unit tests). */
export interface NetworkOps {
  up(n: PlannedNetwork): Promise<void>;
  /** Idempotent; returns what could not be torn down. */
  down(pod: string): Promise<string[]>;
}

export type { Containers, Journal, MemberRoots, PodVolumes, Readiness, RunFiles, VolumesMade } from "../host/ports.ts";

/** The ranges of host ids of userns pods (src/host/userns.ts); absent in unit tests of pods without one. */
export interface RangeOps {
  /** Frees the pod's range; a pod without one is fine. */
  free(pod: string): Promise<void>;
}

export interface ExecDeps {
  systemd: Systemd;
  readiness: Readiness;
  files: RunFiles;
  journal: Journal;
  containers: Containers;
  network?: NetworkOps;
  roots: MemberRoots;
  volumes: PodVolumes;
  ranges?: RangeOps;
}

/**
 * What a stop takes (src/pods/stop.ts): the executor's dependencies less those only a
 * start uses, so that `podunit stop` builds and loads just these (src/pods/stopping.ts).
 */
export type StopDeps = Pick<ExecDeps, "systemd" | "files" | "containers" | "ranges"> & { network?: Pick<NetworkOps, "down"> };
