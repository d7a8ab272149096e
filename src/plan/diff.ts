/**
 * What changes between the plan a pod runs from and a new one, by class: the
 * classes `podunit apply` acts on (docs/apply.md). Pure. The classes come from
 * the plans themselves, unit by unit and property by property, not from spec
 * keys, so a property or a part of the plan added later falls into a class
 * without a list to keep in step:
 * - a property that systemd changes on a running unit (the property table's
 *   `live` entries: limits) is changed live, on the slice or on a member;
 * - any other difference of a member (its unit's properties, its bundle, its
 *   image root, its wait) restarts that member, and the members that Require or
 *   are BindsTo= it;
 * - members only in one plan are started or stopped;
 * - any other difference (the sandbox, the slice beyond its limits, the pins,
 *   the network, the pod's own run files, any other part of the plan) restarts
 *   the whole pod.
 */
import { isLiveProperty, PROPERTY_ORDER, propertyDef, renderProperty, unsetProperty, type PropertyKey, type UnitProperty } from "../systemd/properties.ts";
import { PodLayout } from "./layout.ts";
import { runFilesOf } from "./unitfiles.ts";
import type { Plan, PlannedUnit } from "./types.ts";

/** One property that differs, in unit-file form for people (`MemoryMax=67108864`); absent: not set. */
export interface PropertyChange {
  key: PropertyKey;
  from?: string;
  to?: string;
}

/** Limits changed on a running unit: the slice (no member) or one member. */
export interface LiveChange {
  unit: string;
  member?: string;
  changes: PropertyChange[];
  /** What SetUnitProperties is given: the new values, and the "no limit" value of those removed. */
  set: UnitProperty[];
}

/** A member started again with its new unit, and why. */
export interface MemberRestart {
  member: string;
  unit: string;
  why: string[];
}

export interface PlanDiff {
  pod: string;
  /** Why the whole pod must be started again (empty: it need not). */
  recreate: string[];
  live: LiveChange[];
  /** In the new plan's start order. */
  restart: MemberRestart[];
  /** Members started, in the new plan's start order. */
  add: string[];
  /** Members stopped, in reverse of the old plan's start order. */
  remove: string[];
}

/** Parts of a plan compared through the units and files they make, or facts about the host: not compared as themselves. */
const COMPARED_BY_UNIT = new Set<keyof Plan>(["slice", "sandbox", "members", "target", "stages", "steps", "images", "containerWaits", "files", "directories"]);
const HOST_FACTS = new Set<keyof Plan>(["file", "systemdVersion", "cgroupMode", "requiresSystemd"]);

/** Compares the plan a pod runs from (`from`) with a new one (`to`) of the same pod. */
export function diffPlans(from: Plan, to: Plan): PlanDiff {
  const recreate: string[] = [];
  const live: LiveChange[] = [];
  const restart: MemberRestart[] = [];

  for (const key of new Set([...Object.keys(from), ...Object.keys(to)] as (keyof Plan)[])) {
    if (COMPARED_BY_UNIT.has(key) || HOST_FACTS.has(key)) continue;
    if (!same(from[key], to[key])) recreate.push(`the pod's ${describePart(key)} changed`);
  }
  for (const path of podFilesChanged(from, to)) recreate.push(`the pod's run file '${path}' changed`);

  const slice = compareUnits(from.slice, to.slice);
  if (slice.other.length) recreate.push(`the pod's slice changed: ${slice.other.join(", ")}`);
  if (slice.live.length) live.push(liveChange(to.slice, slice.live));
  const sandbox = compareUnits(from.sandbox, to.sandbox);
  const sandboxChanged = [...sandbox.other, ...sandbox.live.map((c) => c.key)];
  if (sandboxChanged.length) recreate.push(`the sandbox changed: ${sandboxChanged.join(", ")}`);

  const before = new Map(from.members.map((u) => [u.member!, u]));
  const after = new Map(to.members.map((u) => [u.member!, u]));
  const startOrder = (p: Plan) => p.stages.flatMap((s) => s.units);
  const inOrder = (p: Plan, names: string[]) => {
    const order = startOrder(p);
    const unit = (m: string) => p.members.find((u) => u.member === m)!.name;
    return [...names].sort((a, b) => order.indexOf(unit(a)) - order.indexOf(unit(b)));
  };
  const add = inOrder(to, [...after.keys()].filter((m) => !before.has(m)));
  const remove = inOrder(from, [...before.keys()].filter((m) => !after.has(m))).reverse();

  const why = new Map<string, string[]>();
  for (const [m, next] of after) {
    const prev = before.get(m);
    if (!prev) continue;
    const c = compareUnits(prev, next);
    const reasons = [...c.other.map((k) => `${k} changed`), ...memberPartsChanged(from, prev, to, next)];
    if (reasons.length) why.set(m, reasons);
    else if (c.live.length) live.push(liveChange(next, c.live));
  }
  // A member that Requires (or is BindsTo=) a member that stops goes down with it: say so, and start it again.
  const goingDown = (m: string) => why.has(m) || remove.includes(m);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [m, next] of after) {
      if (why.has(m) || add.includes(m)) continue;
      const needs = [...valueOf(next, "Requires"), ...valueOf(next, "BindsTo")];
      const down = [...before.keys()].filter((d) => goingDown(d) && needs.includes(before.get(d)!.name));
      if (down.length) {
        why.set(m, down.map((d) => `it needs '${d}', which ${remove.includes(d) ? "is removed" : "restarts"}`));
        grew = true;
      }
    }
  }
  for (const m of inOrder(to, [...why.keys()])) restart.push({ member: m, unit: after.get(m)!.name, why: why.get(m)! });
  // Limits of a member that restarts come with its new unit.
  const liveOnly = live.filter((l) => l.member === undefined || !why.has(l.member));
  return { pod: to.pod, recreate, live: liveOnly, restart, add, remove };
}

