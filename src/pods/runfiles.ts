/**
 * The start's first step: the pod's run directory (bundles, configs) and the
 * record of the plan (src/plan/record.ts). For a whole pod its undo removes the
 * run directory; for part of a running pod (apply) only what it wrote.
 */
import { PodLayout } from "../plan/layout.ts";
import { planRecordText } from "../plan/record.ts";
import type { Plan } from "../plan/types.ts";
import type { ExecDeps } from "./deps.ts";
import type { Selection } from "./start.ts";
import { UnitFailure } from "./start.ts";
import type { Step } from "./steps.ts";
import { removeRunDir } from "./stop.ts";

/** The run-files step for the selection; undefined when it writes nothing. */
export function runFilesStep(plan: Plan, deps: ExecDeps, sel: Selection): Step | undefined {
  if (!sel.partial) {
    return { name: "write run files", run: async () => writeRunFiles(plan, deps, sel.wanted), undo: async () => removeRunDir(plan.runDir, deps) };
  }
  if (![...plan.directories, ...plan.files.map((f) => f.path)].some(sel.wanted)) return undefined;
  // Files, and directories that were not there before: what the undo removes.
  const made: string[] = [];
  const wanted = (path: string) => {
    if (!sel.wanted(path)) return false;
    if (!deps.files.exists(path) || plan.files.some((f) => f.path === path)) made.push(path);
    return true;
  };
  return {
    name: "write run files",
    run: async () => writeRunFiles(plan, deps, wanted),
    undo: async () => {
      try {
        for (const path of made.reverse()) deps.files.removeTree(path);
        return [];
      } catch (err) {
        return [(err as Error).message];
      }
    },
  };
}

/** Writes the plan's directories and files that `wanted` selects, and the record of the plan (the spec it came from, for restart and apply). */
function writeRunFiles(plan: Plan, deps: ExecDeps, wanted: (path: string) => boolean): void {
  try {
    for (const d of plan.directories) if (wanted(d)) deps.files.mkdir(d, 0o700);
    for (const f of plan.files) if (wanted(f.path)) deps.files.writeFile(f.path, f.content, f.mode);
    const record = PodLayout.of(plan).planFile;
    if (wanted(record)) deps.files.writeFile(record, planRecordText(plan), 0o600);
    // userns = "auto": the pod's root is a user of its own on the host; it must pass these and own those.
    for (const d of plan.userns?.traverse ?? []) deps.files.mkdir(d, 0o711);
    for (const d of plan.userns?.own ?? []) deps.files.chown(d, plan.userns!.start, plan.userns!.start);
  } catch (err) {
    throw new UnitFailure(plan.runDir, new Error(`could not write its run files: ${(err as Error).message}`), false);
  }
}
