/**
 * The one table of unit properties podunit sets. Each entry ties a D-Bus
 * property (name, signature, encoder) to its unit-file form (section, key,
 * renderer) and the systemd version that first understood it, so transient
 * units and rendered unit files come from the same plan and cannot drift.
 *
 * An entry names only its section and value kind; the D-Bus name is the entry's
 * key, and the kind gives the signature, encoder, renderer and unit-file key.
 * What does not follow from those (a spec key, a later systemd version, a
 * unit-file key that is no rule's: `CPUQuotaPerSecUSec` is `CPUQuota=`) the
 * entry spells out.
 */
import type { DbusProperty } from "./types.ts";
import { plainValue, quoteExecPath, quoteWord } from "./quote.ts";
import { capabilityMask, ERRNOS, knownSignal, namespaceNames, signalNumber } from "./numbers.ts";

export { CAPABILITIES, SIGNALS } from "./numbers.ts";
import { LOG_LEVELS, type BindPath, type ExecCommand, type ExitStatusSet, type LogLevel, type PropertyKey, type PropertyValues, type SyscallFilter, type UnitProperty } from "./propvalues.ts";

export { LOG_LEVELS } from "./propvalues.ts";
export type { ExecFlag, ExecCommand, BindPath, ExitStatusSet, SyscallFilter, ServiceType, KillMode, CollectMode, LogLevel, PropertyValues, PropertyKey, UnitProperty } from "./propvalues.ts";


/** Where the unit-file key lives: [Unit], [Service], or the unit type's own section for resource control. */
export type Section = "Unit" | "Service" | "Resource" | "Timer";

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
  /** Later minimums for single values (`Type=exec` came with 240). */
  sinceFor?: Readonly<Record<string, number>>;
  /**
   * Set on a running unit without a restart (SetUnitProperties); `unset` is the value
   * that removes it. Undefined: a change needs the unit started again.
   */
  live?: { unset: PropertyValues[K] };
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




/** One Exec line: `-` (ignore failure) and `:` (no env expansion) prefixes, `@` when argv[0] differs. */
export function renderExec(c: ExecCommand): string {
  const prefix =
    (c.flags.includes("ignore-failure") ? "-" : "") + (c.flags.includes("no-env-expand") ? ":" : "") + (c.flags.includes("privileged") ? "+" : "");
  const [argv0, ...rest] = c.argv;
  const head = argv0 === c.path ? quoteExecPath(c.path) : `@${quoteExecPath(c.path)} ${quoteWord(argv0 ?? "")}`;
  return [prefix + head, ...rest.map(quoteWord)].join(" ");
}

/**
 * A value kind: the D-Bus signature, encoder and unit-file writer that every
 * property holding such a value shares, and, where systemd names the two forms
 * of the property by a rule, the unit-file key it derives from the D-Bus name.
 */
interface Kind<V> {
  signature: string;
  encode(v: V): unknown;
  render(v: V): string[];
  unitKey?(dbus: string): string;
  /** First systemd version for every property of the kind, when the value form itself came after 205. */
  since?: number;
  /** The value that means "not set" (a limit removed), for kinds that have one (a V; typed loosely so choices stay assignable). */
  unset?: unknown;
}

/** A string written as it is (the value comes from a fixed set of words). */
const choice: Kind<string> = { signature: "s", encode: (v) => v, render: (v) => [v] };
/** A string that may hold anything, `%` included. */
const text: Kind<string> = { signature: "s", encode: (v) => v, render: (v) => [plainValue(v)] };
/** Names (units, directories) on one line; an empty list writes nothing. */
const names: Kind<string[]> = { signature: "as", encode: (v) => v, render: (v) => (v.length ? [v.map(plainValue).join(" ")] : []) };
/** `NAME=value` assignments, one line each, so each keeps its own quoting. */
const assignments: Kind<string[]> = { signature: "as", encode: (v) => v, render: (v) => v.map(quoteWord) };
/** `FIELD=value` journal fields: systemd takes them as byte arrays (a field may hold binary data); in files like assignments. */
const fields: Kind<string[]> = { signature: "aay", encode: (v) => v.map((s) => Buffer.from(s, "utf8")), render: (v) => v.map(quoteWord) };
const bool: Kind<boolean> = { signature: "b", encode: (v) => v, render: (v) => [v ? "yes" : "no"] };
/** A count or size where 2^64-1 means no limit. */
const limit: Kind<bigint> = { signature: "t", encode: (v) => v, render: (v) => [formatLimit(v)], unset: UINT64_MAX };
/** Microseconds; systemd names the D-Bus form `...USec` and the unit-file key `...Sec`. */
const usec: Kind<bigint> = { signature: "t", encode: (v) => v, render: (v) => [formatUsec(v)], unitKey: (d) => d.replace(/USec$/, "Sec") };
const cpuQuota: Kind<bigint> = { signature: "t", encode: (v) => v, render: (v) => [formatCpuQuota(v)], unset: UINT64_MAX };
/**
 * Commands with flags: the `Ex` D-Bus form (243) is the one that carries
 * `no-env-expand`; the unit-file key is the name without `Ex`.
 */
