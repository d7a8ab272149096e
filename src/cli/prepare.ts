/** `podunit internal prepare`: the first ExecStartPre= of a pod's unit files (see src/boot/prepare.ts). */
import { UsageError } from "../errors.ts";
import { prepareUnit } from "../boot/prepare.ts";
import { hostFiles } from "../host/files.ts";
import { parseArgs } from "./args.ts";
import { backendOption } from "./start.ts";

export async function prepare(args: string[]): Promise<number> {
  const { options, positionals } = parseArgs("internal prepare", args, {
    sandbox: { value: false },
    member: { value: true },
    digest: { value: true },
    backend: { value: true },
    "run-dir": { value: true },
  });
  const member = typeof options.member === "string" ? options.member : undefined;
  if ((member === undefined) === (options.sandbox === undefined)) {
    throw new UsageError("'podunit internal prepare' needs exactly one of --sandbox and --member NAME.");
  }
  const { digest, "run-dir": runDir } = options;
  const backend = backendOption(options.backend);
  if (typeof digest !== "string" || typeof runDir !== "string" || backend === undefined) {
    throw new UsageError("'podunit internal prepare' needs --digest, --backend and --run-dir.");
  }
  if (positionals.length !== 1 || !positionals[0]!.startsWith("/")) {
    throw new UsageError("'podunit internal prepare' takes the absolute path of one spec file.");
  }
  await prepareUnit({ member, digest, backend, runDir, specFile: positionals[0]! }, { files: hostFiles });
  return 0;
}
