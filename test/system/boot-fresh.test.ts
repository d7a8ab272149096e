/**
 * A pod that starts with the system: a lab booted with the generator link and a
 * pod spec already in place, so the generator runs when systemd starts and the pod
 * comes up from an empty /run as part of the lab's boot target, next to a broken spec.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "../lab/lab.ts";
import { PODUNIT, useLab } from "./harness.ts";

const ROOTFS = "/var/lib/podunit-boot/busybox";

/** What the lab finds when it boots: specs in /etc/podunit/pods, the generator link, a root file system. */
const dir = mkdtempSync(join(tmpdir(), "podunit-boot-fresh-"));
for (const d of ["pods", "generators"]) mkdirSync(join(dir, d));
Bun.spawnSync(["bash", join(REPO, "test/lab/mkrootfs.sh"), join(dir, "rootfs")]);
symlinkSync(PODUNIT, join(dir, "generators", "podunit-generator"));
writeFileSync(join(dir, "pods", "early.toml"), `
[install]
wanted_by = ["podunit-lab.target"]
[containers.host]
command = ["/bin/sleep", "600"]
[containers.box]
rootfs = "${ROOTFS}"
command = ["/bin/sh", "-c", "echo up from $(hostname); sleep 600"]
`);
writeFileSync(join(dir, "pods", "broken.toml"), `[install]\nwanted_by = ["podunit-lab.target"]\n[containers.x]\ncommand = "not a list"\n`);

const t = useLab("boot-fresh", {
  binds: [`${join(dir, "pods")}:/etc/podunit/pods:ro`, `${join(dir, "generators")}:/etc/systemd/system-generators:ro`, `${join(dir, "rootfs")}:${ROOTFS}:ro`],
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const show = async (unit: string, p: string) => (await t.lab.sh(["systemctl", "show", "--value", "-p", p, unit])).trim();

test("the generated pod is up when the lab has booted, its run files written by its units", async () => {
  expect(await show("podunit-early.target", "ActiveState")).toBe("active");
  for (const u of ["sandbox", "host", "box"]) expect(await show(`podunit-early-${u}.service`, "ActiveState")).toBe("active");
  expect(await show("podunit-early-sandbox.service", "FragmentPath")).toBe("/run/systemd/generator/podunit-early-sandbox.service");
  const files = await t.lab.sh(["find", "/run/podunit/early", "-name", "config.json"]);
  expect(files.split("\n").filter(Boolean).sort()).toEqual(["/run/podunit/early/bundles/box/config.json", "/run/podunit/early/sandbox/config.json"]);
  expect((await t.lab.sh(["stat", "-c", "%a", "/run/podunit/early"])).trim()).toBe("700");
  const status = JSON.parse(await t.lab.sh([PODUNIT, "status", "early", "--json"]));
  expect(status.state).toBe("running");
  await t.lab.sh(["journalctl", "--sync"]);
  expect(await t.lab.sh(["journalctl", "-u", "podunit-early-box.service", "-o", "cat", "--no-pager"])).toContain("up from early");
});

test("the broken spec made no units", async () => {
  const generated = await t.lab.sh(["ls", "/run/systemd/generator"]);
  expect(generated).not.toContain("broken");
  expect(generated).toContain("podunit-early.target");
});

test("podunit stop takes the pod down and leaves nothing in /run", async () => {
  await t.lab.sh([PODUNIT, "stop", "early"]);
  expect(await show("podunit-early-sandbox.service", "ActiveState")).toBe("inactive");
  expect((await t.lab.run(["test", "-e", "/run/podunit/early"])).status).toBe(1);
});
