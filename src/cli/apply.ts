/** `podunit apply`: a running pod follows its edited spec, by class of change (docs/apply.md). */
import type { Command } from "./common/command.ts";
import { parseArgs } from "./common/args.ts";
import { backendOption, onePod, requireRoot, START_OPTIONS } from "./common/verbs.ts";
import { applyPod, type ApplyResult } from "../pods/apply.ts";
import { jsonDocument } from "./common/format.ts";
import type { PlanDiff } from "../plan/diff.ts";

const OPTIONS = { ...START_OPTIONS, "dry-run": { value: false }, recreate: { value: false } } as const;

/** The changes by class, one line each, for people. */
export function formatDiff(d: PlanDiff): string[] {
  const lines: string[] = [];
  if (d.recreate.length) lines.push(`whole pod restarts: ${d.recreate.join("; ")}`);
  for (const l of d.live) {
    const what = l.changes.map((c) => `${c.key} ${c.from ?? "(none)"} -> ${c.to ?? "(none)"}`).join(", ");
    lines.push(`limits changed live on ${l.member ? `member '${l.member}'` : "the pod"}: ${what}`);
  }
  for (const r of d.restart) lines.push(`member '${r.member}' restarts: ${r.why.join(", ")}`);
  for (const m of d.add) lines.push(`member '${m}' is added and started`);
  for (const m of d.remove) lines.push(`member '${m}' is stopped and removed`);
  return lines;
}

function describe(r: ApplyResult): string {
  const changes = formatDiff(r.diff);
  if (changes.length === 0) return `Pod '${r.pod}' already runs as ${r.file} says; nothing to do.\n`;
  const files = r.unitFiles ? " (its unit files written again, systemd reloaded)" : "";
  const head = r.dryRun
    ? `Pod '${r.pod}': applying ${r.file} would change (nothing was changed):`
    : `Pod '${r.pod}' now follows ${r.file}${files}:`;
  return `${head}\n${changes.map((c) => `  ${c}\n`).join("")}`;
}

export const apply: Command = {
  name: "apply",
  summary: "Change a running pod to follow its edited spec, restarting only what must restart",
  usage: "podunit apply POD|FILE [--dry-run] [--recreate] [--dir DIR] [--backend crun|runc|native] [--json]",
  options: OPTIONS,
  args: ["pod"],
  async run(args, io) {
    const { options, positionals } = parseArgs("apply", args, OPTIONS);
    const ref = onePod("apply", positionals);
    requireRoot("apply");
    const r = await applyPod(
      { ref, dir: options.dir as string | undefined, backend: backendOption(options.backend), dryRun: options["dry-run"] === true, recreate: options.recreate === true },
      io.env,
    );
    io.out(options.json ? jsonDocument(r) + "\n" : describe(r));
    return 0;
  },
};
