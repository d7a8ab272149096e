/**
 * Rules between members: `after` references and cycles, and member limits
 * within the pod's. Pure; records issues on the checker.
 */
import { closest, oneOf, quote } from "./describe.ts";
import type { Checker, Shown } from "./fields.ts";
import type { Seg } from "./locate.ts";
import type { MemberSpec } from "./types.ts";

/** A member read from the file, with what the relations between members need. */
export interface MemberDraft {
  spec: MemberSpec;
  shown: { memoryMax?: Shown<bigint>; cpuQuota?: Shown<number>; tasksMax?: Shown<bigint> };
  /** Valid entries of `after`, with their index in the array. */
  after: { value: string; index: number }[];
}

/** Pods with more members than this get no did-you-mean for unknown names in `after`. */
const MAX_SUGGEST = 1000;
/** At most this many cycles are reported. */
export const MAX_CYCLES = 10;

/** `after`: names of other members, each once, without cycles. */
export function checkAfter(c: Checker, drafts: MemberDraft[], allNames: string[]): void {
  const known = new Set(allNames);
  const kinds = new Map(drafts.map((d) => [d.spec.name, d.spec.kind]));
  const edges = new Map<string, string[]>();
  for (const d of drafts) {
    const self = d.spec.name;
    const out: string[] = [];
    const listed = new Set<string>();
    for (const { value, index } of d.after) {
      const path: Seg[] = ["containers", self, "after", index];
      if (value === self) {
        c.add(path, `expected the name of another member, found ${quote(value)} (the member itself)`);
      } else if (!known.has(value)) {
        // Listing and suggesting are skipped for huge pods, where they would cost more than they help.
        const others = allNames.length <= MAX_SUGGEST ? allNames.filter((n) => n !== self) : [];
        const list = others.length > 0 && others.length <= 8 ? ` (${oneOf(others)})` : "";
        const near = closest(value, others);
        c.add(path, `expected the name of a member${list}, found ${quote(value)}${near ? `; did you mean ${quote(near)}?` : ""}`);
      } else if (listed.has(value)) {
        c.add(path, `expected each member once, found ${quote(value)} again`);
      } else if (d.spec.kind === "init" && kinds.get(value) === "service") {
        c.add(path, `expected the name of an init member (init members run before every service), found the service ${quote(value)}`);
      } else {
        out.push(value);
        listed.add(value);
      }
    }
    d.spec.after = out;
    edges.set(self, out);
  }
  for (const cycle of findCycles(drafts.map((d) => d.spec.name), edges)) {
    c.add(["containers", cycle[0]!, "after"], `expected no cycle in the start order, found ${showCycle(cycle)}`);
  }
}

/** A cycle for a message: long names quoted and cut, a long cycle shown by its ends. */
function showCycle(cycle: string[]): string {
  const names = cycle.map((n) => (n.length > 60 ? quote(n) : n));
  if (names.length <= 12) return names.join(" -> ");
  return `${names.slice(0, 5).join(" -> ")} -> … -> ${names.slice(-3).join(" -> ")} (${cycle.length - 1} members)`;
}

/**
 * Cycles in the `after` graph (at most MAX_CYCLES), found by an iterative
 * depth-first search in file order; each cycle starts and ends at its member
 * that comes first in the file.
 */
export function findCycles(order: string[], edges: Map<string, string[]>): string[][] {
  const rank = new Map(order.map((n, i) => [n, i]));
  const state = new Map<string, 1 | 2>(); // 1: on the stack, 2: done
  const depth = new Map<string, number>(); // position on the stack of the nodes on it
  const cycles: string[][] = [];
  const seen = new Set<string>();
  for (const root of order) {
    if (state.has(root)) continue;
    const stack: { node: string; next: number }[] = [{ node: root, next: 0 }];
    state.set(root, 1);
    depth.set(root, 0);
    while (stack.length > 0 && cycles.length < MAX_CYCLES) {
      const top = stack[stack.length - 1]!;
      const outs = edges.get(top.node) ?? [];
      if (top.next >= outs.length) {
        state.set(top.node, 2);
        depth.delete(top.node);
        stack.pop();
        continue;
      }
      const to = outs[top.next++]!;
      const s = state.get(to);
      if (s === undefined) {
        state.set(to, 1);
        depth.set(to, stack.length);
        stack.push({ node: to, next: 0 });
      } else if (s === 1) {
        const ring = stack.slice(depth.get(to)!).map((f) => f.node);
        let first = 0;
        ring.forEach((n, i) => {
          if (rank.get(n)! < rank.get(ring[first]!)!) first = i;
        });
        const rotated = [...ring.slice(first), ...ring.slice(0, first)];
        const key = rotated.join("\0");
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push([...rotated, rotated[0]!]);
        }
      }
    }
  }
  return cycles;
}

/** A member's limit may not exceed the pod's. */
export function checkWithinPod(c: Checker, d: MemberDraft, pod: MemberDraft["shown"]): void {
  const base: Seg[] = ["containers", d.spec.name];
  const m = d.shown;
  if (m.memoryMax && pod.memoryMax && m.memoryMax.value > pod.memoryMax.value) {
    c.add([...base, "memory_max"], `expected at most the pod's memory_max ${pod.memoryMax.shown}, found ${m.memoryMax.shown}`);
  }
  if (m.cpuQuota && pod.cpuQuota && m.cpuQuota.value > pod.cpuQuota.value) {
    c.add([...base, "cpu_quota"], `expected at most the pod's cpu_quota ${pod.cpuQuota.shown}, found ${m.cpuQuota.shown}`);
  }
  if (m.tasksMax && pod.tasksMax && m.tasksMax.value > pod.tasksMax.value) {
    c.add([...base, "tasks_max"], `expected at most the pod's tasks_max ${pod.tasksMax.shown}, found ${m.tasksMax.shown}`);
  }
}
