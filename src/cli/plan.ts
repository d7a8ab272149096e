/** `podunit plan`: shows what starting a pod would do, without root and without touching systemd. */
import { previewRange } from "../host/userns.ts";
import { readUsernsConfig } from "../plan/hostfacts.ts";
import { runDir as runDirOf } from "../pods/wiring.ts";
import { UsageError } from "../errors.ts";
import { planToJson, formatPlan } from "../plan/format.ts";
import { detectHostFacts } from "../plan/hostfacts.ts";
import { plan } from "../plan/plan.ts";
import type { HostFacts } from "../plan/types.ts";
import { specImages, type SpecImages } from "../pods/images.ts";
import { loadSpec, type ReadFile } from "../podspec/load.ts";
import { BACKEND_OPTION, DIR_OPTION, JSON_OPTION, parseArgs } from "./common/args.ts";
import type { Command } from "./common/command.ts";
import { backendOption } from "./common/verbs.ts";
import { JSON_SCHEMA_VERSION } from "./common/format.ts";

const OPTIONS = { ...DIR_OPTION, ...JSON_OPTION, ...BACKEND_OPTION };

/** Builds the command; tests pass a reader, a working directory and fixed host facts. */
export function planCommand(
  deps: { readFile?: ReadFile; cwd?: string; hostFacts?: (env: Record<string, string | undefined>) => HostFacts; images?: SpecImages } = {},
): Command {
  return {
    name: "plan",
    summary: "Show the units, start order, pins and files a pod would get",
    usage: "podunit plan FILE|NAME [--dir DIR] [--json] [--backend crun|runc|native]",
    options: OPTIONS,
    args: ["pod"],
    async run(args, io) {
      const { options, positionals } = parseArgs("plan", args, OPTIONS);
      if (positionals.length !== 1) throw new UsageError(`'podunit plan' takes one pod name or spec file, found ${positionals.length}.`);
      const backend = backendOption(options.backend);
      const dir = typeof options.dir === "string" ? options.dir : undefined;
      const spec = await loadSpec(positionals[0]!, {
        env: io.env,
        ...(dir !== undefined ? { dir } : {}),
        ...(deps.readFile ? { readFile: deps.readFile } : {}),
        ...(deps.cwd !== undefined ? { cwd: deps.cwd } : {}),
      });
      const images = (deps.images ?? specImages)(spec, io.env);
      // userns = "auto": the range the pod holds, or the one it would get now.
      const userns = spec.userns ? previewRange(runDirOf(io.env), spec.name, readUsernsConfig(io.env)) : undefined;
      const p = plan(backend ? { ...spec, sandbox: backend } : spec, (deps.hostFacts ?? detectHostFacts)(io.env), { images, ...(userns ? { userns } : {}) });
      // The plan's own JSON, with the schema version in front.
      io.out(options.json ? `${JSON.stringify({ version: JSON_SCHEMA_VERSION, ...JSON.parse(planToJson(p)) }, null, 2)}\n` : formatPlan(p));
      return 0;
    },
  };
}

export const planCmd: Command = planCommand();
