/**
 * Start order of a pod's members: init members one after another in `after`
 * order, then the other members in waves that can start in parallel.
 */
import { SpecError, type SpecIssue } from "../errors.ts";
import type { MemberSpec, PodSpec } from "../podspec/types.ts";

export interface MemberOrder {
  /** Init members in the order they run. */
  inits: MemberSpec[];
  /** Service members grouped into waves; a wave starts when the one before it has. */
  waves: MemberSpec[][];
}

function issue(spec: PodSpec, m: MemberSpec, message: string): SpecIssue {
  return { file: spec.file, path: `containers.${m.name}.after`, message };
}

/** Orders the members, or throws a SpecError for unknown names, cycles and init members after services. */
export function orderMembers(spec: PodSpec): MemberOrder {
  const byName = new Map(spec.members.map((m) => [m.name, m]));
  const issues: SpecIssue[] = [];
  for (const m of spec.members) {
    for (const a of m.after) {
      const dep = byName.get(a);
      if (dep === undefined) issues.push(issue(spec, m, `expected the name of a member, found '${a}'`));
      else if (dep === m) issues.push(issue(spec, m, `a member cannot start after itself`));
      else if (m.kind === "init" && dep.kind !== "init") {
        issues.push(issue(spec, m, `an init member runs before every other member, so it cannot start after '${a}'`));
      }
    }
  }
  if (issues.length) throw new SpecError(issues);

  const inits = spec.members.filter((m) => m.kind === "init");
  const services = spec.members.filter((m) => m.kind !== "init");

  // Init members: repeatedly take the first (in file order) whose init predecessors have run.
  const placed = new Set<string>();
  const initOrder: MemberSpec[] = [];
  while (initOrder.length < inits.length) {
    const next = inits.find((m) => !placed.has(m.name) && m.after.every((a) => placed.has(a)));
    if (next === undefined) throw cycle(spec, inits.filter((m) => !placed.has(m.name)));
    placed.add(next.name);
    initOrder.push(next);
  }

  // Services: a wave holds every member whose service predecessors sit in earlier waves.
  const waves: MemberSpec[][] = [];
  const done = new Set(inits.map((m) => m.name));
  let left = services;
  while (left.length) {
    const wave = left.filter((m) => m.after.every((a) => done.has(a)));
    if (!wave.length) throw cycle(spec, left);
    for (const m of wave) done.add(m.name);
    waves.push(wave);
    left = left.filter((m) => !wave.includes(m));
  }
  return { inits: initOrder, waves };
}

function cycle(spec: PodSpec, stuck: MemberSpec[]): SpecError {
  const names = stuck.map((m) => `'${m.name}'`).join(", ");
  return new SpecError(stuck.map((m) => issue(spec, m, `the 'after' lists of ${names} form a cycle`)).slice(0, 1));
}
