/**
 * `podunit system refresh` on a real systemd: pods enabled with unit files whose
 * plan is not the one this podunit makes (what an upgrade of podunit leaves: their
 * digest differs) do not start; refresh writes them again from the spec, backend
 * and images they were enabled with, and they start. A pod whose spec broke is
 * named and left as it was; the others are still done.
 */
import { afterAll, expect, test } from "bun:test";
import { labHelpers, useLab, writeSpec } from "./harness.ts";

const t = useLab("refresh");
const { podunit, show, journal } = labHelpers(t);
const sh = (...argv: string[]) => t.lab.sh(argv);
const SPEC = `[install]\n[containers.app]\ncommand = ["/bin/sleep", "600"]\n`;
const target = (pod: string) => `podunit-${pod.replaceAll("-", "\\x2d")}.target`;
const unit = (pod: string, part: string) => `podunit-${pod.replaceAll("-", "\\x2d")}-${part}.service`;
/** The content of the pod's unit files in /etc/systemd/system, for before/after comparisons. */
const files = (pod: string) => sh("bash", "-c", `cat /etc/systemd/system/podunit-${pod.replaceAll("-", "\\\\x2d")}[.-]*`);

afterAll(async () => {
  for (const pod of ["rf-a", "rf-b"]) await podunit("disable", pod, "--now");
});

test("enabled pods whose unit files are this podunit's: up to date, nothing written, no reload", async () => {
  writeSpec(t.lab, "rf-a", SPEC);
  writeSpec(t.lab, "rf-b", SPEC);
  expect((await podunit("enable", "rf-a", "--backend", "native")).status).toBe(0);
  expect((await podunit("enable", "rf-b")).status).toBe(0);
  const r = await podunit("system", "refresh");
  expect(r).toMatchObject({ status: 0, stderr: "" });
  expect(r.stdout).toBe("Pod 'rf-a': unit files up to date.\nPod 'rf-b': unit files up to date.\n");
});

test("unit files of a plan this podunit does not make keep the pod from starting; refresh writes them again and it starts, on its backend", async () => {
  // What an earlier podunit that planned the pod differently left: another digest in every prepare step.
  await sh("bash", "-c", "sed -i 's/--digest [0-9a-f]*/--digest 0123456789abcdef/' /etc/systemd/system/podunit-rf\\\\x2da-*.service");
  await sh("systemctl", "daemon-reload");
  expect((await t.lab.run(["systemctl", "start", target("rf-a")])).status).not.toBe(0);
  expect(await journal(unit("rf-a", "sandbox"))).toContain("has changed since the unit files were written");
  await sh("systemctl", "reset-failed");

  const r = await podunit("system", "refresh");
  expect(r).toMatchObject({ status: 0, stderr: "" });
  expect(r.stdout).toContain("Pod 'rf-a': unit files written again for this podunit (1 written, 0 removed); they take effect at its next start.\n");
  expect(r.stdout).toContain("Pod 'rf-b': unit files up to date.\n");
  expect(r.stdout).toContain("systemd reloaded (daemon-reload).\n");
  expect(await sh("grep", "-c", "0123456789abcdef", "-r", "/etc/systemd/system/").catch(() => "none")).toBe("none");
  expect(await sh("grep", "-o", "--", "--backend native", `/etc/systemd/system/${unit("rf-a", "sandbox")}`)).toBe("--backend native\n");
  expect(await show(unit("rf-a", "sandbox"), "NeedDaemonReload")).toBe("no");

  expect((await t.lab.run(["systemctl", "start", target("rf-a")])).status).toBe(0);
  expect(await show(unit("rf-a", "app"), "ActiveState")).toBe("active");
  expect(await show(unit("rf-a", "sandbox"), "Description")).toBe("Pod 'rf-a' sandbox (native)");
});

test("a pod whose spec broke is named with the reason and left as it was; the others are still refreshed; exit 1", async () => {
  const before = await files("rf-b");
  writeSpec(t.lab, "rf-b", "[containers.app\n");
  const r = await podunit("system", "refresh");
  expect(r.status).toBe(1);
  expect(r.stdout).toBe("Pod 'rf-a': unit files up to date.\n");
  expect(r.stderr).toContain("podunit: pod 'rf-b': its unit files were left as they were: Invalid pod spec:");
  expect(r.stderr).toContain("/srv/lab/pods/rf-b.toml:1:");
  expect(r.stderr).toContain("podunit: Fix that, then run 'podunit enable rf-b' (or 'podunit disable rf-b'); the unit files it has now may not start it.\n");
  expect(await files("rf-b")).toBe(before);
});
