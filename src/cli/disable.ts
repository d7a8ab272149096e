/**
 * `podunit disable`: removes the links and unit files `podunit enable` installed
 * for a pod and reloads systemd; with --now it stops the pod first (as `podunit
 * stop` does). Needs no spec: the pod's name is enough. When the podunit generator
 * still makes units for the pod (its spec in /etc/podunit/pods has [install]), it
 * says so: only removing that section stops the pod from starting at boot.
 */
import { SYSTEM_UNIT_DIR } from "../boot/install.ts";
import { podTargetName } from "../systemd/unitname.ts";
import { disablePod } from "../pods/lifecycle.ts";
import { podName } from "../pods/wiring.ts";
import { DIR_OPTION, JSON_OPTION, parseArgs } from "./common/args.ts";
import type { Command } from "./common/command.ts";
import { jsonDocument } from "./common/format.ts";
import { onePod, requireRoot } from "./common/verbs.ts";

const OPTIONS = { ...DIR_OPTION, now: { value: false }, ...JSON_OPTION };

export const disable: Command = {
  name: "disable",
  summary: "Remove the unit files 'podunit enable' installed; --now stops the pod too",
  usage: "podunit disable POD|FILE [--dir DIR] [--now] [--json]",
  options: OPTIONS,
  args: ["pod"],
  async run(args, io) {
    const { options, positionals } = parseArgs("disable", args, OPTIONS);
    const pod = await podName(onePod("disable", positionals), options.dir as string | undefined, io.env);
    requireRoot("disable");
    const r = await disablePod({ ref: pod, now: options.now === true }, io.env);
    const generated = r.stillGenerated;
    if (options.json) {
      io.out(jsonDocument({ pod, removed: r.removed, stopped: r.stopped, ...(generated ? { stillGenerated: generated } : {}) }) + "\n");
      return 0;
    }
    const lines = [
      r.removed.length
        ? `Pod '${pod}' disabled: removed ${r.removed.length} unit files and links from ${SYSTEM_UNIT_DIR}.`
        : `Pod '${pod}' was not enabled; nothing to remove.`,
    ];
    if (options.now) lines.push(r.stopped ? `Pod '${pod}' stopped.` : `Pod '${pod}' was not running.`);
    if (generated) {
      lines.push(
        `Note: systemd still has '${podTargetName(pod)}' from '${generated}': the podunit generator makes it because the pod's spec ` +
          `has an [install] section. Remove that section and run 'systemctl daemon-reload' to keep the pod from starting at boot.`,
      );
    }
    io.out(lines.join("\n") + "\n");
    return 0;
  },
};
