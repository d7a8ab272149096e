/**
 * `podunit generate`: the pod's plan as unit files: its slice, sandbox, one service
 * per member and `podunit-<pod>.target`, which wants them all. Printed, or written
 * into a directory with --output (`--dir` keeps its meaning of every other verb:
 * where specs are found). Needs neither root nor a running systemd.
 */
import { installUnits } from "../boot/install.ts";
import { podUnits } from "../boot/units.ts";
import { detectHostFacts } from "../plan/hostfacts.ts";
import type { HostFacts } from "../plan/types.ts";
import { specImages, type SpecImages } from "../pods/images.ts";
import { loadSpec, type ReadFile } from "../podspec/load.ts";
import { podTargetName } from "../systemd/unitname.ts";
import { BACKEND_OPTION, DIR_OPTION, JSON_OPTION, parseArgs } from "./common/args.ts";
import type { Command } from "./common/command.ts";
import { JSON_SCHEMA_VERSION } from "./common/format.ts";
import { backendOption, onePod } from "./common/verbs.ts";

const OPTIONS = { ...DIR_OPTION, output: { value: true, short: "o", values: "dir" }, ...BACKEND_OPTION, ...JSON_OPTION } as const;

/** Builds the command; tests pass a reader, a working directory and fixed host facts. */
export function generateCommand(
  deps: { readFile?: ReadFile; cwd?: string; hostFacts?: (env: Record<string, string | undefined>) => HostFacts; images?: SpecImages } = {},
): Command {
  return {
    name: "generate",
    summary: "Write a pod's unit files (slice, sandbox, members, target), to standard output or a directory",
    usage: "podunit generate POD|FILE [--dir DIR] [--output DIR] [--backend crun|runc|native] [--json]",
    options: OPTIONS,
    args: ["pod"],
    async run(args, io) {
      const { options, positionals } = parseArgs("generate", args, OPTIONS);
      const ref = onePod("generate", positionals);
      const backend = backendOption(options.backend);
      const dir = typeof options.dir === "string" ? options.dir : undefined;
      const spec = await loadSpec(ref, {
        env: io.env,
        ...(dir !== undefined ? { dir } : {}),
        ...(deps.readFile ? { readFile: deps.readFile } : {}),
        ...(deps.cwd !== undefined ? { cwd: deps.cwd } : {}),
      });
      const images = (deps.images ?? specImages)(spec, io.env);
      const units = podUnits(spec, (deps.hostFacts ?? detectHostFacts)(io.env), { ...(backend ? { backend } : {}), images });
      const target = podTargetName(units.pod);
      const output = typeof options.output === "string" ? options.output : undefined;
      const written = output === undefined ? undefined : installUnits(output, units, {});

      if (options.json) {
        const files = units.files.map((f) => ({ name: f.name, content: f.content }));
        io.out(JSON.stringify({ version: JSON_SCHEMA_VERSION, pod: units.pod, file: spec.file, target, wantedBy: units.wantedBy, units: files, ...(written ? { output, ...written } : {}) }, null, 2) + "\n");
      } else if (output === undefined) {
        io.out(units.files.map((f) => `# ${f.name}\n${f.content}`).join("\n"));
      } else {
        const changed = written!.written.length + written!.removed.length;
        io.out(
          `${changed ? "Wrote" : "Unchanged:"} ${units.files.length} unit files of pod '${units.pod}' in '${output}'` +
            `${written!.removed.length ? `, removed ${written!.removed.length} it no longer has` : ""}.\n` +
            `Start the pod with 'systemctl daemon-reload' and 'systemctl start ${target}'` +
            `${units.wantedBy.length ? `; 'systemctl enable ${target}' starts it at boot` : ""}.\n`,
        );
      }
      return 0;
    },
  };
}

export const generate: Command = generateCommand();
