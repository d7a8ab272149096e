/**
 * The Bun floor: the floor's units (a sandbox service holding new network, IPC
 * and UTS namespaces, two `Type=exec` services joining the first two), made by a
 * compiled Bun program through podunit's own D-Bus client and property encoding,
 * and nothing else: no spec, no plan, no lock, no pins, no checks. What it takes
 * over the systemd-run floor is what any client in this runtime pays; what
 * podunit takes over it is podunit's own work.
 *
 *   bun-floor start|stop ID       (built by bench/startup.ts as dist/bench/bun-floor)
 *
 * Built with podunit's flags (bench/startup.ts).
 */
import { readFileSync, readlinkSync } from "node:fs";
import { exec, prop } from "../src/plan/builder.ts";
import { connectSystemd } from "../src/systemd/bus.ts";
import { toDbus } from "../src/systemd/properties.ts";
import type { UnitProperty } from "../src/systemd/properties.ts";

async function main(verb: string, id: string): Promise<number> {
  const slice = `bf${id}.slice`;
  const sd = await connectSystemd(process.env);
  try {
    if (verb === "stop") {
      await sd.stopUnit(slice, "replace");
      return 0;
    }
    const start = (name: string, argv: string[], extra: UnitProperty[] = []) =>
      sd.startTransientUnit(name, toDbus({ properties: [prop("Slice", slice), prop("Type", "exec"), prop("ExecStartEx", [exec(argv[0]!, argv.slice(1))]), ...extra] }), "fail");
    const sandbox = `bf${id}-sandbox.service`;
    await start(sandbox, ["/usr/bin/unshare", "-n", "-i", "-u", "/bin/sleep", "600"]);
    const pid = await sd.mainPid(sandbox);
    if (pid === undefined) throw new Error(`${sandbox} has no main process`);
    // Type=exec is done when unshare runs; its namespaces exist once it has executed sleep.
    const self = readlinkSync("/proc/self/ns/net");
    const end = Date.now() + 5000;
    while (readlinkSync(`/proc/${pid}/ns/net`) === self || readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "sleep") {
      if (Date.now() > end) throw new Error(`${sandbox} did not make its namespaces`);
      Bun.sleepSync(0.2);
    }
    const join = [prop("NetworkNamespacePath", `/proc/${pid}/ns/net`), prop("IPCNamespacePath", `/proc/${pid}/ns/ipc`)];
    await Promise.all(["a", "b"].map((m) => start(`bf${id}-${m}.service`, ["/bin/sleep", "600"], join)));
    return 0;
  } finally {
    sd.close();
  }
}

const [verb, id] = process.argv.slice(2);
void main(verb ?? "", id ?? "").then(
  (code) => process.exit(code),
  (err) => {
    console.error(`bun-floor: ${(err as Error).message}`);
    process.exit(1);
  },
);
