/**
 * OCI runtime configs (runtime-spec 1.0.2, as runc 1.1 and crun 1.8 read it) for the runtime
 * sandbox and for members with their own root file system.
 */
import { SERVICE_PATH } from "./hostfacts.ts";
import { type IdRange, ociMappings } from "./userns.ts";

export const OCI_VERSION = "1.0.2";

/** Where catatonit is bind-mounted as the init of a member with its own PID namespace. */
export const MEMBER_INIT_PATH = "/dev/.podunit-init";

/** Where catatonit is bind-mounted in the sandbox's rootfs. */
export const SANDBOX_INIT_PATH = "/catatonit";



export type OciNamespaceType = "pid" | "network" | "ipc" | "uts" | "mount" | "user";

export interface OciNamespace {
  type: OciNamespaceType;
  /** Join the namespace at this path instead of creating one. */
  path?: string;
}

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

const STANDARD_MOUNTS: OciMount[] = [
  { destination: "/proc", type: "proc", source: "proc", options: [] },
  { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
  {
    destination: "/dev/pts",
    type: "devpts",
    source: "devpts",
    options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
  },
  { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
  { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
  { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
];

const MASKED_PATHS = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/sys/firmware",
  "/proc/scsi",
  "/sys/devices/virtual/tpm",
];

const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

function initBind(source: string, destination: string): OciMount {
  return { destination, type: "bind", source, options: ["bind", "ro", "nosuid", "nodev"] };
}

/**
 * `linux`: with a range, the container is in a user namespace (made by the
 * sandbox, joined by path by members) whose ID maps the config names in both
 * cases: runc 1.1 wants them also for a namespace it joins.
 */
function linux(cgroupsPath: string, namespaces: OciNamespace[], seccomp?: object, userns?: IdRange) {
  return {
    cgroupsPath,
    namespaces,
    ...(userns ? { uidMappings: ociMappings(userns), gidMappings: ociMappings(userns) } : {}),
    resources: { devices: [{ allow: false, access: "rwm" }] },
    maskedPaths: MASKED_PATHS,
    readonlyPaths: READONLY_PATHS,
    ...(seccomp !== undefined ? { seccomp } : {}),
  };
}

/** The sandbox: catatonit as a pause process without capabilities, in fresh namespaces, on an empty read-only rootfs. */
export function sandboxConfig(o: {
  rootfs: string;
  catatonit: string;
  /** Set only when the pod shares its UTS namespace. */
  hostname?: string;
  namespaces: OciNamespace[];
  cgroupsPath: string;
  userns?: IdRange;
}): object {
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: [SANDBOX_INIT_PATH, "-P"],
      env: [`PATH=${SERVICE_PATH}`],
      cwd: "/",
      capabilities: { bounding: [], effective: [], permitted: [] },
      noNewPrivileges: true,
    },
    root: { path: o.rootfs, readonly: true },
    ...(o.hostname !== undefined ? { hostname: o.hostname } : {}),
    mounts: [STANDARD_MOUNTS[0]!, STANDARD_MOUNTS[1]!, initBind(o.catatonit, SANDBOX_INIT_PATH)],
    linux: linux(o.cgroupsPath, o.namespaces, undefined, o.userns),
  };
}

/** What a member with its own root runs, as whom, where and in which root: from its spec, or resolved against an image. */
export interface MemberProcess {
  rootfs: string;
  readonly: boolean;
  command: string[];
  env: Record<string, string>;
  cwd?: string;
  uid: number;
  gid: number;
}

/** A member with its own root file system; never sets a hostname (that would rename the pod). */
export function memberConfig(o: MemberProcess & {
  /** False when the spec lets set-user-ID programs raise privileges (within the capabilities below). */
  noNewPrivileges: boolean;
  /** catatonit's host path when the member needs it as PID 1 of its own PID namespace. */
  init?: string;
  namespaces: OciNamespace[];
  cgroupsPath: string;
  /** The member's capabilities (bounding, effective and permitted). */
  capabilities: readonly string[];
  /** runc's `linux.seccomp` (src/plan/seccomp.ts); none when the member is unconfined. */
  seccomp?: object;
  /** Pod volumes, after the standard mounts. */
  volumes?: OciMount[];
  /** The pod's host ids (userns = "auto"). */
  userns?: IdRange;
}): object {
  const env = new Map<string, string>([["PATH", SERVICE_PATH]]);
  for (const [k, v] of Object.entries(o.env)) env.set(k, v);
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: false,
      user: { uid: o.uid, gid: o.gid },
      args: o.init !== undefined ? [MEMBER_INIT_PATH, "--", ...o.command] : o.command,
      env: [...env].map(([k, v]) => `${k}=${v}`),
      cwd: o.cwd ?? "/",
      capabilities: {
        bounding: o.capabilities,
        effective: o.capabilities,
        permitted: o.capabilities,
      },
      noNewPrivileges: o.noNewPrivileges,
    },
    root: { path: o.rootfs, readonly: o.readonly },
    mounts: [...STANDARD_MOUNTS, ...(o.init !== undefined ? [initBind(o.init, MEMBER_INIT_PATH)] : []), ...(o.volumes ?? [])],
    linux: linux(o.cgroupsPath, o.namespaces, o.seccomp, o.userns),
  };
}

/** The text of a config.json. */
export function configJson(config: object): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}