const commands: Kind<ExecCommand[]> = {
  signature: "a(sasas)",
  encode: (v) => v.map((c) => [c.path, c.argv, c.flags]),
  render: (v) => v.map(renderExec),
  unitKey: (d) => d.replace(/Ex$/, ""),
  since: 243,
};
const exitStatus: Kind<ExitStatusSet> = {
  signature: "(aiai)",
  encode: (v) => [v.statuses, v.signals.map(signalNumber)],
  render: (v) => [[...v.statuses.map(String), ...v.signals.map(knownSignal)].join(" ")],
};
/** A signal by name; on D-Bus as its number. */
const signal: Kind<string> = { signature: "i", encode: signalNumber, render: (v) => [knownSignal(v)] };
/** A syslog level by name; on D-Bus as its number. */
const logLevel: Kind<LogLevel> = { signature: "i", encode: (v) => LOG_LEVELS.indexOf(v), render: (v) => [v] };
/** Capability names; on D-Bus as the kernel's bit mask. */
const capabilities: Kind<string[]> = { signature: "t", encode: capabilityMask, render: (v) => (v.length ? [v.join(" ")] : []) };

/** A system call filter: `~` before the names of a deny list. */
const syscallFilter: Kind<SyscallFilter> = {
  signature: "(bas)",
  encode: (v) => [v.allow, v.syscalls],
  render: (v) => [`${v.allow ? "" : "~"}${v.syscalls.join(" ")}`],
};
/** An errno; on D-Bus as its number, in files by name. */
const errno: Kind<number> = { signature: "i", encode: (v) => v, render: (v) => [ERRNOS[v] ?? String(v)] };
/** Namespace flags; in files as the names of the namespaces allowed. */
const namespaceSet: Kind<bigint> = { signature: "t", encode: (v) => v, render: (v) => [namespaceNames(v).join(" ") || "yes"] };
/** MS_REC: a recursive bind (`rbind`, systemd's default in unit files). */
const MS_REC = 16384n;
/** Bind mounts: `SOURCE:DEST[:norbind]` words, each path quoted on its own (":" separates them, so paths hold none). */
const bindPaths: Kind<BindPath[]> = {
  signature: "a(ssbt)",
  encode: (v) => v.map((b) => [b.source, b.destination, false, b.recursive ? MS_REC : 0n]),
  render: (v) => (v.length ? [v.map((b) => `${quoteWord(b.source)}:${quoteWord(b.destination)}${b.recursive ? "" : ":norbind"}`).join(" ")] : []),
  since: 233,
};

/** What an entry spells out only where it differs from the defaults. */
interface Exceptions {
  /** Spec keys that feed the property; none when podunit sets it on its own. */
  spec?: string;
  /** First systemd version, when later than the kind's (or 205, the first with transient units). */
  since?: number;
  /** Later minimums for single values. */
  sinceFor?: Readonly<Record<string, number>>;
  /** Unit-file key, when neither the D-Bus name nor the kind's rule gives it. */
  unitKey?: string;
  /** systemd changes it on a running unit (SetUnitProperties) without restarting anything. */
  live?: boolean;
}

type Entry<V> = readonly [Section, Kind<V>, Exceptions?];

