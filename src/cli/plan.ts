/** `podunit plan`: shows what starting a pod would do, without root and without touching systemd. */
import { UsageError } from "../errors.ts";
import { planToJson, formatPlan } from "../plan/format.ts";
import { detectHostFacts } from "../plan/hostfacts.ts";
import { plan } from "../plan/plan.ts";
import type { HostFacts } from "../plan/types.ts";
import { specImages, type SpecImages } from "../pods/images.ts";
import { loadSpec, type ReadFile } from "../podspec/load.ts";
import type { SandboxBackend } from "../podspec/types.ts";
import { parseArgs } from "./common/args.ts";
import type { Command } from "./common/command.ts";

function backendOption(v: string | true | undefined): SandboxBackend | undefined {
  if (v === undefined) return undefined;
  if (v === "runc" || v === "native") return v;
  throw new UsageError(`Option '--backend' takes 'runc' or 'native', found '${v}'.`);
}

/** Builds the command; tests pass a reader, a working directory and fixed host facts. */
export function planCommand(
  deps: { readFile?: ReadFile; cwd?: string; hostFacts?: (env: Record<string, string | undefined>) => HostFacts; images?: SpecImages } = {},
): Command {
  return {
    name: "plan",
    summary: "Show the units, start order, pins and files a pod would get",
    usage: "podunit plan FILE|NAME [--dir DIR] [--json] [--backend runc|native]",
    async run(args, io) {
      const { options, positionals } = parseArgs("plan", args, {
        dir: { value: true },
        json: { value: false },
        backend: { value: true },
      });
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
      const p = plan(backend ? { ...spec, sandbox: backend } : spec, (deps.hostFacts ?? detectHostFacts)(io.env), { images });
      io.out(options.json ? planToJson(p) : formatPlan(p));
      return 0;
    },
  };
}

export const planCmd: Command = planCommand();
