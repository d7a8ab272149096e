/**
 * Pods whose images come from a registry, on a real systemd: Debian's
 * docker-registry runs inside the lab (its own network namespace) on 127.0.0.1
 * with TLS (a CA made here with openssl, trusted through certs.d) and htpasswd
 * Basic authentication; skopeo pushes a busybox image into it; `podunit login`
 * stores the credentials. One `podunit start` pulls and runs a pod from an empty
 * store; a start whose pull fails leaves nothing and the store as it was; the
 * password appears nowhere: journal, `ps` during the pull, podunit's output and errors.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually, labHelpers, leftovers, POD_ENV, PODUNIT, useLab, writeSpec } from "./harness.ts";
import { busyboxLayer } from "./images-build.ts";
import { makeCerts } from "../unit/registry-helpers.ts";
import { buildImage, ociLayoutFiles, writeDir } from "../unit/image-helpers.ts";

const t = useLab("pull");
const { podunit, journal } = labHelpers(t);

const PORT = 5443;
const REG = `127.0.0.1:${PORT}`;
const USER = "puller";
const PASSWORD = "Pw-9f3c61e0-registry-secret";
const STORE = "/var/lib/podunit/images";
/** Every podunit output of this file, searched for the password at the end. */
const outputs: string[] = [];

async function run(...args: string[]) {
  const r = await podunit(...args);
  outputs.push(r.stdout, r.stderr);
  return r;
}

async function ok(...args: string[]): Promise<string> {
  const r = await run(...args);
  if (r.status !== 0) throw new Error(`podunit ${args.join(" ")}: exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The store's files (path and size), to show a failed pull changed nothing. */
async function storeFiles(): Promise<string> {
  return t.lab.sh(["bash", "-c", `cd ${STORE} 2>/dev/null && find . -printf '%p %s\\n' | sort || true`]);
}

beforeAll(async () => {
  const share = t.lab.shareDir;
  const image = buildImage([busyboxLayer()], { config: { Cmd: ["sh", "-c", "echo pulled-member-runs; exec sleep 1000000"], Env: ["PATH=/bin"] } });
  writeDir(join(share, "layout"), ociLayoutFiles([{ image, ref: "app" }]));
  const certs = makeCerts(join(share, "certs"));
  const reg = join(share, "registry");
  mkdirSync(reg, { recursive: true });
  const htpasswd = Bun.spawnSync(["htpasswd", "-Bbn", USER, PASSWORD]).stdout.toString();
  writeFileSync(join(reg, "htpasswd"), htpasswd);
  const lab = (p: string) => p.replace(share, "/srv/lab");
  writeFileSync(
    join(reg, "config.yml"),
    [
      "version: 0.1",
      "log:",
      "  level: info",
      "storage:",
      "  filesystem:",
      "    rootdirectory: /var/lib/test-registry",
      "http:",
      `  addr: ${REG}`,
      "  secret: podunit-test",
      "  tls:",
      `    certificate: ${lab(certs.crt)}`,
      `    key: ${lab(certs.key)}`,
      "auth:",
      "  htpasswd:",
      "    realm: podunit-test",
      "    path: /srv/lab/registry/htpasswd",
      "",
    ].join("\n"),
  );
  // The registry is a unit of the lab's systemd: inside the lab's network namespace, stopped with the lab.
  await t.lab.sh(["systemd-run", "--unit=test-registry", "--property=Type=exec", "docker-registry", "serve", "/srv/lab/registry/config.yml"]);
  await eventually("the registry to listen", async () => (await t.lab.run(["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${PORT}`])).status === 0);
  await t.lab.sh(["mkdir", "-p", `/etc/podunit/certs.d/${REG}`]);
  await t.lab.sh(["cp", lab(certs.caCrt), `/etc/podunit/certs.d/${REG}/ca.crt`]);
  await t.lab.sh(["skopeo", "--insecure-policy", "copy", "-q", "--dest-cert-dir", `/etc/podunit/certs.d/${REG}`, "--dest-creds", `${USER}:${PASSWORD}`, "oci:/srv/lab/layout:app", `docker://${REG}/team/app:1`]);
  const login = await t.podunit(["login", REG, "--username", USER, "--password-stdin"], { stdin: `${PASSWORD}\n`, env: POD_ENV });
  outputs.push(login.stdout, login.stderr);
  if (login.status !== 0) throw new Error(`podunit login: ${login.stderr}`);
}, 120_000);

