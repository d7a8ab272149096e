/**
 * A fuzz case through the command layer, as `podunit check FILE` and `podunit plan
 * FILE --json` run it (the file read from memory): the exit code must be one the
 * docs list for it, never 70 (an internal error).
 */
import type { Io } from "../../../src/cli/common/command.ts";
import { checkCommand } from "../../../src/cli/check.ts";
import { planCommand } from "../../../src/cli/plan.ts";
import { report } from "../../../src/main.ts";
import { HOST, TEST_IMAGES } from "../plan-helpers.ts";
import type { Case } from "./gen.ts";
import { SPEC_FILE } from "./check.ts";

async function run(cmd: ReturnType<typeof checkCommand>, args: string[]): Promise<{ code: number; err: string }> {
  let err = "";
  const io: Io = { out: () => {}, err: (t) => void (err += t), env: {} };
  try {
    return { code: await cmd.run(args, io), err };
  } catch (e) {
    return { code: report(e, io), err };
  }
}

/** Throws when a command gives an exit code it must not give. */
export async function runCli(c: Case): Promise<void> {
  const bytes = typeof c.input === "string" ? new TextEncoder().encode(c.input) : c.input;
  const readFile = async (path: string) => (path === SPEC_FILE ? bytes : undefined);
  const checks: Array<[string, ReturnType<typeof checkCommand>, string[], number[]]> = [
    ["check", checkCommand({ readFile, cwd: "/" }), [SPEC_FILE], [0, 3]],
    ["check --json", checkCommand({ readFile, cwd: "/" }), [SPEC_FILE, "--json"], [0, 3]],
    ["plan --json", planCommand({ readFile, cwd: "/", hostFacts: () => HOST, images: () => new Map(TEST_IMAGES) }), [SPEC_FILE, "--json"], [0, 1, 3]],
  ];
  for (const [what, cmd, args, allowed] of checks) {
    const r = await run(cmd, args);
    if (!allowed.includes(r.code)) throw new Error(`'podunit ${what}' exited ${r.code}: ${r.err.slice(0, 500)}`);
  }
}
