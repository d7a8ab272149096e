/**
 * `make demo`: podunit's main job, shown in a throw-away systemd. Boots a lab,
 * builds a small web image from busybox and loads it into the store, starts
 * contrib/examples/demo.toml (the image member on podunit's bridge, its port
 * published on the lab's port 8080, a host member beside it), asks the
 * published port from the lab, shows status, logs and the cgroup tree, stops
 * the pod and tears the lab down.
 */
import { join } from "node:path";
import { mkdirSync, copyFileSync } from "node:fs";
import { Lab, REPO } from "./lab.ts";
import { busyboxLayer, filesLayer, writeImage } from "../system/images-build.ts";

const PODUNIT = join(REPO, "dist/podunit");
const env = { PODUNIT_SPEC_DIR: "/srv/lab/pods" };

function show(title: string, text: string): void {
  console.log(`\n\x1b[1m$ ${title}\x1b[0m\n${text.trimEnd()}`);
}

const lab = await Lab.boot("demo");
let failed = false;
try {
  console.log(`A throw-away systemd is up (PID ${lab.pid} on this machine, ${lab.cgroupMode} cgroups).`);
  mkdirSync(join(lab.shareDir, "pods"), { recursive: true });
  const page = "<h1>hello from an image member, through a published port</h1>\n";
  writeImage(join(lab.shareDir, "demo-web"), "localhost/demo-web:1", [busyboxLayer(), filesLayer({ "www/index.html": page })], {
    Cmd: ["/bin/httpd", "-f", "-v", "-p", "80", "-h", "/www"],
    ExposedPorts: { "80/tcp": {} },
  });
  copyFileSync(join(REPO, "contrib/examples/demo.toml"), join(lab.shareDir, "pods/demo.toml"));

  const run = async (args: string[]) => {
    const r = await lab.run([PODUNIT, ...args], { env });
    show(`podunit ${args.join(" ")}`, r.stdout + r.stderr);
    if (r.status !== 0) throw new Error(`podunit ${args.join(" ")} exited ${r.status}`);
  };
  await run(["image", "load", "/srv/lab/demo-web"]);
  await run(["image", "list"]);
  await run(["start", "demo"]);
  await Bun.sleep(2500);
  await run(["status", "demo"]);
  show("wget -qO- http://127.0.0.1:8080/   (the published port, from the host)", await lab.sh(["/bin/busybox", "wget", "-qO-", "http://127.0.0.1:8080/"]));
  await run(["logs", "demo", "-n", "6"]);
  await run(["exec", "demo", "web", "--", "hostname"]);
  // Without the cgroups' extended attributes (invocation ids), which this systemd-cgls prints too.
  const tree = (await lab.sh(["systemd-cgls", "--no-pager", "-u", "podunit.slice"])).split("\n").filter((l) => !l.includes("→")).join("\n");
  show("systemd-cgls -u podunit.slice", tree);
  await run(["list"]);
  await run(["stop", "demo"]);
} catch (err) {
  failed = true;
  console.error(`demo failed: ${(err as Error).message}`);
} finally {
  lab.shutdown();
}
process.exit(failed ? 1 : 0);
