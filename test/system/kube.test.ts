/**
 * Kubernetes YAML against real consumers, in a lab with its own network
 * namespace: Debian's Podman runs a manifest made by `podunit kube generate`
 * (`podman kube play`, the image loaded into Podman's store from the same OCI
 * archive as podunit's) and its containers run with the spec's commands,
 * environment and published port; and a manifest written by hand in the style
 * of the Kubernetes documentation (Deployment, ConfigMap, Secret, init container,
 * web server and sidecar sharing an emptyDir, http probes, a ConfigMap as a
 * volume) is played, started and answers, and its member is healthy.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { busyboxLayer, filesLayer, writeImage } from "./images-build.ts";
import { eventually, labHelpers, useLab, writeSpec } from "./harness.ts";

const t = useLab("kube");
const { podunit } = labHelpers(t);
const sh = (cmd: string) => t.lab.run(["bash", "-c", cmd]);
/** Podman with its store on the lab's /run (an overlay store cannot sit on the lab's own overlay root). */
const PODMAN = "podman --root /run/podman-test/storage --runroot /run/podman-test/run --storage-driver vfs --events-backend file";
const SECRET = "s3cr3t-token-42";

async function ok(p: Promise<{ status: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}
const fetchPage = async (port: number) => {
  const r = await sh(`curl -sS --max-time 2 http://127.0.0.1:${port}/`);
  return r.status === 0 ? r.stdout : undefined;
};

beforeAll(async () => {
  const dir = join(t.lab.shareDir, "images");
  writeImage(join(dir, "kube-web"), "localhost/kube-web:1", [busyboxLayer(), filesLayer({ "www/index.html": "hello from the documentation's pod\n" })], { Cmd: ["sh"], Env: ["PATH=/bin"] });
  // One archive for both stores: an OCI archive (a tar of the layout).
  await ok(sh(`tar -C /srv/lab/images/kube-web -cf /srv/lab/images/kube-web.tar .`));
  await ok(podunit("image", "load", "/srv/lab/images/kube-web.tar"));
  mkdirSync(join(t.lab.shareDir, "kube"), { recursive: true });
  copyFileSync(join(import.meta.dir, "../fixtures/kube/manifests/docs-style.yaml"), join(t.lab.shareDir, "kube/docs-style.yaml"));
}, 120_000);

afterAll(async () => {
  await sh(`${PODMAN} pod rm -f -a; ${PODMAN} rm -f -a`);
});

describe("podman kube play runs a generated manifest", () => {
  test("the members run with the spec's commands, environment and published port", async () => {
    writeSpec(
      t.lab,
      "gen",
      `network = "bridge"
ports = ["18081:8080"]
memory_max = "256M"

[containers.web]
image = "localhost/kube-web:1"
command = ["sh", "-c", "mkdir -p /tmp/www && echo \\"$GREETING from the spec\\" > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]
env = { GREETING = "hello-kube" }

[containers.side]
image = "localhost/kube-web:1"
command = ["sleep", "100000"]
env = { ROLE = "sidecar" }
`,
    );
    await ok(podunit("kube", "generate", "gen", "--output", "/srv/lab/kube/gen.yaml"));
    const load = await ok(sh(`${PODMAN} load -i /srv/lab/images/kube-web.tar 2>&1`));
    expect(load).toContain("kube-web");
    // Podman names an OCI archive's image by its ref.name annotation; tag it as the spec names it if it did not.
    await sh(`${PODMAN} image exists localhost/kube-web:1 || ${PODMAN} tag $(${PODMAN} images -q | head -1) localhost/kube-web:1`);
    await ok(sh(`${PODMAN} kube play /srv/lab/kube/gen.yaml`));
    expect(await eventually("podman's pod to answer on the published port", () => fetchPage(18081), 60_000)).toBe("hello-kube from the spec\n");
    const cmd = await ok(sh(`${PODMAN} inspect gen-web --format '{{json .Config.Cmd}} {{json .Config.Entrypoint}}'`));
    expect(cmd).toContain("exec httpd -f -p 8080 -h /tmp/www");
    expect(await ok(sh(`${PODMAN} exec gen-side sh -c 'echo $ROLE'`))).toBe("sidecar\n");
    expect(await ok(sh(`${PODMAN} exec gen-web sh -c 'echo $GREETING'`))).toBe("hello-kube\n");
    await ok(sh(`${PODMAN} kube down /srv/lab/kube/gen.yaml`));
  }, 240_000);
});

describe("a manifest in the style of the Kubernetes documentation", () => {
  test("plays, starts and answers; the Secret's value stays in a root-only spec", async () => {
    const r = await podunit("kube", "play", "/srv/lab/kube/docs-style.yaml", "--start");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Pod 'shop' started");
    expect(r.stderr).toContain("not published");
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(statSync(join(t.lab.shareDir, "pods/shop.toml")).mode & 0o777).toBe(0o600);
    expect(await eventually("the played pod to answer", () => fetchPage(18080), 30_000)).toBe("hello from the documentation's pod\n");
    const status = await podunit("status", "shop");
    expect(status.stdout + status.stderr).not.toContain(SECRET);
    // The server has its environment from the ConfigMap and the Secret; the sidecar reaches it over the pod's loopback.
    const environ = await ok(sh(`tr '\\0' '\\n' < /proc/$(systemctl show -p MainPID --value podunit-shop-web.service)/environ | grep -E '^(GREETING|API_TOKEN)=' | sort`));
    expect(environ).toBe(`API_TOKEN=${SECRET}\nGREETING=hello from the pod\n`);
    // The sidecar reads the file the server put into the shared emptyDir (a scratch volume).
    await eventually("the sidecar to see the server and its file", async () => (await sh("journalctl -u podunit-shop-sidecar.service -o cat --no-pager")).stdout.includes("sidecar saw the server: hello from the documentation's pod"), 30_000);
    // The init member read the ConfigMap's file through its volume.
    expect((await sh("journalctl -u podunit-shop-prepare.service -o cat --no-pager")).stdout).toContain("prepared: hello from the pod");
    // The probes are the server's health check: its first pass gated the start, and status shows it healthy.
    const st = JSON.parse(await ok(podunit("status", "shop", "--json"))) as { members: { name: string; health?: { status: string } }[] };
    expect(st.members.find((m) => m.name === "web")?.health?.status).toBe("healthy");
    expect(st.members.find((m) => m.name === "sidecar")?.health).toBeUndefined();
    // Played again over an existing spec: refused, the spec unchanged.
    const again = await podunit("kube", "play", "/srv/lab/kube/docs-style.yaml");
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain("exists already");
    await ok(podunit("stop", "shop"));
  }, 240_000);
});
