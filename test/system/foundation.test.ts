/**
 * The path from the compiled binary to a real systemd: a pod's slice and
 * services made over D-Bus, limits written to the cgroup files, and a clear
 * failure when the bus does not answer.
 */
import { describe, expect, test } from "bun:test";
import { PODUNIT, useLab, labHelpers, writeSpec } from "./harness.ts";
import { join } from "node:path";
import { REPO, type CgroupMode } from "../lab/lab.ts";

const t = useLab("foundation");
const { podunit, show, mainPid } = labHelpers(t);

/** Path of a cgroup attribute inside the lab, for v1 (per controller) and v2 layouts. */
function cgroupFile(mode: CgroupMode, controller: string, cgroup: string, v1: string, v2: string): string {
  return mode === "unified" ? `/sys/fs/cgroup${cgroup}/${v2}` : `/sys/fs/cgroup/${controller}${cgroup}/${v1}`;
}


describe("a pod's slice and a member with limits", () => {
  const unit = "podunit-t1-hold.service";
  const cgroup = "/podunit.slice/podunit-t1.slice/podunit-t1-hold.service";

  test("the compiled binary creates podunit-t1.slice and the member's service holding its process", async () => {
    writeSpec(t.lab, "t1", `
[containers.hold]
command = ["/bin/sleep", "600"]
memory_max = "64M"
cpu_quota = "20%"
tasks_max = 16
`);
    const r = await podunit("start", "t1", "--backend", "native");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(await show(unit, "ActiveState")).toBe("active");
    expect(await show(unit, "ControlGroup")).toBe(cgroup);
    expect(await show("podunit-t1.slice", "ActiveState")).toBe("active");
    expect(await show("podunit-t1.slice", "Slice")).toBe("podunit.slice");
    const procs = await t.lab.sh(["cat", cgroupFile(t.lab.cgroupMode, "pids", cgroup, "cgroup.procs", "cgroup.procs")]);
    expect(procs.split("\n")).toContain(String(await mainPid(unit)));
  });

  test("MemoryMax, CPUQuota and TasksMax are in the cgroup files", async () => {
    const mode = t.lab.cgroupMode;
    const mem = await t.lab.sh(["cat", cgroupFile(mode, "memory", cgroup, "memory.limit_in_bytes", "memory.max")]);
    expect(mem.trim()).toBe(String(64 * 1024 * 1024));
    const pids = await t.lab.sh(["cat", cgroupFile(mode, "pids", cgroup, "pids.max", "pids.max")]);
    expect(pids.trim()).toBe("16");
    if (mode === "unified") {
      const cpu = await t.lab.sh(["cat", cgroupFile(mode, "cpu", cgroup, "", "cpu.max")]);
      expect(cpu.trim()).toBe("20000 100000");
    } else {
      const quota = await t.lab.sh(["cat", cgroupFile(mode, "cpu", cgroup, "cpu.cfs_quota_us", "")]);
      const period = await t.lab.sh(["cat", cgroupFile(mode, "cpu", cgroup, "cpu.cfs_period_us", "")]);
      expect(Number(quota) / Number(period)).toBeCloseTo(0.2, 5);
    }
  });

  test("stopping the pod's slice stops its units and their processes", async () => {
    await t.lab.sh(["systemctl", "stop", "podunit-t1.slice"]);
    expect(await show(unit, "ActiveState")).toBe("inactive");
    const left = await t.lab.run(["pgrep", "-x", "sleep"]);
    expect(left.stdout).toBe("");
  });
});

// Enforcement (a member past its MemoryMax is OOM-killed) is pods.test.ts's "limits";
// a member's argv reaching it verbatim, and its output in journald, are faults.test.ts's
// and logs.test.ts's.

describe("the way to systemd", () => {
  test("debug bus names the address it reached systemd at: the system bus, or the one given", async () => {
    const r = await t.lab.run([PODUNIT, "debug", "bus"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^systemd 25\d reachable at unix:path=\/run\/dbus\/system_bus_socket; \d+ podunit slice\(s\) loaded\n$/);
    const given = await t.lab.run([PODUNIT, "debug", "bus"], { env: { DBUS_SYSTEM_BUS_ADDRESS: "unix:path=/run/dbus/./system_bus_socket" } });
    expect(given.stdout).toContain("reachable at unix:path=/run/dbus/./system_bus_socket;");
  });
});

describe("bad input", () => {
  test("a bus socket that does not exist: exit 4, the address named", async () => {
    const r = await t.lab.run([PODUNIT, "debug", "bus"], { env: { DBUS_SYSTEM_BUS_ADDRESS: "unix:path=/run/nothing-here" } });
    expect(r.status).toBe(4);
    expect(r.stderr).toContain("'unix:path=/run/nothing-here'");
    expect(r.stderr).toContain("the socket does not exist");
  });

  test("a bus that accepts but never answers: exit 4 within a few seconds, not a hang", async () => {
    // A listener inside the lab that accepts connections and stays silent.
    const listener = t.lab.run([join(REPO, "node_modules/.bin/bun"), "-e",
      "Bun.listen({ unix: '/run/silent.sock', socket: { data() {} } })"], { timeoutMs: 20_000 });
    for (let i = 0; i < 100; i++) {
      if ((await t.lab.run(["test", "-S", "/run/silent.sock"])).status === 0) break;
      await Bun.sleep(20);
    }
    const t0 = performance.now();
    const r = await t.lab.run([PODUNIT, "debug", "bus"], { env: { DBUS_SYSTEM_BUS_ADDRESS: "unix:path=/run/silent.sock" } });
    const ms = performance.now() - t0;
    await t.lab.run(["pkill", "-f", "silent.sock"]);
    await listener;
    expect(r.status).toBe(4);
    expect(r.stderr).toContain("'unix:path=/run/silent.sock'");
    expect(r.stderr).toContain("no answer within");
    expect(ms).toBeLessThan(10_000);
  });
});
