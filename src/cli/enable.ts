/**
 * `podunit enable`: installs the pod's unit files into /etc/systemd/system, links
 * its target into the `.wants/` of every target its spec's [install] names (what
 * `systemctl enable` would do), reloads systemd, and with --now starts the target.
 * Running it again rewrites only what changed. A failed --now start is rolled back
 * like `podunit start`; the pod stays enabled, as with `systemctl enable --now`.
 */
import { installUnits, SYSTEM_UNIT_DIR } from "../boot/install.ts";
import { podUnits } from "../boot/units.ts";
import { PodunitError } from "../errors.ts";
import { preflight } from "../pods/preflight.ts";
import { StartError, type StartResult } from "../pods/start.ts";
import { startTarget } from "../pods/target.ts";
import { hostLookup } from "../host/files.ts";
import { parseArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { execDeps, hostFacts, loadPodSpec, onePod, requireRoot, withPodLock, withSystemd } from "./context.ts";
import { backendOption } from "./start.ts";

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
    if (spec.install === undefined) {
      throw new PodunitError(`Failed to enable pod '${spec.name}': its spec '${spec.file}' has no [install] section, so nothing would start it at boot.`, {
        hint: `Add an [install] section (wanted_by defaults to ["multi-user.target"]), or start the pod now with 'podunit start ${spec.name}'.`,
      });
    }
    preflight(spec, hostLookup);
    const result = await withSystemd(io, async (sd) => {
      const units = podUnits(spec, await hostFacts(io, sd), backend ? { backend } : {});
      return withPodLock(io, units.pod, async () => {
        const r = installUnits(SYSTEM_UNIT_DIR, units, { links: "absolute" });
        await sd.reload();
        let started: StartResult | undefined;
        if (options.now) {
          try {
            started = await startTarget(units.plan, execDeps(sd));
          } catch (e) {
            if (!(e instanceof StartError)) throw e;
            throw new PodunitError(`${e.message}\nThe pod stays enabled; 'podunit disable ${units.pod}' undoes that.`, { hint: e.hint });
          }
        }
        return { ...r, units, started };
      });
    });
    const { units } = result;
    const target = units.plan.target.name;
    const changed = result.written.length + result.removed.length > 0;
    if (options.json) {
      io.out(JSON.stringify({ pod: units.pod, target, wantedBy: units.wantedBy, changed, written: result.written, removed: result.removed, started: !!result.started, alreadyRunning: !!result.started?.alreadyRunning }) + "\n");
    } else {
      io.out(
        `Pod '${units.pod}' ${changed ? "enabled" : "was already enabled; nothing changed"}: ${target} is wanted by ${units.wantedBy.join(", ")} ` +
          `(${units.files.length} unit files in ${SYSTEM_UNIT_DIR}).\n` +
          (result.started
            ? `Pod '${units.pod}' ${result.started.alreadyRunning ? "was already running" : "started"}.\n`
            : `Start it now with 'podunit start ${units.pod}' or 'systemctl start ${target}'.\n`),
      );
    }
    return 0;
  },
};
