/**
 * What the executor needs from the world, as small interfaces: systemd (D-Bus),
 * the pod's run directory, and the journal. Real implementations live in
 * src/host/; unit tests of ordering and rollback pass fakes.
 */
import type { Containers, Journal, MemberRoots, PodVolumes, Readiness, RunFiles } from "../host/ports.ts";
import type { Systemd } from "../systemd/bus.ts";

export type { Containers, Journal, MemberRoots, PodVolumes, Readiness, RunFiles, VolumesMade } from "../host/ports.ts";

export interface ExecDeps {
  systemd: Systemd;
  readiness: Readiness;
  files: RunFiles;
  journal: Journal;
  containers: Containers;
  roots: MemberRoots;
  volumes: PodVolumes;
}
