/**
 * The default seccomp filter of every member: the one list of system calls a
 * member is refused (with EPERM, so a program sees a clear error instead of
 * being killed), and its two forms: the OCI config's `linux.seccomp` (crun and runc) for members with a
 * root of their own, systemd's SystemCallFilter= for members on the host's file
 * system. Pure. docs/security.md explains the list group by group.
 */
import { NAMESPACE_FLAGS } from "../systemd/numbers.ts";
import type { UnitProperty } from "../systemd/properties.ts";

/** One group of refused system calls and why a member has no business making them. */
export interface RefusedGroup {
  why: string;
  syscalls: readonly string[];
}

/**
 * What every member is refused. Everything else is allowed: the filter is a
 * list of refusals on top of the capabilities a member keeps, so ordinary
 * programs (shells, servers, anything that forks and execs) see no difference.
 */
export const REFUSED: readonly RefusedGroup[] = [
  { why: "kernel modules", syscalls: ["init_module", "finit_module", "delete_module", "create_module"] },
  { why: "replacing or stopping the kernel", syscalls: ["kexec_load", "kexec_file_load", "reboot"] },
  { why: "swap", syscalls: ["swapon", "swapoff"] },
  {
    why: "mounts and the root directory",
    syscalls: ["mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr"],
  },
  { why: "kernel keyrings (not namespaced)", syscalls: ["add_key", "request_key", "keyctl"] },
  { why: "BPF programs", syscalls: ["bpf"] },
  { why: "performance events (a side channel into the host)", syscalls: ["perf_event_open"] },
  { why: "userfaultfd (a tool for kernel exploits)", syscalls: ["userfaultfd"] },
  { why: "tracing and reading other processes' memory", syscalls: ["ptrace", "process_vm_readv", "process_vm_writev"] },
  { why: "setting the clock", syscalls: ["settimeofday", "clock_settime", "clock_adjtime"] },
  { why: "raw I/O ports", syscalls: ["ioperm", "iopl"] },
  { why: "opening files by handle (reaches files outside a root)", syscalls: ["open_by_handle_at", "name_to_handle_at"] },
  { why: "process accounting, quotas, obsolete kernel interfaces", syscalls: ["acct", "quotactl", "lookup_dcookie", "nfsservctl", "uselib", "sysfs", "_sysctl", "ustat", "vhangup"] },
];

/** Every refused system call, in the list's order. */
export const REFUSED_SYSCALLS: readonly string[] = REFUSED.flatMap((g) => g.syscalls);

/** clone(2)/unshare(2) flag for a new user namespace. */
export const CLONE_NEWUSER = 0x10000000;

/** The errno a refused call returns. */
export const EPERM = 1;
/** What clone3 returns: its flags sit behind a pointer a filter cannot read, and C libraries fall back to clone on ENOSYS. */
export const ENOSYS = 38;

/** Every namespace but the user namespace: what a member may still create or enter (its capabilities decide the rest). */
export const ALLOWED_NAMESPACES = BigInt(Object.values(NAMESPACE_FLAGS).reduce((a, f) => a | f, 0) & ~CLONE_NEWUSER);

/**
 * The OCI runtimes' form (runtime-spec `linux.seccomp`, read alike by crun and runc): allow by default; refuse the list
 * with EPERM; refuse clone and unshare with CLONE_NEWUSER in their flags; answer
 * clone3 with ENOSYS. No `architectures`: the runtime then builds the filter for the
 * native architecture only, as SystemCallArchitectures=native does.
 */
export function ociSeccomp(): object {
  const newUser = [{ index: 0, value: CLONE_NEWUSER, valueTwo: CLONE_NEWUSER, op: "SCMP_CMP_MASKED_EQ" }];
  return {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [
      { names: [...REFUSED_SYSCALLS], action: "SCMP_ACT_ERRNO", errnoRet: EPERM },
      { names: ["clone", "unshare"], action: "SCMP_ACT_ERRNO", errnoRet: EPERM, args: newUser },
      { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS },
    ],
  };
}

/**
 * systemd's form for a member on the host's file system. systemd applies the
 * filter before it executes ExecStart=, so nsenter and setpriv run under it:
 * setns(2) stays allowed (nsenter joins the pod's namespaces with it; entering
 * a namespace needs CAP_SYS_ADMIN, which setpriv then drops from the member's
 * bounding set), and RestrictNamespaces= refuses new user namespaces through
 * clone and unshare (and answers clone3 with ENOSYS), the two calls whose flags
 * SystemCallFilter= cannot look at.
 */
export function seccompProperties(): UnitProperty[] {
  return [
    { key: "SystemCallFilter", value: { allow: false, syscalls: [...REFUSED_SYSCALLS] } },
    { key: "SystemCallArchitectures", value: ["native"] },
    { key: "SystemCallErrorNumber", value: EPERM },
    { key: "RestrictNamespaces", value: ALLOWED_NAMESPACES },
  ];
}
