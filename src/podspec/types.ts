/**
 * The validated pod model. `validate()` turns the raw TOML table into this;
 * everything downstream (plan, render, execute) takes only this shape.
 * Sizes are bytes, durations microseconds (systemd's unit), quotas percent of one CPU.
 */

export type Namespace = "net" | "ipc" | "uts" | "pid";
export type RestartPolicy = "no" | "on-failure" | "always";
export type SandboxBackend = "runc" | "native";
export type MemberKind = "service" | "init";

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
  /** Sandbox backend; undefined = choose from host facts (runc where installed). */
  sandbox?: SandboxBackend;
  /** Pod-wide limits on the pod slice. */
  limits: Limits;
  /** Boot-time pod; undefined when the spec has no [install] section. */
  install?: { wantedBy: string[] };
  /** Members in the order they appear in the file. */
  members: MemberSpec[];
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
  /** An image reference as written (`busybox`, `localhost/app:1`, `NAME@sha256:...`); the member runs in it under runc. */
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
  /**
   * False when the spec lets the member gain privileges through set-user-ID or
   * file-capability programs (NoNewPrivileges=no); undefined = true, the default.
   */
  noNewPrivileges?: boolean;
  limits: Limits;
  restart: RestartPolicy;
  /** Microseconds (RestartSec=). */
  restartSec?: bigint;
  /** Microseconds (TimeoutStopSec=). */
  stopTimeout?: bigint;
  /** Names of members this one starts after. */
  after: string[];
}
