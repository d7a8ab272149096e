/**
 * Unit state → PodStatus. One ListUnitsByPatterns for the pod's units, then the
 * few properties status shows, all requested at once.
 */
import type { Systemd, UnitListEntry } from "../systemd/bus.ts";
import { isMemberPart, memberOfUnit, memberUnitName, podSliceName, podUnitParts, podUnitPatterns, SANDBOX_PART, sandboxUnitName, unescapeUnitName } from "../systemd/unitname.ts";
import { formatUsec } from "../systemd/properties.ts";
import type { HealthState, HealthStatus } from "./health.ts";
import { mark } from "../trace.ts";

const NO_VALUE = 0xffffffffffffffffn;

export type PodState = "running" | "degraded" | "starting" | "stopping" | "stopped";

export interface UnitStatus {
  /** Member name; "sandbox" for the sandbox. */
  name: string;
  unit: string;
  /** systemd's ActiveState ("active", "failed", ...), or "not-loaded" when systemd does not know the unit. */
  state: string;
  subState: string;
  /** The unit's Result ("success", "exit-code", "signal", "oom-kill", ...). */
  result?: string;
  mainPid?: number;
  memoryBytes?: bigint;
  restarts?: number;
  /** When the unit entered its current state. */
  since?: Date;
  /** Exit status of the main process's last run ("exited 1", "killed by signal 9"). */
  lastExit?: string;
  /** Failed because systemd's start limit stopped restarting it (StartLimitBurst= starts within StartLimitIntervalSec=). */
  startLimitHit?: boolean;
  /** The start limit, as "5 starts within 10s", when it was hit. */
  startLimit?: string;
  /** What the member's health checks found; absent for a member without a check or a pod not running. */
  health?: MemberHealth;
  /** The OCI runtime of the unit's container (crun, runc), from the plan the pod runs from; absent for a unit without one. */
  runtime?: string;
}

/** A member's health as `status` shows it (from its checks' state file, src/status/health.ts). */
export interface MemberHealth {
  status: HealthStatus;
  /** Failed checks in a row. */
  failures: number;
  lastCheck?: Date;
  lastFailure?: { at: Date; output: string };
}

/** The health part of a member's status, from its state file. */
export function memberHealth(s: HealthState): MemberHealth {
  return {
    status: s.status,
    failures: s.failures,
    ...(s.lastCheck !== undefined ? { lastCheck: new Date(s.lastCheck) } : {}),
    ...(s.lastFailure ? { lastFailure: { at: new Date(s.lastFailure.at), output: s.lastFailure.output } } : {}),
  };
}

export interface PodStatus {
  pod: string;
  state: PodState;
  slice: string;
  memoryBytes?: bigint;
  sandbox: UnitStatus;
  members: UnitStatus[];
  /** Things wrong with the pod that its units' states do not show (empty when there are none). */
  problems: string[];
  /**
   * A bridged pod's addresses and published ports (`HOST_IP:PORT->POD_PORT/PROTO`), while its network is set up;
   * `machine`: "registered" with systemd-machined, or why it is not.
   */
  network?: { addresses: string[]; ports: string[]; machine?: string };
  /** userns = "auto": the host ids the pod holds (`start` … `start + size - 1`, seen as 0 … size - 1 inside). */
  userns?: { start: number; size: number };
}

function num(v: unknown): bigint | undefined {
  if (typeof v !== "bigint" && typeof v !== "number") return undefined;
  const b = BigInt(v);
  return b === NO_VALUE ? undefined : b;
}

function timestamp(v: unknown): Date | undefined {
  const us = num(v);
  return us === undefined || us === 0n ? undefined : new Date(Number(us / 1000n));
}

async function unitStatus(sd: Systemd, name: string, entry: UnitListEntry | undefined): Promise<UnitStatus> {
  const unit = entry?.name ?? "";
  if (!entry) return { name, unit, state: "not-loaded", subState: "dead" };
  const [u, s] = await Promise.all([
    sd.getProperties(entry.path, "Unit", ["StateChangeTimestamp", "StartLimitBurst", "StartLimitIntervalUSec"]),
    sd.getProperties(entry.path, "Service", ["MainPID", "MemoryCurrent", "NRestarts", "Result", "ExecMainCode", "ExecMainStatus", "Restart"]),
  ]);
  const code = Number(s.ExecMainCode ?? 0);
  const status = Number(s.ExecMainStatus ?? 0);
  // ExecMainCode is a CLD_* code: 1 exited, 2 killed, 3 dumped core.
  const lastExit = code === 1 ? `exited ${status}` : code === 2 || code === 3 ? `killed by signal ${status}` : undefined;
  const pid = Number(s.MainPID ?? 0);
  const limit = startLimit(entry.activeState, s, u);
  return {
    name,
    unit,
    state: entry.activeState,
    subState: entry.subState,
    result: s.Result as string | undefined,
    mainPid: pid > 0 ? pid : undefined,
    memoryBytes: num(s.MemoryCurrent),
    restarts: s.NRestarts === undefined ? undefined : Number(s.NRestarts),
    since: timestamp(u.StateChangeTimestamp),
    lastExit,
    ...(limit ? { startLimitHit: true, startLimit: limit } : {}),
  };
}

/**
 * The start limit a failed unit hit, or undefined. systemd 252 keeps the result of
 * the last run ("signal") when it refuses a restart for the start limit; later
 * versions say "start-limit-hit". A unit whose restart policy applies to its
 * result and that was restarted as often as the limit allows was stopped by it.
 */
