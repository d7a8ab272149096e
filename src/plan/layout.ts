/**
 * Where a pod keeps its run-time state below the run directory, and the ids
 * crun and runc know its containers by. Pod and member names are DNS labels, so they
 * go into paths unescaped.
 */
import type { Namespace } from "../podspec/types.ts";

/** Paths of one pod below `runDir` (normally /run/podunit). */
export class PodLayout {
  readonly dir: string;
  constructor(
    runDir: string,
    readonly pod: string,
  ) {
    this.dir = `${runDir.replace(/\/+$/, "")}/${pod}`;
  }

  /** The layout of a plan's pod, from its own directory (`Plan.runDir`, `<runDir>/<pod>`). */
  static of(p: { runDir: string; pod: string }): PodLayout {
    return new PodLayout(p.runDir.slice(0, p.runDir.length - p.pod.length - 1), p.pod);
  }

  /** Directory of the namespace pins. */
  get nsDir(): string {
    return `${this.dir}/ns`;
  }

  /** The pin of one namespace: `<dir>/ns/{net,ipc,uts,pid,user}`. */
  pin(ns: Namespace | "user"): string {
    return `${this.nsDir}/${ns}`;
  }

  /** OCI bundle of a runtime sandbox (crun or runc). */
  get sandboxBundle(): string {
    return `${this.dir}/sandbox`;
  }

  get sandboxPidFile(): string {
    return `${this.dir}/sandbox.pid`;
  }

  /** Directory of the members' OCI bundles. */
  get bundlesDir(): string {
    return `${this.dir}/bundles`;
  }

  /** OCI bundle of a member with a rootfs. */
  memberBundle(member: string): string {
    return `${this.bundlesDir}/${member}`;
  }

  /** Where an image member's root file system is mounted. */
  memberRoot(member: string): string {
    return `${this.rootsDir}/${member}`;
  }

  /** Where an image member's layers are mounted with the pod's ID map while its overlay is made (userns = "auto"). */
  memberIdmap(member: string): string {
    return `${this.memberLayers(member)}/idmap`;
  }

  /** The directory of the image members' roots. */
  get rootsDir(): string {
    return `${this.dir}/rootfs`;
  }

  /** An image member's writable layer: `upper` and `work` directories of its overlay. */
  memberLayers(member: string): string {
    return `${this.dir}/layers/${member}`;
  }

  /** Where a scratch or tmpfs volume lives while the pod runs. */
  volume(name: string): string {
    return `${this.dir}/volumes/${name}`;
  }

  /** Which images the running pod uses, by member (read by `podunit image rm` and `prune`). */
  get imagesFile(): string {
    return `${this.dir}/images.json`;
  }

  /** The plan the pod was started from, with the path of its spec (src/plan/record.ts). */
  get planFile(): string {
    return `${this.dir}/plan.json`;
  }

  memberPidFile(member: string): string {
    return `${this.dir}/${member}.pid`;
  }

  /** The health checks' directory: their configuration and each member's last results. */
  get healthDir(): string {
    return `${this.dir}/health`;
  }

  /** What the pod's health checks do (written with the run files, read by `podunit internal health`). */
  get healthConfig(): string {
    return `${this.dir}/health.json`;
  }

  /** One member's health: state, failures in a row, the last failure (written by the checks, read by `status`). */
  healthState(member: string): string {
    return `${this.dir}/health/${member}.json`;
  }
}

/**
 * OCI container id of a member (runc's and crun's alike): `podunit-<pod>.<member>`. The dot cannot
 * occur in a pod name, so pod `a` member `b-c` and pod `a-b` member `c` get
 * different ids (a dash there would make both `podunit-a-b-c`).
 */
export function containerId(pod: string, member: string): string {
  return `podunit-${pod}.${member}`;
}

/** OCI container id of the sandbox (`sandbox` is not a valid member name). */
export function sandboxContainerId(pod: string): string {
  return containerId(pod, "sandbox");
}

/** The prefix of every OCI container id of a pod (see containerId). */
export function containerPrefix(pod: string): string {
  return containerId(pod, "");
}

/** Paths below the network state directory. `_network` cannot be a pod's name, so it never meets a pod's run directory. */
export class NetworkLayout {
  readonly dir: string;
  constructor(runDir: string) {
    this.dir = `${runDir.replace(/\/+$/, "")}/_network`;
  }
  /** host-local's dataDir: one file per address in use. */
  get ipamDir(): string {
    return `${this.dir}/ipam`;
  }
  /** The hosts file every bridged pod's members see as /etc/hosts. */
  get hostsFile(): string {
    return `${this.dir}/hosts`;
  }
  /** One pod's record: what was set up (the CNI result, ports), for tear-down, status and reconcile. */
  podDir(pod: string): string {
    return `${this.dir}/pods/${pod}`;
  }
  stateFile(pod: string): string {
    return `${this.podDir(pod)}/state.json`;
  }
  /** A bind mount of the pod's network namespace: it outlives the sandbox until tear-down, so DEL finds the interface. */
  netnsFile(pod: string): string {
    return `${this.podDir(pod)}/netns`;
  }
}

/** The directory of the userns ranges' records (src/host/userns.ts): one file per pod. */
export function rangesDir(runDir: string): string {
  return `${runDir.replace(/\/+$/, "")}/userns`;
}

/** The record of the range of host ids `pod` holds (userns = "auto"). */
export function rangeRecord(runDir: string, pod: string): string {
  return `${rangesDir(runDir)}/${pod}`;
}
