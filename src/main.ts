/**
 * The command layer: argv → verb. The one place that prints errors and sets
 * the exit code; everything below it throws PodunitError subclasses.
 */
import type { Command, Io } from "./cli/common/command.ts";
import { helpCommand } from "./cli/help.ts";
import { version, VERSION } from "./cli/version.ts";
import { debug } from "./cli/debug.ts";
import { restart, start } from "./cli/start.ts";
import { stop } from "./cli/stop.ts";
import { apply } from "./cli/apply.ts";
import { status } from "./cli/status.ts";
import { list } from "./cli/list.ts";
import { internalCommand } from "./cli/internal.ts";
import { systemCommand } from "./cli/system.ts";
import { completion } from "./cli/completion.ts";
import { check } from "./cli/check.ts";
import { planCmd } from "./cli/plan.ts";
import { generate } from "./cli/generate.ts";
import { enable } from "./cli/enable.ts";
import { disable } from "./cli/disable.ts";
import { logs } from "./cli/logs.ts";
import { execCommand } from "./cli/exec.ts";
import { imageCommand } from "./cli/image.ts";
import { volume } from "./cli/volume.ts";
import { imageUsers } from "./pods/images.ts";
import { login, logout } from "./cli/login.ts";
import { network } from "./cli/network.ts";
import { kubeCommand } from "./cli/kube.ts";
import { UsageError } from "./errors.ts";
import { mark } from "./trace.ts";
import { exitWith, processIo, report } from "./cli/common/process.ts";

export { report };

const commands: Command[] = [];
const table = () => commands;
// Images used by a running pod or a spec in the spec directory are kept by 'image rm' and 'prune'.
commands.push(start, stop, restart, apply, status, list, logs, execCommand, imageCommand({ inUse: imageUsers }), volume, login, logout, network, kubeCommand, check, planCmd, generate, enable, disable, debug,
  systemCommand(table, VERSION), completion, internalCommand(table), version, helpCommand(table));

/** The command table: what `help`, completion and the man pages describe. */
export function commandTable(): Command[] {
  return commands;
}

/** Runs podunit with the given arguments (without argv[0]); returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  mark("main");
  try {
    const [verb, ...rest] = argv;
    if (verb === undefined || verb === "--help" || verb === "-h") return await helpCommand(() => commands).run([], io);
    if (verb === "--version") return await version.run([], io);
    if (verb.startsWith("-")) throw new UsageError(`Unknown option '${verb}'.`);
    const cmd = commands.find((c) => c.name === verb);
    if (!cmd) throw new UsageError(`Unknown command '${verb}'.`);
    if (wantsHelp(rest, cmd.runsCommand === true)) {
      return await helpCommand(() => commands).run([verb], io);
    }
    return await cmd.run(rest, io);
  } catch (err) {
    return report(err, io);
  }
}

/** Whether `--help` among a verb's arguments is meant for podunit (not after `--`, nor inside a user's command). */
export function wantsHelp(args: string[], runsCommand: boolean): boolean {
  for (const a of args) {
    if (a === "--help") return true;
    if (a === "--" || (runsCommand && !a.startsWith("-"))) return false;
  }
  return false;
}

/** Runs the command line of this process and exits with its code (the binary's entry, src/podunit.ts, calls it; it runs the generator itself). */
export function runProcess(): void {
  exitWith(main(process.argv.slice(2), processIo()));
}

if (import.meta.main) runProcess();
