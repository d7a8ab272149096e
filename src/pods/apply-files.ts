/**
 * Applies a plan diff to a pod started from unit files (`podunit enable`, the
 * generator): the files are written again and systemd reloaded, then the same
 * classes as for transient pods act through the units' files: removed members
 * are stopped before their files go, members that restart are stopped and
 * started (their ExecStartPre writes their new bundle), added ones started,
 * limits changed live. The unit files follow the spec, so nothing is undone on
 * a failure: the error says which member is in which state.
 */
import { SystemdError } from "../errors.ts";
import type { PlanDiff } from "../plan/diff.ts";
import { PodLayout } from "../plan/layout.ts";
import { planRecordText } from "../plan/record.ts";
import type { Plan } from "../plan/types.ts";
import { encodeProperty } from "../systemd/properties.ts";
import type { ExecDeps } from "./deps.ts";
import { stopUnits } from "./stop.ts";

/** An apply to unit files that stopped half-way: what was done, what failed, what was not done. */
export interface FilesApplyFailure {
  unit: string;
  reason: string;
  journal: string[];
  /** One line per member or unit: its state now. */
  states: string[];
}

/**
 * Runs the diff against a pod started from unit files; `rewrite` puts the new
 * files in place and reloads systemd. Returns undefined, or what failed.
 */
export async function applyUnitFiles(from: Plan, to: Plan, d: PlanDiff, deps: ExecDeps, rewrite: () => Promise<void>): Promise<FilesApplyFailure | undefined> {
  const sd = deps.systemd;
  const states: string[] = [];
  const unitOf = (p: Plan, m: string) => p.members.find((u) => u.member === m)!.name;
  type Action = { unit: string; member?: string; done: string; run: () => Promise<void> };
  const actions: Action[] = [
    ...d.remove.map((m): Action => ({ unit: unitOf(from, m), member: m, done: "stopped and removed", run: async () => void (await sd.stopUnit(unitOf(from, m))) })),
    { unit: to.target.name, done: "", run: rewrite },
    ...d.restart.map((r): Action => ({
      unit: r.unit,
      member: r.member,
      done: "restarted with its new unit",
      run: async () => {
        await sd.stopUnit(r.unit);
        await sd.startUnit(r.unit);
      },
    })),
    ...d.add.map((m): Action => ({ unit: unitOf(to, m), member: m, done: "added and started", run: () => sd.startUnit(unitOf(to, m)) })),
    ...d.live.map((l): Action => ({
      unit: l.unit,
      ...(l.member ? { member: l.member } : {}),
      done: `${l.changes.map((c) => c.key).join(", ")} changed live`,
      run: () => sd.setUnitProperties(l.unit, l.set.map(encodeProperty), true),
    })),
  ];
  for (const [i, a] of actions.entries()) {
    try {
      await a.run();
      if (a.done) states.push(`${who(a)}: ${a.done}`);
    } catch (err) {
      const journal = a.member ? await deps.journal.tail(a.unit, 10) : [];
      // A member that failed to start is stopped, so systemd does not restart it in a loop.
      if (a.member && (d.add.includes(a.member) || d.restart.some((r) => r.member === a.member))) await stopUnits([a.unit], deps);
      states.push(`${who(a)}: failed, ${a.member ? "stopped" : "not done"}`);
      for (const b of actions.slice(i + 1)) if (b.done) states.push(`${who(b)}: not reached (it would be ${b.done})`);
      const reason = err instanceof SystemdError ? err.message : ((err as Error)?.message ?? String(err));
      return { unit: a.unit, reason, journal, states };
    }
  }
  deps.files.writeFile(PodLayout.of(to).planFile, planRecordText(to), 0o600);
  return undefined;
}

function who(a: { unit: string; member?: string }): string {
  return a.member ? `member '${a.member}' (${a.unit})` : a.unit;
}
