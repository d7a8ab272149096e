import { describe, expect, test } from "bun:test";
import { UsageError } from "../../src/errors.ts";
import { planCommand } from "../../src/cli/plan.ts";
import type { Io } from "../../src/cli/common/command.ts";
import { HOST, HOST_NO_RUNC } from "./plan-helpers.ts";

const WEB = `
memory_max = "512M"
[containers.db]
command = ["/usr/bin/redis-server"]
[containers.app]
rootfs = "/var/lib/podunit/rootfs/app"
command = ["app"]
after = ["db"]
`;

function io(): Io & { stdout: string } {
  const o = { stdout: "", out: (t: string) => void (o.stdout += t), err: () => {}, env: {} };
  return o;
}

const cmd = (host = HOST) =>
  planCommand({
    cwd: "/",
    readFile: async (p) => (p === "/etc/podunit/pods/web.toml" ? new TextEncoder().encode(WEB) : undefined),
    hostFacts: () => host,
  });

describe("podunit plan", () => {
  test("text: start order, units in unit-file form, pins, files", async () => {
    const o = io();
    expect(await cmd().run(["web"], o)).toBe(0);
    expect(o.stdout).toContain("Pod 'web' from /etc/podunit/pods/web.toml\n");
    expect(o.stdout).toContain("Sandbox: runc; systemd 252 (needs 243), cgroups hybrid\n");
    expect(o.stdout).toContain("  1. podunit-web.slice\n  2. podunit-web-sandbox.service\n  3. podunit-web-db.service\n  4. podunit-web-app.service\n");
    expect(o.stdout).toContain("  podunit-web.slice\n    Description=Pod 'web'\n    MemoryMax=536870912\n");
    expect(o.stdout).toContain("    ExecStart=:/usr/bin/runc run -d --pid-file /run/podunit/web/app.pid");
    expect(o.stdout).toContain("  net  /run/podunit/web/ns/net\n");
    expect(o.stdout).toMatch(/\/run\/podunit\/web\/bundles\/app\/config.json {2}\(mode 0600, \d+ bytes\)/);
  });
  test("--json: the plan with bigints as strings", async () => {
    const o = io();
    await cmd().run(["web", "--json"], o);
    const j = JSON.parse(o.stdout);
    expect(j.pod).toBe("web");
    expect(j.slice.properties[1]).toEqual({ key: "MemoryMax", value: "536870912" });
  });
  test("--backend overrides the spec and the host's default", async () => {
    const o = io();
    await cmd().run(["web", "--json", "--backend", "native"], o);
    expect(JSON.parse(o.stdout).backend).toBe("native");
    await expect(cmd().run(["web", "--backend", "lxc"], io())).rejects.toThrow(UsageError);
    await expect(cmd(HOST_NO_RUNC).run(["web", "--backend", "runc"], io())).rejects.toThrow(/runc is not installed/);
  });
  test("exactly one pod", async () => {
    await expect(cmd().run([], io())).rejects.toThrow(UsageError);
    await expect(cmd().run(["a", "b"], io())).rejects.toThrow(UsageError);
  });
});
