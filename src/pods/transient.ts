/**
 * systemd keeps a file for every transient unit (its FragmentPath, below
 * /run/systemd/transient/) and reads it again on daemon-reload and
 * daemon-reexec. systemd 252 writes files it cannot read back: `ExecStartEx=`,
 * a key its own parser does not know (the unit then fails to load, and a member
 * that dies is not restarted), and `$` and `;` inside arguments escaped as `\$`
 * and `\;`, which its parser keeps (an argument such as `echo $HOME; ls` comes
 * back changed). So once a service podunit asked for has started, its file is
 * replaced by the unit file rendered from the same plan (what `podunit
 * generate` writes), which every supported systemd reads back as it was meant.
 * The file of a transient unit of the system manager is always
 * /run/systemd/transient/<unit>: it is replaced where it is, with no round trip
 * to ask systemd for the path, and no newer than systemd's own file: a newer one
 * would make every `systemctl status` of the unit warn that it "changed on disk"
 * and ask for a daemon-reload.
 */
import type { Plan, PlannedUnit } from "../plan/types.ts";
import { renderUnit } from "../systemd/render.ts";
import type { ExecDeps } from "./deps.ts";


export const TRANSIENT_DIR = "/run/systemd/transient";

/** Replaces the transient unit files of the given services; returns what could not be replaced. */
export function replaceTransientFiles(plan: Plan, units: PlannedUnit[], deps: Pick<ExecDeps, "files">): string[] {
  const problems: string[] = [];
  for (const u of units.filter((x) => x.type === "service")) {
    const file = `${TRANSIENT_DIR}/${u.name}`;
    try {
      if (deps.files.exists(file)) deps.files.replaceFile(file, renderUnit(u, plan.file).content, 0o644);
    } catch (err) {
      problems.push(`${u.name}: ${(err as Error).message}`);
    }
  }
  return problems;
}
