/**
 * The model values of the property table (src/systemd/properties.ts): what
 * each property takes in a plan, before it is encoded for D-Bus or rendered
 * into a unit file.
 */

/** Flags of an `a(sasas)` command, as systemd names them on D-Bus. */
/** `privileged` (`+` in unit files): the command runs without the unit's User=, capability and sandbox settings. */
export type ExecFlag = "ignore-failure" | "no-env-expand" | "privileged";

/** One command of ExecStart= and friends: binary, full argv (argv[0] included), flags. */
export interface ExecCommand {
  path: string;
  argv: string[];
  flags: ExecFlag[];
}

/** One bind mount of BindPaths=/BindReadOnlyPaths=: a host path, where the unit sees it, and whether mounts below it come along. */
export interface BindPath {
  source: string;
  destination: string;
  recursive: boolean;
}

/** Exit statuses and signal names a service counts as success. */
export interface ExitStatusSet {
  statuses: number[];
  signals: string[];
}

/** SystemCallFilter=: a list of system calls, refused or the only ones allowed. */
export interface SyscallFilter {
  allow: boolean;
  syscalls: string[];
}

export type ServiceType = "simple" | "exec" | "forking" | "oneshot" | "notify";
export type KillMode = "control-group" | "mixed" | "process" | "none";
export type CollectMode = "inactive" | "inactive-or-failed";
/** syslog priorities by name, as systemd writes them. */
export const LOG_LEVELS = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The model value each property takes in a plan (table key = D-Bus property name). */
export interface PropertyValues {
  Description: string;
  After: string[];
  Requires: string[];
  BindsTo: string[];
  Wants: string[];
  /** Stop and restart of the listed units reach this one too (unit files only: the pod's slice is part of its target). */
  PartOf: string[];
  CollectMode: CollectMode;
  Slice: string;
  /** Bytes. */
  MemoryMax: bigint;
  /** Microseconds of CPU time per second of wall time (150% = 1500000). */
  CPUQuotaPerSecUSec: bigint;
  TasksMax: bigint;
  Delegate: boolean;
  Type: ServiceType;
  RemainAfterExit: boolean;
  PIDFile: string;
  /** Directories below /run that systemd creates before the unit starts and removes after it stops. */
  RuntimeDirectory: string[];
  ExecStartPreEx: ExecCommand[];
  ExecStartEx: ExecCommand[];
  ExecStartPostEx: ExecCommand[];
  ExecStopPostEx: ExecCommand[];
  Restart: "no" | "on-success" | "on-failure" | "on-abnormal" | "on-watchdog" | "on-abort" | "always";
  /** Microseconds. */
  RestartUSec: bigint;
  /** Microseconds. */
  TimeoutStopUSec: bigint;
  /** Microseconds: how long the whole start (ExecStartPre to ExecStartPost) may take. */
  TimeoutStartUSec: bigint;
  SuccessExitStatus: ExitStatusSet;
  KillMode: KillMode;
  /** A signal name (`SIGQUIT`): what a stop sends first. */
  KillSignal: string;
  /** `NAME=value` assignments. */
  Environment: string[];
  WorkingDirectory: string;
  User: string;
  Group: string;
  /** Capability names (`CAP_SYS_ADMIN`) kept across the switch to User=. */
  AmbientCapabilities: string[];
  NoNewPrivileges: boolean;
  /** System calls refused (`allow: false`) or the only ones allowed, by name. */
  SystemCallFilter: SyscallFilter;
  /** `native`, or architecture names. */
  SystemCallArchitectures: string[];
  /** The errno a refused system call returns (1 = EPERM). */
  SystemCallErrorNumber: number;
  /** CLONE_NEW* flags of the namespaces the unit's processes may create or enter. */
  RestrictNamespaces: bigint;
  NetworkNamespacePath: string;
  IPCNamespacePath: string;
  StandardOutput: string;
  StandardError: string;
  SyslogIdentifier: string;
  /** `FIELD=value` journal fields. */
  LogExtraFields: string[];
  /** Bind mounts in the unit's own mount namespace (pod volumes of a member on the host's file system). */
  BindPaths: BindPath[];
  /** The same, read-only, mounts below each bind included. */
  BindReadOnlyPaths: BindPath[];
  /** The priority of the lines the unit's processes write (a syslog level name). */
  SyslogLevel: LogLevel;
  /** Lines above this priority are dropped, systemd's own about the unit ("Starting ...") too. */
  LogLevelMax: LogLevel;
  /** Timers: microseconds after the timer started that it first elapses. */
  OnActiveSec: bigint;
  /** Timers: microseconds after the unit it starts was last started that it elapses again. */
  OnUnitActiveSec: bigint;
  /** Timers: how late systemd may fire it, to wake up fewer times (microseconds). */
  AccuracyUSec: bigint;
}

export type PropertyKey = keyof PropertyValues;

/** A property in a plan: a table key and its model value. */
export type UnitProperty = { [K in PropertyKey]: { key: K; value: PropertyValues[K] } }[PropertyKey];
