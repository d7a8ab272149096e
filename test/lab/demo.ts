/**
 * `make demo`: podunit's main job, shown in a throw-away systemd. Boots a lab,
 * starts contrib/examples/demo.toml, shows status, logs and the cgroup tree,
 * stops the pod and tears the lab down.
 */
import { join } from "node:path";
import { mkdirSync, copyFileSync } from "node:fs";
import { Lab, REPO } from "./lab.ts";

const PODUNIT = join(REPO, "dist/podunit");
const env = { PODUNIT_SPEC_DIR: "/srv/lab/pods" };

function show(title: string, text: string): void {
  console.log(`\n\x1b[1m$ ${title}\x1b[0m\n${text.trimEnd()}`);
}

const lab = await Lab.boot("demo");
let failed = false;
try {
  console.log(`A throw-away systemd is up (PID ${lab.pid} on this machine, ${lab.cgroupMode} cgroups).`);
  await lab.sh(["bash", join(REPO, "test/lab/mkrootfs.sh"), "/var/lib/podunit/rootfs/busybox"]);
  mkdirSync(join(lab.shareDir, "pods"), { recursive: true });
  copyFileSync(join(REPO, "contrib/examples/demo.toml"), join(lab.shareDir, "pods/demo.toml"));

  const run = async (args: string[]) => {
    const r = await lab.run([PODUNIT, ...args], { env });
    show(`podunit ${args.join(" ")}`, r.stdout + r.stderr);
    if (r.status !== 0) throw new Error(`podunit ${args.join(" ")} exited ${r.status}`);
  };
  await run(["start", "demo"]);
  await Bun.sleep(2500);
  await run(["status", "demo"]);
  await run(["logs", "demo", "-n", "6"]);
  await run(["exec", "demo", "client", "--", "hostname"]);
  show("systemd-cgls -u podunit.slice", await lab.sh(["systemd-cgls", "--no-pager", "-u", "podunit.slice"]));
  await run(["list"]);
  await run(["stop", "demo"]);
} catch (err) {
  failed = true;
  console.error(`demo failed: ${(err as Error).message}`);
} finally {
  lab.shutdown();
}
process.exit(failed ? 1 : 0);