/** True when applying the diff changes nothing. */
export function isEmptyDiff(d: PlanDiff): boolean {
  return d.recreate.length === 0 && d.live.length === 0 && d.restart.length === 0 && d.add.length === 0 && d.remove.length === 0;
}

/** Properties that differ between two plans of one unit: those systemd changes live, and the rest (by unit-file key). */
function compareUnits(a: PlannedUnit, b: PlannedUnit): { live: PropertyChange[]; other: string[] } {
  const live: PropertyChange[] = [];
  const other: string[] = [];
  const keys = PROPERTY_ORDER.filter((k) => a.properties.some((p) => p.key === k) || b.properties.some((p) => p.key === k));
  for (const key of keys) {
    const x = a.properties.find((p) => p.key === key);
    const y = b.properties.find((p) => p.key === key);
    if (same(x?.value, y?.value)) continue;
    if (isLiveProperty(key)) live.push({ key, ...(x ? { from: shown(x) } : {}), ...(y ? { to: shown(y) } : {}) });
    else other.push(propertyDef(key).unitKey);
  }
  if (a.type !== b.type || a.kind !== b.kind || a.cgroup !== b.cgroup) other.push("its kind");
  return { live, other };
}

function liveChange(u: PlannedUnit, changes: PropertyChange[]): LiveChange {
  const set = changes.map((c) => u.properties.find((p) => p.key === c.key) ?? unsetProperty(c.key));
  return { unit: u.name, ...(u.member !== undefined ? { member: u.member } : {}), changes, set };
}

/** A property's value as its unit-file line(s) show it, without the key. */
function shown(p: UnitProperty): string {
  return renderProperty(p).map((l) => l.slice(l.indexOf("=") + 1)).join(" ");
}

function valueOf(u: PlannedUnit, key: "Requires" | "BindsTo"): string[] {
  return (u.properties.find((p) => p.key === key)?.value as string[] | undefined) ?? [];
}

/** What else of a member differs: its run files (bundle), its image root, its container wait. */
function memberPartsChanged(from: Plan, a: PlannedUnit, to: Plan, b: PlannedUnit): string[] {
  const out: string[] = [];
  if (!same(runFilesOf(from, a), runFilesOf(to, b))) out.push("its bundle changed");
  const root = (p: Plan, u: PlannedUnit) => p.images?.find((i) => i.unit === u.name);
  if (!same(root(from, a), root(to, b))) out.push("its image or root changed");
  const wait = (p: Plan, u: PlannedUnit) => p.containerWaits.find((w) => w.unit === u.name);
  if (!same(wait(from, a), wait(to, b))) out.push("its start wait changed");
  return out;
}

/** The pod's own run files (the sandbox's share, without the record of images members use) that differ. */
function podFilesChanged(from: Plan, to: Plan): string[] {
  const own = (p: Plan) => {
    const images = PodLayout.of(p).imagesFile;
    return new Map(runFilesOf(p, p.sandbox).files.filter((f) => f.path !== images).map((f) => [f.path, f]));
  };
  const a = own(from);
  const b = own(to);
  return [...new Set([...a.keys(), ...b.keys()])].filter((path) => !same(a.get(path), b.get(path)));
}

function describePart(key: string): string {
  const names: Record<string, string> = { ready: "hostname or namespaces", pins: "shared namespaces", network: "network or ports", backend: "sandbox backend", runDir: "run directory" };
  return names[key] ?? key;
}

/** Deep equality of plan values (plain data: objects, arrays, strings, numbers, bigints, booleans). */
export function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || typeof a !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
