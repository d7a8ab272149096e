/**
 * `podunit enable`: installs the pod's unit files into /etc/systemd/system, links
 * its target into the `.wants/` of every target its spec's [install] names (what
 * `systemctl enable` would do), reloads systemd, and with --now starts the target.
 * Running it again rewrites only what changed. A failed --now start is rolled back
 * like `podunit start`; the pod stays enabled, as with `systemctl enable --now`.
 */
import { installUnits, SYSTEM_UNIT_DIR } from "../boot/install.ts";
import { podUnits } from "../boot/units.ts";
import { PodunitError, SystemdError } from "../errors.ts";
import { preflight } from "../exec/preflight.ts";
import { StartError } from "../exec/start.ts";
import { cleanupPod, podUnitPatterns } from "../exec/stop.ts";
import type { Plan } from "../plan/types.ts";
import { hostLookup } from "../runtime/files.ts";
import type { Systemd } from "../systemd/bus.ts";
import { parseArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { execDeps, hostFacts, loadPodSpec, onePod, requireRoot, withPodLock, withSystemd } from "./context.ts";
import { backendOption } from "./start.ts";

/** Starts the pod's target and checks that every unit of the pod came up; rolls back and throws otherwise. */
async function startTarget(p: Plan, sd: Systemd): Promise<void> {
  const deps = execDeps(sd);
  let jobError: Error | undefined;
  try {
    await sd.startUnit(p.target.name, "replace");
  } catch (err) {
    if (!(err instanceof SystemdError)) throw err;
    jobError = err;
  }
  const state = new Map((await sd.listUnits(podUnitPatterns(p.pod, p.slice.name))).map((u) => [u.name, u.activeState]));
  const down = [p.sandbox, ...p.members].find((u) => state.get(u.name) !== "active");
  if (down === undefined && jobError === undefined) return;
  const unit = down?.name ?? p.target.name;
  const reason = down ? `it is ${state.get(down.name) ?? "not loaded"} after the start` : jobError!.message;
  const journal = await deps.journal.tail(unit, 10);
  const problems = await cleanupPod(p.pod, p.runDir, deps).catch((e: Error) => [e.message]);
  const e = new StartError(p.pod, unit, reason, journal, problems);
  throw new PodunitError(`${e.message}\nThe pod stays enabled; 'podunit disable ${p.pod}' undoes that.`, { hint: e.hint });
}

export const enable: Command = {
  name: "enable",
  summary: "Install a pod's unit files so that it starts at boot (per its [install] section); --now starts it too",
  usage: "podunit enable POD|FILE [--dir DIR] [--backend runc|native] [--now] [--json]",
  async run(args, io) {
    const { options, positionals } = parseArgs("enable", args, {
      dir: { value: true },
      backend: { value: true },
      now: { value: false },
      json: { value: false },
    });
    const ref = onePod("enable", positionals);
    const backend = backendOption(options.backend);
    requireRoot("enable");
    const spec = await loadPodSpec(ref, options.dir as string | undefined, io);
    if (backend) spec.sandbox = backend;
    if (spec.install === undefined) {
      throw new PodunitError(`Failed to enable pod '${spec.name}': its spec '${spec.file}' has no [install] section, so nothing would start it at boot.`, {
        hint: `Add an [install] section (wanted_by defaults to ["multi-user.target"]), or start the pod now with 'podunit start ${spec.name}'.`,
      });
    }
    preflight(spec, hostLookup);
    const result = await withSystemd(io, async (sd) => {
      const units = podUnits(spec, await hostFacts(io, sd));
      return withPodLock(io, units.pod, async () => {
        const r = installUnits(SYSTEM_UNIT_DIR, units, { links: "absolute" });
        await sd.reload();
        if (options.now) await startTarget(units.plan, sd);
        return { ...r, units };
      });
    });
    const { units } = result;
    const target = units.plan.target.name;
    const changed = result.written.length + result.removed.length > 0;
    if (options.json) {
      io.out(JSON.stringify({ pod: units.pod, target, wantedBy: units.wantedBy, changed, written: result.written, removed: result.removed, started: !!options.now }) + "\n");
    } else {
      io.out(
        `Pod '${units.pod}' ${changed ? "enabled" : "was already enabled; nothing changed"}: ${target} is wanted by ${units.wantedBy.join(", ")} ` +
          `(${units.files.length} unit files in ${SYSTEM_UNIT_DIR}).\n` +
          (options.now ? `Pod '${units.pod}' started.\n` : `Start it now with 'systemctl start ${target}' or 'podunit enable ${units.pod} --now'.\n`),
      );
    }
    return 0;
  },
};
