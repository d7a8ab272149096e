/**
 * `podunit enable`: installs the pod's unit files into /etc/systemd/system, links
 * its target into the `.wants/` of every target its spec's [install] names (what
 * `systemctl enable` would do), reloads systemd, and with --now starts the target.
 * Running it again rewrites only what changed. A failed --now start is rolled back
 * like `podunit start`; the pod stays enabled, as with `systemctl enable --now`.
 */
import { SYSTEM_UNIT_DIR } from "../boot/install.ts";
import { enablePod } from "../pods/lifecycle.ts";
import { BACKEND_OPTION, DIR_OPTION, JSON_OPTION, parseArgs } from "./common/args.ts";
import type { Command } from "./common/command.ts";
import { jsonDocument } from "./common/format.ts";
import { backendOption, onePod, requireRoot } from "./common/verbs.ts";
import { startPullProgress } from "./common/progress.ts";

const OPTIONS = { ...DIR_OPTION, ...BACKEND_OPTION, now: { value: false }, ...JSON_OPTION };

export const enable: Command = {
  name: "enable",
  summary: "Install a pod's unit files so that it starts at boot (per its [install] section); --now starts it too",
  usage: "podunit enable POD|FILE [--dir DIR] [--backend crun|runc|native] [--now] [--json]",
  options: OPTIONS,
  args: ["pod"],
  async run(args, io) {
    const { options, positionals } = parseArgs("enable", args, OPTIONS);
    const ref = onePod("enable", positionals);
    const backend = backendOption(options.backend);
    requireRoot("enable");
    const result = await enablePod({ ref, dir: options.dir as string | undefined, backend, now: options.now === true, onPull: startPullProgress(io, options.json === true) }, io.env);
    const { pod, target } = result;
    const changed = result.written.length + result.removed.length > 0;
    if (options.json) {
      io.out(jsonDocument({ pod, target, wantedBy: result.wantedBy, changed, written: result.written, removed: result.removed, started: !!result.started, alreadyRunning: !!result.started?.alreadyRunning }) + "\n");
    } else {
      io.out(
        `Pod '${pod}' ${changed ? "enabled" : "was already enabled; nothing changed"}: ${target} is wanted by ${result.wantedBy.join(", ")} ` +
          `(${result.files} unit files in ${SYSTEM_UNIT_DIR}).\n` +
          (result.started
            ? `Pod '${pod}' ${result.started.alreadyRunning ? "was already running" : "started"}.\n`
            : `Start it now with 'podunit start ${pod}' or 'systemctl start ${target}'.\n`),
      );
    }
    return 0;
  },
};
