/**
 * The validated pod model. `validate()` turns the raw TOML table into this;
 * everything downstream (plan, render, execute) takes only this shape.
 * Sizes are bytes, durations microseconds (systemd's unit), quotas percent of one CPU.
 */

import type { NetworkMode } from "./network.ts";
import type { PortMapping } from "./ports.ts";
import type { SpecIssue } from "../errors.ts";

export type Namespace = "net" | "ipc" | "uts" | "pid";
export type RestartPolicy = "no" | "on-failure" | "always";
/** An OCI runtime that runs members with a rootfs or an image (and a runtime sandbox). */
export type OciRuntime = "crun" | "runc";
/** The sandbox backend: native (unshare), or a container of an OCI runtime. */
export type SandboxBackend = OciRuntime | "native";
/** `host`: members run with the host's user ids (the default); `auto`: a private range of host ids for the pod (docs/security.md). */
export type UsernsMode = "host" | "auto";
export type MemberKind = "service" | "init";
/** `default`: podunit's seccomp filter (src/plan/seccomp.ts); `unconfined`: none. */
export type SeccompProfile = "default" | "unconfined";

/** When `podunit start` (or a boot) fetches an image member's image: when the store lacks it, every time, or never. */
export type PullPolicy = "missing" | "always" | "never";

export interface PodSpec {
  /** Pod name: DNS-1123 label, default the spec file's stem. */
  name: string;
  /** Where the spec came from (absolute path, or "<string>"). */
  file: string;
  /** Hostname of the pod's UTS namespace; default the pod name. */
  hostname: string;
  /** Namespaces shared through the sandbox; default net, ipc, uts. Sorted, unique. */
  share: Namespace[];
  /** Use the host's namespaces instead of the sandbox's. */
  hostNetwork: boolean;
  hostIpc: boolean;
  hostPid: boolean;
  /** Sandbox backend; undefined = choose from the pod's runtime and the host facts (src/plan/runtime.ts). */
  sandbox?: SandboxBackend;
  /** "auto": the pod's image members run in a user namespace of their own (docs/security.md); undefined: the host's ids. */
  userns?: "auto";
  /** The OCI runtime of the pod's rootfs and image members and of a runtime sandbox; undefined = the fastest installed. */
  runtime?: OciRuntime;
  /** Pod-wide limits on the pod slice. */
  limits: Limits;
  /** Boot-time pod; undefined when the spec has no [install] section. */
  install?: { wantedBy: string[] };
  /** Members in the order they appear in the file. */
  members: MemberSpec[];
  /** "bridge": an address on the host's pod bridge; undefined: "private" (loopback only), the default. */
  network?: NetworkMode;
  /** Host ports published to the pod (bridged pods only); undefined when none. */
  ports?: PortMapping[];
  /** What the spec allows but deserves a second look (`podunit check` shows them); absent when there is none. */
  warnings?: SpecIssue[];
  /** Pod volumes in file order; absent when the spec has none. */
  volumes?: VolumeSpec[];
}

export interface Limits {
  /** Bytes (MemoryMax=). */
  memoryMax?: bigint;
  /** Percent of one CPU, e.g. 150 for "150%" (CPUQuota=). */
  cpuQuota?: number;
  /** Number of tasks (TasksMax=). */
  tasksMax?: bigint;
}

export interface MemberSpec {
  name: string;
  kind: MemberKind;
  /**
   * argv, passed verbatim (no $ expansion); at least one element, except for an
   * image member without `command`, whose command comes from the image (empty here).
   */
  command: string[];
  /** An image member's arguments: they replace the image's Cmd (as Kubernetes' args); undefined = the image's. */
  args?: string[];
  /** An image reference as written (`busybox`, `localhost/app:1`, `NAME@sha256:...`); the member runs in it under its OCI runtime. */
  image?: string;
  /** An image member's pull policy; undefined for members without an image ("missing" is the default). */
  pull?: PullPolicy;
  env: Record<string, string>;
  /** Absolute working directory inside the member's file system. */
  workdir?: string;
  /** "uid[:gid]" or a user name (image members: also "user:group" by name or number); undefined = root, or the image's. */
  user?: string;
  /** Absolute path of a root file system; undefined = the host's file system. */
  rootfs?: string;
  readonlyRootfs: boolean;
  /** The OCI runtime of a rootfs or image member; undefined = the pod's. */
  runtime?: OciRuntime;
  /**
   * False when the spec lets the member gain privileges through set-user-ID or
   * file-capability programs (NoNewPrivileges=no); undefined = true, the default.
   */
  noNewPrivileges?: boolean;
  /** Capability names (`CAP_NET_ADMIN`), sorted: runc's default set with the spec's drop and add applied; undefined = the default set. */
  capabilities?: string[];
  /** The seccomp filter; undefined = "default". */
  seccomp?: SeccompProfile;
  limits: Limits;
  restart: RestartPolicy;
  /** Microseconds (RestartSec=). */
  restartSec?: bigint;
  /** Microseconds (TimeoutStopSec=). */
  stopTimeout?: bigint;
  /** Names of members this one starts after. */
  after: string[];
  /** The pod volumes this member sees, in the order written; absent when it has none. */
  mounts?: MountSpec[];
  /** Its health check; undefined when it has none. */
  health?: HealthSpec;
}

/** What a pod volume is: a directory podunit keeps, one made and removed with the pod, memory, or a host path. */
export type VolumeType = "persistent" | "scratch" | "tmpfs" | "host";

/** A pod volume (`[volumes.NAME]`). */
export interface VolumeSpec {
  /** A DNS label, so it never leaves the pod's volume directory. */
  name: string;
  type: VolumeType;
  /** tmpfs only: its size in bytes. */
  size?: bigint;
  /** host only: an absolute, tidy path. */
  path?: string;
  /** Owner of the volume's top directory (not host volumes). */
  owner?: { uid: number; gid: number };
  /** Permission bits of the volume's top directory (not host volumes). */
  mode?: number;
}

/** One entry of a member's `mounts`: a pod volume and where the member sees it. */
export interface MountSpec {
  volume: string;
  /** Absolute, tidy, not "/". */
  path: string;
  /** Read-only all the way down (submounts too). */
  readonly: boolean;
}

/** What a health check does: run a command in the member, ask for an http URL, or connect to a TCP port. */
export type HealthCheck =
  | { kind: "exec"; argv: string[] }
  | { kind: "http"; url: string; host: string; port: number; path: string }
  | { kind: "tcp"; host: string; port: number };

/** `[containers.NAME.health]`: one check, how often and how patiently; durations in microseconds. */
export interface HealthSpec {
  check: HealthCheck;
  interval: bigint;
  timeout: bigint;
  /** Failed checks in a row that make the member unhealthy (and kill it). */
  retries: number;
  /** After the member became ready, failures within this time do not count. */
  startPeriod: bigint;
  /** How long the member may take to pass its first check. */
  startupTimeout: bigint;
}
