/** `podunit check`: validates pod specs without touching systemd. */
import { formatSpecIssue, PodunitError, SpecError, UsageError } from "../errors.ts";
import { loadSpec, type ReadFile } from "../podspec/load.ts";
import type { PodSpec } from "../podspec/types.ts";
import { DIR_OPTION, JSON_OPTION, parseArgs } from "./common/args.ts";
import type { Command } from "./common/command.ts";
import { JSON_SCHEMA_VERSION } from "./common/format.ts";

const OPTIONS = { ...DIR_OPTION, ...JSON_OPTION };

type Result = { ref: string; spec: PodSpec } | { ref: string; error: PodunitError };

/** Builds the command; tests pass a reader and a working directory so no disk is needed. */
export function checkCommand(deps: { readFile?: ReadFile; cwd?: string } = {}): Command {
  return {
    name: "check",
    summary: "Validate pod specs and report every problem",
    usage: "podunit check FILE|NAME... [--dir DIR] [--json]",
    options: OPTIONS,
    args: ["pod..."],
    async run(args, io) {
      const { options, positionals } = parseArgs("check", args, OPTIONS);
      if (positionals.length === 0) throw new UsageError("'podunit check' needs at least one spec file or pod name.");
      const dir = typeof options.dir === "string" ? options.dir : undefined;

      const results: Result[] = [];
      for (const ref of positionals) {
        try {
          const spec = await loadSpec(ref, { env: io.env, ...(dir !== undefined ? { dir } : {}), ...deps });
          results.push({ ref, spec });
        } catch (e) {
          if (!(e instanceof PodunitError)) throw e;
          results.push({ ref, error: e });
        }
      }

      if (options.json) {
        io.out(JSON.stringify({ version: JSON_SCHEMA_VERSION, ok: results.every((r) => "spec" in r), specs: results.map(toJson) }, null, 2) + "\n");
      } else {
        for (const r of results) {
          if ("spec" in r) {
            const n = r.spec.members.length;
            io.out(`ok ${r.spec.name}: ${n} member${n === 1 ? "" : "s"}${r.spec.userns ? `, userns = "${r.spec.userns}"` : ""} (${r.spec.file})\n`);
            for (const w of r.spec.warnings ?? []) io.err(`podunit: warning: ${formatSpecIssue(w)}\n`);
          }
        }
      }

      const failed = results.flatMap((r) => ("error" in r ? [r.error] : []));
      if (failed.length === 0) return 0;
      if (failed.length === 1 && results.length === 1) throw failed[0];
      if (failed.every((e) => e instanceof SpecError)) throw new SpecError(failed.flatMap((e) => (e as SpecError).issues));
      if (!options.json) {
        for (const e of failed) io.err(`podunit: ${e.message}${e.hint ? `\npodunit: ${e.hint}` : ""}\n`);
      }
      throw new PodunitError(`${failed.length} of ${results.length} pod specs failed the check.`, { exitCode: failed[0]!.exitCode });
    },
  };
}

function toJson(r: Result): unknown {
  if ("spec" in r) {
    return { ref: r.ref, ok: true, name: r.spec.name, file: r.spec.file, members: r.spec.members.map((m) => m.name), ...(r.spec.userns ? { userns: r.spec.userns } : {}), warnings: r.spec.warnings ?? [] };
  }
  const e = r.error;
  return {
    ref: r.ref,
    ok: false,
    error: { message: e.message, exitCode: e.exitCode, ...(e instanceof SpecError ? { issues: e.issues } : {}) },
  };
}

export const check: Command = checkCommand();
