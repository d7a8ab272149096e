/** The numbers behind names that properties carry on D-Bus: signals and capabilities (Linux numbering). */

/** Signal numbers for the names SuccessExitStatus= and KillSignal= may carry (Linux, x86 and arm numbering). */
export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

export function signalNumber(name: string): number {
  const n = SIGNALS[name];
  if (n === undefined) throw new Error(`Unknown signal name '${name}'`);
  return n;
}

/** A signal name checked against the table, as unit files write it. */
export function knownSignal(name: string): string {
  signalNumber(name);
  return name;
}

/** Capability numbers for the names AmbientCapabilities= may carry (linux/capability.h). */
export const CAPABILITIES: Readonly<Record<string, number>> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_ADMIN: 12,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_ADMIN: 21,
  CAP_AUDIT_WRITE: 29,
};

export function capabilityMask(names: string[]): bigint {
  let mask = 0n;
  for (const n of names) {
    const bit = CAPABILITIES[n];
    if (bit === undefined) throw new Error(`Unknown capability name '${n}'`);
    mask |= 1n << BigInt(bit);
  }
  return mask;
}

/** The CLONE_NEW* flag of each namespace name RestrictNamespaces= takes, in systemd's order. */
export const NAMESPACE_FLAGS: Readonly<Record<string, number>> = {
  cgroup: 0x02000000,
  ipc: 0x08000000,
  net: 0x40000000,
  mnt: 0x00020000,
  pid: 0x20000000,
  user: 0x10000000,
  uts: 0x04000000,
};

/** The namespace names whose flags are set in `flags`, in systemd's order. */
export function namespaceNames(flags: bigint): string[] {
  return Object.entries(NAMESPACE_FLAGS).filter(([, f]) => (flags & BigInt(f)) !== 0n).map(([n]) => n);
}

/** errno names SystemCallErrorNumber= may carry (Linux numbering). */
export const ERRNOS: Readonly<Record<number, string>> = { 1: "EPERM", 13: "EACCES", 38: "ENOSYS" };