describe("pods from a registry", () => {
  test("one start pulls the image into an empty store and the member runs; the password is in no ps output", async () => {
    expect((await storeFiles()).includes("blobs/sha256/")).toBe(false);
    writeSpec(t.lab, "pulled", `[containers.app]\nimage = "${REG}/team/app:1"\npull = "missing"\n`);
    // `ps` of every process, as often as it can be taken, while the start pulls.
    const script = `
      (while :; do ps -eo pid,args; done) > /tmp/ps.log 2>&1 & watcher=$!
      ${PODUNIT} start pulled; code=$?
      kill $watcher; wait $watcher 2>/dev/null
      exit $code`;
    const r = await t.lab.run(["bash", "-c", script], { env: POD_ENV, timeoutMs: 120_000 });
    outputs.push(r.stdout, r.stderr);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Pulling ${REG}/team/app:1 from ${REG}`);
    expect(r.stdout).toMatch(/Pulled 127\.0\.0\.1:5443\/team\/app:1 \([0-9a-f]{12}\): 1 new layer\./);
    const ps = await t.lab.sh(["cat", "/tmp/ps.log"]);
    expect(ps).toContain("podunit start pulled");
    expect(ps).not.toContain(PASSWORD);
    expect(await eventually("the member's output", async () => (await journal("podunit-pulled-app.service")).includes("pulled-member-runs"))).toBe(true);
    expect((await t.lab.sh(["systemctl", "is-active", "podunit-pulled-app.service"])).trim()).toBe("active");
    expect(await ok("image", "list")).toContain(`${REG}/team/app:1`);
    // A second start of the stopped pod finds the image there and pulls nothing.
    await ok("stop", "pulled");
    const again = await ok("start", "pulled");
    expect(again).not.toContain("Pulling");
    await ok("stop", "pulled");
    expect(await leftovers(t.lab, "pulled")).toEqual([]);
  }, 180_000);

  test(`pull = "always" fetches the manifest again on every start (the layers the store has are not downloaded again)`, async () => {
    writeSpec(t.lab, "fresh", `[containers.app]\nimage = "${REG}/team/app:1"\npull = "always"\n`);
    const out = await ok("start", "fresh");
    expect(out).toMatch(/Pulled 127\.0\.0\.1:5443\/team\/app:1 \([0-9a-f]{12}\): 0 new layers\./);
    await ok("stop", "fresh");
    expect(await leftovers(t.lab, "fresh")).toEqual([]);
  }, 120_000);

  test(`a unit-file pod (enable --now) with pull = "always" pulls in its pull unit, after network-online.target, before its sandbox`, async () => {
    writeSpec(t.lab, "bootpull", `[install]\n\n[containers.app]\nimage = "${REG}/team/app:1"\npull = "always"\n`);
    await ok("enable", "bootpull", "--now");
    const unit = "podunit-bootpull-image-pull.service";
    expect((await t.lab.sh(["systemctl", "show", "--value", "-p", "After", unit])).split(/\s+/)).toContain("network-online.target");
    expect((await t.lab.sh(["systemctl", "show", "--value", "-p", "Result", unit])).trim()).toBe("success");
    expect(await journal(unit)).toContain(`Pulled ${REG}/team/app:1`);
    expect((await t.lab.sh(["systemctl", "is-active", "podunit-bootpull-app.service"])).trim()).toBe("active");
    await ok("disable", "bootpull", "--now");
    expect(await leftovers(t.lab, "bootpull")).toEqual([]);
  }, 120_000);

  test("a failed pull (a tag the registry does not have) refuses the start: nothing started, nothing left, the store unchanged", async () => {
    const before = await storeFiles();
    writeSpec(t.lab, "notag", `[containers.app]\nimage = "${REG}/team/app:nope"\n`);
    const r = await run("start", "notag");
    expect(r.status).toBe(5);
    expect(r.stderr).toContain(`Pod 'notag' cannot start: failed to pull image '${REG}/team/app:nope' (pull = "missing") for member 'app'`);
    expect(r.stderr).toContain("Nothing of the pod was started or changed.");
    expect(await leftovers(t.lab, "notag")).toEqual([]);
    expect(await storeFiles()).toBe(before);
  }, 60_000);

  test(`pull = "never" with an image the store lacks is refused, saying how to get it`, async () => {
    writeSpec(t.lab, "never", `[containers.app]\nimage = "${REG}/team/app:2"\npull = "never"\n`);
    const r = await run("start", "never");
    expect(r.status).toBe(5);
    expect(r.stderr).toContain(`image '${REG}/team/app:2' for member 'app' (pull = "never": podunit does not fetch it) is not in the image store`);
    expect(r.stderr).toContain("podunit image pull REF");
    expect(r.stderr).toContain("podunit image load");
    expect(await leftovers(t.lab, "never")).toEqual([]);
  });

  test("the password is nowhere: not in the journal, podunit's output or errors, nor readable by others", async () => {
    await t.lab.sh(["journalctl", "--sync"]);
    const all = await t.lab.sh(["journalctl", "-o", "json", "--no-pager"]);
    expect(all.length).toBeGreaterThan(1000);
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString("base64"));
    expect(outputs.join("").length).toBeGreaterThan(200);
    expect(outputs.join("")).not.toContain(PASSWORD);
    expect((await t.lab.sh(["stat", "-c", "%a", "/etc/podunit/auth.json"])).trim()).toBe("600");
  });
});
