/**
 * The one table of unit properties podunit sets. Each entry ties a D-Bus
 * property (name, signature, encoder) to its unit-file form (section, key,
 * renderer) and the systemd version that first understood it, so transient
 * units and rendered unit files come from the same plan and cannot drift.
 */
import type { DbusProperty } from "./types.ts";
import { plainValue, quoteExecPath, quoteWord } from "./quote.ts";

/** Flags of an `a(sasas)` command, as systemd names them on D-Bus. */
export type ExecFlag = "ignore-failure" | "no-env-expand";

/** One command of ExecStart= and friends: binary, full argv (argv[0] included), flags. */
export interface ExecCommand {
  path: string;
  argv: string[];
  flags: ExecFlag[];
}

/** Exit statuses and signal names a service counts as success. */
export interface ExitStatusSet {
  statuses: number[];
  signals: string[];
}

export type ServiceType = "simple" | "exec" | "forking" | "oneshot" | "notify";
export type KillMode = "control-group" | "mixed" | "process" | "none";
export type CollectMode = "inactive" | "inactive-or-failed";

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
  SuccessExitStatus: ExitStatusSet;
  KillMode: KillMode;
  /** `NAME=value` assignments. */
  Environment: string[];
  WorkingDirectory: string;
  User: string;
  Group: string;
  /** Capability names (`CAP_SYS_ADMIN`) kept across the switch to User=. */
  AmbientCapabilities: string[];
  NoNewPrivileges: boolean;
  NetworkNamespacePath: string;
  IPCNamespacePath: string;
  StandardOutput: string;
  StandardError: string;
  SyslogIdentifier: string;
  /** `FIELD=value` journal fields. */
  LogExtraFields: string[];
}

export type PropertyKey = keyof PropertyValues;

/** A property in a plan: a table key and its model value. */
export type UnitProperty = { [K in PropertyKey]: { key: K; value: PropertyValues[K] } }[PropertyKey];

/** Where the unit-file key lives: [Unit], [Service], or the unit type's own section for resource control. */
export type Section = "Unit" | "Service" | "Resource";

export interface PropertyDef<K extends PropertyKey> {
  /** D-Bus property name (also the table key). */
  dbus: K;
  signature: string;
  section: Section;
  /** Unit-file key, without `=`. */
  unitKey: string;
  /** Spec keys that feed this property ("" when podunit sets it on its own). */
  spec: string;
  /** First systemd version that accepts the property in unit files and for transient units. */
  since: number;
  /** A later minimum for some values (e.g. Type=exec), and how the docs say so. */
  sinceFor?: (v: PropertyValues[K]) => number;
  sinceNote?: string;
  /** The JavaScript value src/systemd/dbus/marshal.ts writes for `signature`. */
  encode(v: PropertyValues[K]): unknown;
  /** Unit-file values, one per line (an empty list writes nothing). */
  render(v: PropertyValues[K]): string[];
}

export const UINT64_MAX = 0xffffffffffffffffn;

const SPAN_UNITS: Array<[string, bigint]> = [
  ["h", 3_600_000_000n],
  ["min", 60_000_000n],
  ["s", 1_000_000n],
  ["ms", 1_000n],
  ["us", 1n],
];

/** Microseconds as a systemd time span: `90s` as `1min 30s`, `500ms`, `1h 2min 3s 4ms 5us`, `infinity`. */
export function formatUsec(us: bigint): string {
  if (us === UINT64_MAX) return "infinity";
  if (us === 0n) return "0";
  const parts: string[] = [];
  let left = us;
  for (const [name, size] of SPAN_UNITS) {
    if (left >= size) {
      parts.push(`${left / size}${name}`);
      left %= size;
    }
  }
  return parts.join(" ");
}

/** A `t` limit as systemd writes it: a plain number, or `infinity`. */
export function formatLimit(n: bigint): string {
  return n === UINT64_MAX ? "infinity" : n.toString();
}

/** CPU time per second as CPUQuota= wants it: a percentage with at most two decimals. */
export function formatCpuQuota(usecPerSec: bigint): string {
  if (usecPerSec === UINT64_MAX) return "";
  const permyriad = (usecPerSec + 50n) / 100n;
  const whole = permyriad / 100n;
  const frac = permyriad % 100n;
  return frac === 0n ? `${whole}%` : `${whole}.${frac.toString().padStart(2, "0").replace(/0$/, "")}%`;
}

