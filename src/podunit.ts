/**
 * The binary's entry. The health checks a pod's timer starts (`podunit internal
 * health CONFIG`, every few seconds per pod) load only their own few modules;
 * everything else loads the command table (src/main.ts). Evaluating the whole
 * table is most of a command's own start-up, and a check would pay it each time
 * (docs/benchmarks.md).
 *
 * No top-level await: the binary is built with --bytecode, which needs a CommonJS bundle.
 */
import { writeAll } from "./cli/common/output.ts";

const argv = process.argv.slice(2);
if (argv[0] === "internal" && argv[1] === "health") {
  void import("./cli/health.ts").then(async (h) => {
    process.exit(await h.healthMain(argv.slice(2), (t) => writeAll(1, t), (t) => writeAll(2, t)));
  });
} else {
  void import("./main.ts").then((m) => m.runProcess());
}