/** The table, in the order keys are written into unit files: section, value kind, exceptions. */
const ENTRIES: { [K in PropertyKey]: Entry<PropertyValues[K]> } = {
  Description: ["Unit", text],
  After: ["Unit", names, { spec: "after" }],
  Requires: ["Unit", names],
  BindsTo: ["Unit", names],
  Wants: ["Unit", names],
  PartOf: ["Unit", names],
  CollectMode: ["Unit", choice, { since: 236 }],
  Slice: ["Resource", text],
  MemoryMax: ["Resource", limit, { spec: "memory_max", since: 231, live: true }],
  CPUQuotaPerSecUSec: ["Resource", cpuQuota, { spec: "cpu_quota", since: 213, unitKey: "CPUQuota", live: true }],
  TasksMax: ["Resource", limit, { spec: "tasks_max", since: 227, live: true }],
  Delegate: ["Resource", bool, { spec: "rootfs", since: 218 }],
  Type: ["Service", choice, { sinceFor: { exec: 240 } }],
  RemainAfterExit: ["Service", bool],
  PIDFile: ["Service", text],
  RuntimeDirectory: ["Service", names, { since: 211 }],
  ExecStartPreEx: ["Service", commands],
  ExecStartEx: ["Service", commands, { spec: "command" }],
  ExecStartPostEx: ["Service", commands],
  ExecStopPostEx: ["Service", commands],
  Restart: ["Service", choice, { spec: "restart" }],
  RestartUSec: ["Service", usec, { spec: "restart_sec" }],
  TimeoutStopUSec: ["Service", usec, { spec: "stop_timeout" }],
  TimeoutStartUSec: ["Service", usec, { spec: "health.startup_timeout" }],
  SuccessExitStatus: ["Service", exitStatus],
  KillMode: ["Service", choice],
  KillSignal: ["Service", signal, { spec: "image" }],
  Environment: ["Service", assignments, { spec: "env" }],
  WorkingDirectory: ["Service", text, { spec: "workdir" }],
  User: ["Service", text, { spec: "user" }],
  Group: ["Service", text, { spec: "user" }],
  AmbientCapabilities: ["Service", capabilities, { spec: "user", since: 229 }],
  NoNewPrivileges: ["Service", bool, { spec: "no_new_privileges" }],
  SystemCallFilter: ["Service", syscallFilter, { spec: "seccomp", since: 235 }],
  SystemCallArchitectures: ["Service", names, { spec: "seccomp", since: 235 }],
  SystemCallErrorNumber: ["Service", errno, { spec: "seccomp", since: 235 }],
  RestrictNamespaces: ["Service", namespaceSet, { spec: "seccomp", since: 235 }],
  NetworkNamespacePath: ["Service", text, { since: 242 }],
  IPCNamespacePath: ["Service", text, { since: 248 }],
  StandardOutput: ["Service", choice],
  StandardError: ["Service", choice],
  SyslogIdentifier: ["Service", text],
  LogExtraFields: ["Service", fields, { since: 236 }],
  BindPaths: ["Service", bindPaths, { spec: "mounts" }],
  BindReadOnlyPaths: ["Service", bindPaths, { spec: "mounts" }],
  SyslogLevel: ["Service", logLevel],
  LogLevelMax: ["Service", logLevel, { since: 236 }],
  OnActiveSec: ["Timer", usec, { spec: "health.interval" }],
  OnUnitActiveSec: ["Timer", usec, { spec: "health.interval" }],
  AccuracyUSec: ["Timer", usec, { spec: "health.interval" }],
};

/** systemd 205 brought transient units: a property without a later version has always been there. */
const FIRST_VERSION = 205;

function define<K extends PropertyKey>(dbus: K, [section, kind, x = {}]: Entry<PropertyValues[K]>): PropertyDef<K> {
  return {
    dbus,
    signature: kind.signature,
    section,
    unitKey: x.unitKey ?? kind.unitKey?.(dbus) ?? dbus,
    spec: x.spec ?? "",
    since: x.since ?? kind.since ?? FIRST_VERSION,
    sinceFor: x.sinceFor,
    ...(x.live ? { live: { unset: liveUnset(dbus, kind) } } : {}),
    encode: kind.encode,
    render: kind.render,
  };
}

function liveUnset<V>(dbus: string, kind: Kind<V>): V {
  if (kind.unset === undefined) throw new Error(`Property '${dbus}' is marked live, but its kind has no value that unsets it`);
  return kind.unset as V;
}

type Table = { [K in PropertyKey]: PropertyDef<K> };

/** Every entry with its defaults filled in, in table order. */
export const PROPERTIES: Table = Object.fromEntries(
  (Object.keys(ENTRIES) as PropertyKey[]).map((k) => [k, define(k, ENTRIES[k] as Entry<PropertyValues[typeof k]>)]),
) as Table;

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
  const forValue = typeof p.value === "string" ? def.sinceFor?.[p.value] : undefined;
  return Math.max(def.since, forValue ?? 0);
}

/** Whether systemd changes the property on a running unit without restarting it. */
export function isLiveProperty(key: PropertyKey): boolean {
  return propertyDef(key).live !== undefined;
}

/** The property that removes a live property from a running unit (a limit back to none). */
export function unsetProperty(key: PropertyKey): UnitProperty {
  const live = (propertyDef(key) as PropertyDef<PropertyKey>).live;
  if (!live) throw new Error(`Property '${key}' cannot be changed on a running unit`);
  return { key, value: live.unset } as UnitProperty;
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
    const notes = Object.entries(d.sinceFor ?? {}).map(([v, n]) => `\`${v}\`: ${n}`);
    const since = notes.length ? `${d.since} (${notes.join(", ")})` : String(d.since);
    return `| ${d.spec ? `\`${d.spec}\`` : "—"} | \`${d.dbus}\` (\`${d.signature}\`) | \`${sectionName(d.section)} ${d.unitKey}=\` | ${since} |`;
  });
  return ["| spec key | D-Bus property (signature) | unit-file key | systemd ≥ |", "| --- | --- | --- | --- |", ...rows].join("\n");
}