/** Signal numbers for the names SuccessExitStatus= may carry (Linux, all architectures podunit runs on). */
export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

function signalNumber(name: string): number {
  const n = SIGNALS[name];
  if (n === undefined) throw new Error(`Unknown signal name '${name}'`);
  return n;
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

function capabilityMask(names: string[]): bigint {
  let mask = 0n;
  for (const n of names) {
    const bit = CAPABILITIES[n];
    if (bit === undefined) throw new Error(`Unknown capability name '${n}'`);
    mask |= 1n << BigInt(bit);
  }
  return mask;
}

function knownSignal(name: string): string {
  signalNumber(name);
  return name;
}

/** One Exec line: `-` (ignore failure) and `:` (no env expansion) prefixes, `@` when argv[0] differs. */
export function renderExec(c: ExecCommand): string {
  const prefix = (c.flags.includes("ignore-failure") ? "-" : "") + (c.flags.includes("no-env-expand") ? ":" : "");
  const [argv0, ...rest] = c.argv;
  const head = argv0 === c.path ? quoteExecPath(c.path) : `@${quoteExecPath(c.path)} ${quoteWord(argv0 ?? "")}`;
  return [prefix + head, ...rest.map(quoteWord)].join(" ");
}

const str = (v: string) => v;
const yesNo = (v: boolean) => [v ? "yes" : "no"];
const plain = (v: string) => [plainValue(v)];
const units = (v: string[]) => (v.length ? [v.map(plainValue).join(" ")] : []);
const execs = (v: ExecCommand[]) => v.map((c) => [c.path, c.argv, c.flags]);
const bytes = (v: string[]) => v.map((s) => Buffer.from(s, "utf8"));

type Table = { [K in PropertyKey]: PropertyDef<K> };

const EXEC_SINCE = 243;

/** The table, in the order keys are written into unit files. */
export const PROPERTIES: Table = {
  Description: {
    dbus: "Description", signature: "s", section: "Unit", unitKey: "Description", spec: "", since: 205,
    encode: str, render: plain,
  },
  After: {
    dbus: "After", signature: "as", section: "Unit", unitKey: "After", spec: "after", since: 205,
    encode: (v) => v, render: units,
  },
  Requires: {
    dbus: "Requires", signature: "as", section: "Unit", unitKey: "Requires", spec: "", since: 205,
    encode: (v) => v, render: units,
  },
  BindsTo: {
    dbus: "BindsTo", signature: "as", section: "Unit", unitKey: "BindsTo", spec: "", since: 205,
    encode: (v) => v, render: units,
  },
  Wants: {
    dbus: "Wants", signature: "as", section: "Unit", unitKey: "Wants", spec: "", since: 205,
    encode: (v) => v, render: units,
  },
  PartOf: {
    dbus: "PartOf", signature: "as", section: "Unit", unitKey: "PartOf", spec: "", since: 205,
    encode: (v) => v, render: units,
  },
  CollectMode: {
    dbus: "CollectMode", signature: "s", section: "Unit", unitKey: "CollectMode", spec: "", since: 236,
    encode: str, render: (v) => [v],
  },
  Slice: {
    dbus: "Slice", signature: "s", section: "Resource", unitKey: "Slice", spec: "", since: 205,
    encode: str, render: plain,
  },
  MemoryMax: {
    dbus: "MemoryMax", signature: "t", section: "Resource", unitKey: "MemoryMax", spec: "memory_max", since: 231,
    encode: (v) => v, render: (v) => [formatLimit(v)],
  },
  CPUQuotaPerSecUSec: {
    dbus: "CPUQuotaPerSecUSec", signature: "t", section: "Resource", unitKey: "CPUQuota", spec: "cpu_quota", since: 213,
    encode: (v) => v, render: (v) => [formatCpuQuota(v)],
  },
  TasksMax: {
    dbus: "TasksMax", signature: "t", section: "Resource", unitKey: "TasksMax", spec: "tasks_max", since: 227,
    encode: (v) => v, render: (v) => [formatLimit(v)],
  },
  Delegate: {
    dbus: "Delegate", signature: "b", section: "Resource", unitKey: "Delegate", spec: "rootfs", since: 218,
    encode: (v) => v, render: yesNo,
  },
  Type: {
    dbus: "Type", signature: "s", section: "Service", unitKey: "Type", spec: "", since: 205,
    sinceFor: (v) => (v === "exec" ? 240 : 205), sinceNote: "`exec`: 240",
    encode: str, render: (v) => [v],
  },
  RemainAfterExit: {
    dbus: "RemainAfterExit", signature: "b", section: "Service", unitKey: "RemainAfterExit", spec: "", since: 205,
    encode: (v) => v, render: yesNo,
  },
  PIDFile: {
    dbus: "PIDFile", signature: "s", section: "Service", unitKey: "PIDFile", spec: "", since: 205,
    encode: str, render: plain,
  },
  RuntimeDirectory: {
    dbus: "RuntimeDirectory", signature: "as", section: "Service", unitKey: "RuntimeDirectory", spec: "", since: 211,
    encode: (v) => v, render: units,
  },
  ExecStartPreEx: {
    dbus: "ExecStartPreEx", signature: "a(sasas)", section: "Service", unitKey: "ExecStartPre", spec: "", since: EXEC_SINCE,
    encode: execs, render: (v) => v.map(renderExec),
  },
  ExecStartEx: {
    dbus: "ExecStartEx", signature: "a(sasas)", section: "Service", unitKey: "ExecStart", spec: "command", since: EXEC_SINCE,
    encode: execs, render: (v) => v.map(renderExec),
  },
  ExecStartPostEx: {
    dbus: "ExecStartPostEx", signature: "a(sasas)", section: "Service", unitKey: "ExecStartPost", spec: "", since: EXEC_SINCE,
    encode: execs, render: (v) => v.map(renderExec),
  },
  ExecStopPostEx: {
    dbus: "ExecStopPostEx", signature: "a(sasas)", section: "Service", unitKey: "ExecStopPost", spec: "", since: EXEC_SINCE,
    encode: execs, render: (v) => v.map(renderExec),
  },
  Restart: {
    dbus: "Restart", signature: "s", section: "Service", unitKey: "Restart", spec: "restart", since: 205,
    encode: str, render: (v) => [v],
  },
  RestartUSec: {
    dbus: "RestartUSec", signature: "t", section: "Service", unitKey: "RestartSec", spec: "restart_sec", since: 205,
    encode: (v) => v, render: (v) => [formatUsec(v)],
  },
  TimeoutStopUSec: {
    dbus: "TimeoutStopUSec", signature: "t", section: "Service", unitKey: "TimeoutStopSec", spec: "stop_timeout", since: 205,
    encode: (v) => v, render: (v) => [formatUsec(v)],
  },
  SuccessExitStatus: {
    dbus: "SuccessExitStatus", signature: "(aiai)", section: "Service", unitKey: "SuccessExitStatus", spec: "", since: 205,
    encode: (v) => [v.statuses, v.signals.map(signalNumber)],
    render: (v) => [[...v.statuses.map(String), ...v.signals.map(knownSignal)].join(" ")],
  },
  KillMode: {
    dbus: "KillMode", signature: "s", section: "Service", unitKey: "KillMode", spec: "", since: 205,
    encode: str, render: (v) => [v],
  },
  Environment: {
    dbus: "Environment", signature: "as", section: "Service", unitKey: "Environment", spec: "env", since: 205,
    encode: (v) => v, render: (v) => v.map(quoteWord),
  },
  WorkingDirectory: {
    dbus: "WorkingDirectory", signature: "s", section: "Service", unitKey: "WorkingDirectory", spec: "workdir", since: 205,
    encode: str, render: plain,
  },
  User: {
    dbus: "User", signature: "s", section: "Service", unitKey: "User", spec: "user", since: 205,
    encode: str, render: plain,
  },
  Group: {
    dbus: "Group", signature: "s", section: "Service", unitKey: "Group", spec: "user", since: 205,
    encode: str, render: plain,
  },
  AmbientCapabilities: {
    dbus: "AmbientCapabilities", signature: "t", section: "Service", unitKey: "AmbientCapabilities", spec: "user", since: 229,
    encode: capabilityMask, render: (v) => (v.length ? [v.join(" ")] : []),
  },
  NoNewPrivileges: {
    dbus: "NoNewPrivileges", signature: "b", section: "Service", unitKey: "NoNewPrivileges", spec: "no_new_privileges", since: 205,
    encode: (v) => v, render: yesNo,
  },
  NetworkNamespacePath: {
    dbus: "NetworkNamespacePath", signature: "s", section: "Service", unitKey: "NetworkNamespacePath", spec: "", since: 242,
    encode: str, render: plain,
  },
  IPCNamespacePath: {
    dbus: "IPCNamespacePath", signature: "s", section: "Service", unitKey: "IPCNamespacePath", spec: "", since: 248,
    encode: str, render: plain,
  },
  StandardOutput: {
    dbus: "StandardOutput", signature: "s", section: "Service", unitKey: "StandardOutput", spec: "", since: 205,
    encode: str, render: (v) => [v],
  },
  StandardError: {
    dbus: "StandardError", signature: "s", section: "Service", unitKey: "StandardError", spec: "", since: 205,
    encode: str, render: (v) => [v],
  },
  SyslogIdentifier: {
    dbus: "SyslogIdentifier", signature: "s", section: "Service", unitKey: "SyslogIdentifier", spec: "", since: 205,
    encode: str, render: plain,
  },
  LogExtraFields: {
    dbus: "LogExtraFields", signature: "aay", section: "Service", unitKey: "LogExtraFields", spec: "", since: 236,
    encode: bytes, render: (v) => v.map(quoteWord),
  },
};

/** Table keys in table order (the order of keys in rendered unit files). */
export const PROPERTY_ORDER: readonly PropertyKey[] = Object.keys(PROPERTIES) as PropertyKey[];

/** Looks up the table entry of a property (typed by its key). */
export function propertyDef<K extends PropertyKey>(key: K): PropertyDef<K> {
  return PROPERTIES[key] as PropertyDef<K>;
}

/** The D-Bus form of one plan property. */
export function encodeProperty(p: UnitProperty): DbusProperty {
  const def = propertyDef(p.key) as PropertyDef<PropertyKey>;
  return { name: def.dbus, signature: def.signature, value: def.encode(p.value as never) };
}

/** The unit-file lines of one plan property: `Key=value`, once per value. */
export function renderProperty(p: UnitProperty): string[] {
  const def = propertyDef(p.key) as PropertyDef<PropertyKey>;
  return def.render(p.value as never).map((v) => `${def.unitKey}=${v}`);
}

/** The minimum systemd version one property (with its value) needs. */
export function propertySince(p: UnitProperty): number {
  const def = propertyDef(p.key) as PropertyDef<PropertyKey>;
  return Math.max(def.since, def.sinceFor ? def.sinceFor(p.value as never) : 0);
}

/** The properties of a unit as StartTransientUnit takes them. */
export function toDbus(unit: { properties: readonly UnitProperty[] }): DbusProperty[] {
  return unit.properties.map(encodeProperty);
}

/** Sorts properties into table order (stable for equal keys). */
export function sortProperties(props: readonly UnitProperty[]): UnitProperty[] {
  const rank = (p: UnitProperty) => PROPERTY_ORDER.indexOf(p.key);
  return [...props].sort((a, b) => rank(a) - rank(b));
}

/** The table as Markdown: spec key, D-Bus property, unit-file key, minimum systemd version. */
export function propertyTableMarkdown(): string {
  const sectionName = (s: Section) => (s === "Resource" ? "[Slice]/[Service]" : `[${s}]`);
  const rows = PROPERTY_ORDER.map((k) => {
    const d = propertyDef(k) as PropertyDef<PropertyKey>;
    const since = d.sinceNote ? `${d.since} (${d.sinceNote})` : String(d.since);
    return `| ${d.spec ? `\`${d.spec}\`` : "—"} | \`${d.dbus}\` (\`${d.signature}\`) | \`${sectionName(d.section)} ${d.unitKey}=\` | ${since} |`;
  });
  return ["| spec key | D-Bus property (signature) | unit-file key | systemd ≥ |", "| --- | --- | --- | --- |", ...rows].join("\n");
}