function startLimit(state: string, s: Record<string, unknown>, u: Record<string, unknown>): string | undefined {
  if (state !== "failed") return undefined;
  const burst = Number(u.StartLimitBurst ?? 0);
  const result = String(s.Result ?? "");
  const restart = String(s.Restart ?? "no");
  const applies = restart === "always" || (restart === "on-failure" && result !== "success");
  const hit = result === "start-limit-hit" || (applies && burst > 0 && Number(s.NRestarts ?? 0) >= burst);
  if (!hit) return undefined;
  const interval = num(u.StartLimitIntervalUSec);
  return `${burst} starts within ${interval === undefined ? "no time limit" : formatUsec(interval)}`;
}

/**
 * The status of one pod. `expectedMembers` (from the spec, when there is one) lists
 * members that should exist even if systemd has already forgotten their units.
 */
export async function podStatus(sd: Systemd, pod: string, expectedMembers: string[] = []): Promise<PodStatus> {
  const slice = podSliceName(pod);
  const entries = await sd.listUnits(podUnitPatterns(pod));
  const byName = new Map(entries.map((e) => [e.name, e]));
  const sliceEntry = byName.get(slice);

  const sandboxUnit = sandboxUnitName(pod);
  const memberUnits = new Map<string, string>();
  for (const m of expectedMembers) memberUnits.set(m, memberUnitName(pod, m));
  for (const e of entries) {
    const m = memberOfUnit(pod, e.name);
    if (m !== null && e.name !== sandboxUnit && !memberUnits.has(m)) memberUnits.set(m, e.name);
  }

  const [sliceProps, sandbox, ...members] = await Promise.all([
    sliceEntry ? sd.getProperties(sliceEntry.path, "Slice", ["MemoryCurrent"]) : Promise.resolve({} as Record<string, unknown>),
    unitStatus(sd, "sandbox", byName.get(sandboxUnit)),
    ...[...memberUnits].map(([m, u]) => unitStatus(sd, m, byName.get(u))),
  ]);
  for (const s of [sandbox, ...members]) if (!s.unit) s.unit = s.name === "sandbox" ? sandboxUnit : memberUnits.get(s.name)!;

  return {
    pod,
    state: podState(sliceEntry?.activeState, [sandbox, ...members].map((u) => u.state)),
    slice,
    memoryBytes: num(sliceProps.MemoryCurrent),
    sandbox,
    members,
    problems: [],
  };
}

/**
 * What is wrong with a pod whose sandbox runs but whose pins lead nowhere (its run
 * directory removed behind podunit's back): members that restart cannot join it.
 * `pins` are the paths the plan expects, `live` tells whether one leads to a namespace.
 */
export function pinProblems(s: PodStatus, pins: string[], live: (pin: string) => boolean): string[] {
  if (s.sandbox.state !== "active") return [];
  const gone = pins.filter((p) => !live(p));
  if (gone.length === 0) return [];
  return [
    `the pins of its namespaces are gone (${gone.map((p) => `'${p}'`).join(", ")}): a member that restarts cannot join the pod; ` +
      `run 'podunit restart ${s.pod}' to start it afresh`,
  ];
}

/**
 * A pod's state from its slice's ActiveState (undefined when not loaded) and the
 * ActiveStates of its sandbox and members ("not-loaded" for a unit systemd does
 * not have). The one rule `status`, `list` and their JSON use.
 */
export function podState(slice: string | undefined, units: string[]): PodState {
  if (slice === undefined || slice === "inactive" || units.every((u) => u === "inactive" || u === "not-loaded")) return "stopped";
  if (units.some((u) => u === "deactivating")) return "stopping";
  if (units.some((u) => u === "activating" || u === "reloading")) return "starting";
  return units.every((u) => u === "active") ? "running" : "degraded";
}

/** One pod as `podunit list` shows it. */
export interface PodSummary {
  pod: string;
  state: PodState;
  /** Member units active, and loaded. */
  active: number;
  members: number;
}

/** Every pod that has units loaded, with its state, in name order. */
export async function podSummaries(sd: Systemd): Promise<PodSummary[]> {
  // One pass over the units (4,000 with 1,000 pods): each lands in its pod's slot by name alone.
  const pods = new Map<string, { slice?: string; sandbox?: string; members: string[] }>();
  const units = await sd.listUnits(["podunit-*"]);
  mark(`${units.length} units listed`);
  for (const u of units) {
    const parts = podUnitParts(u.name);
    if (parts === null) continue;
    let p = pods.get(parts.pod);
    if (!p) pods.set(parts.pod, (p = { members: [] }));
    if (parts.rest === null) p.slice = u.activeState;
    else if (parts.rest === SANDBOX_PART) p.sandbox = u.activeState;
    else if (isMemberPart(parts.rest)) p.members.push(u.activeState);
  }
  const out: PodSummary[] = [];
  for (const [escaped, p] of pods) {
    out.push({
      pod: unescapeUnitName(escaped),
      state: podState(p.slice, [p.sandbox ?? "not-loaded", ...p.members]),
      active: p.members.filter((s) => s === "active").length,
      members: p.members.length,
    });
  }
  return out.sort((a, b) => byName(a.pod, b.pod));
}

/** Name order (by code point, the same in every locale): how `list` sorts pods. */
export function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
