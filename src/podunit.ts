/**
 * The binary's entry. Evaluating the whole command table (src/main.ts) is most of a
 * command's own start-up, so the commands run most often load only their own
 * modules: the systemd generator (at boot and every daemon-reload), the health
 * checks a pod's timer starts (`podunit internal health CONFIG`, every few seconds
 * per pod), the other helpers podunit's units run (`internal`), the verbs of a pod's
 * life (start, restart, stop, status, list) and `version`; not when asked for help,
 * which reads the table. Everything else loads the table (docs/benchmarks.md).
 *
 * Built with --splitting: a verb's dynamic import() loads only the chunks of its own
 * modules from the binary, so a command does not load the whole bundle first.
 */
import type { Command } from "./cli/common/command.ts";
import { writeAll } from "./cli/common/output.ts";
import { isGeneratorInvocation } from "./boot/generatorname.ts";

/** The verbs that run without the table, and how each is loaded. */
const ALONE: Record<string, () => Promise<Command>> = {
  start: () => import("./cli/start.ts").then((m) => m.start),
  restart: () => import("./cli/start.ts").then((m) => m.restart),
  stop: () => import("./cli/stop.ts").then((m) => m.stop),
  status: () => import("./cli/status.ts").then((m) => m.status),
  list: () => import("./cli/list.ts").then((m) => m.list),
  version: () => import("./cli/version.ts").then((m) => m.version),
  "--version": () => import("./cli/version.ts").then((m) => m.version),
  // What units run at every boot-time start and stop, and `podunit exec` per command;
  // completion, the one subcommand that reads the table, loads it itself.
  internal: () => import("./cli/internal.ts").then((m) => m.internalCommand(() => import("./main.ts").then((t) => t.commandTable()))),
};

const argv = process.argv.slice(2);
const alone = Object.hasOwn(ALONE, argv[0] ?? "") && !argv.includes("--help") ? ALONE[argv[0]!] : undefined;
if (isGeneratorInvocation(process.argv0)) {
  // Started through the systemd generator link (argv[0] is its path; process.argv[0] of a compiled binary is "bun").
  void Promise.all([import("./cli/common/process.ts"), import("./cli/generator-run.ts")]).then(([p, g]) => p.exitWith(g.runGenerator(argv, process.env)));
} else if (argv[0] === "internal" && argv[1] === "health") {
  void import("./cli/health.ts").then(async (h) => {
    process.exit(await h.healthMain(argv.slice(2), (t) => writeAll(1, t), (t) => writeAll(2, t)));
  });
} else if (alone !== undefined) {
  void Promise.all([import("./cli/common/process.ts"), import("./trace.ts")]).then(([p, t]) => {
    t.mark("main");
    const io = p.processIo();
    const run = alone().then((cmd) => (t.mark("the verb's modules loaded"), cmd.run(argv.slice(1), io)));
    p.exitWith(run.catch((err: unknown) => p.report(err, io)));
  });
} else {
  void import("./main.ts").then((m) => m.runProcess());
}
