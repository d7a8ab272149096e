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
 */
import type { Plan, PlannedUnit } from "../plan/types.ts";
import { renderUnit } from "../systemd/render.ts";
import { unitObjectPath } from "../systemd/unitname.ts";
import type { ExecDeps } from "./deps.ts";

const UNIT = "org.freedesktop.systemd1.Unit";

/** Replaces the transient unit files of the given services; returns what could not be replaced. */
export async function replaceTransientFiles(plan: Plan, units: PlannedUnit[], deps: ExecDeps): Promise<string[]> {
  const problems: string[] = [];
  await Promise.all(
    units
      .filter((u) => u.type === "service")
      .map(async (u) => {
        try {
          // The unit's object path follows from its name: one round trip, not two.
          const { FragmentPath: fragment } = await deps.systemd.getProperties(unitObjectPath(u.name), UNIT, ["FragmentPath"]);
          if (typeof fragment !== "string" || !/^\/run\/systemd\/transient\/[^/]+$/.test(fragment)) return;
          deps.files.replaceFile(fragment, renderUnit(u, plan.file).content, 0o644);
        } catch (err) {
          problems.push(`${u.name}: ${(err as Error).message}`);
        }
      }),
  );
  return problems;
}
