/**
 * The path from the compiled binary to a real systemd: slices, scopes and
 * services made over D-Bus, limits written to the cgroup files and enforced,
 * output in journald, and a clear failure when the bus does not answer.
 */
import { describe, expect, test } from "bun:test";
import { PODUNIT, useLab, labHelpers } from "./harness.ts";
import { join } from "node:path";
import { REPO, type CgroupMode } from "../lab/lab.ts";

const t = useLab("foundation");
const { show } = labHelpers(t);

/** Path of a cgroup attribute inside the lab, for v1 (per controller) and v2 layouts. */
function cgroupFile(mode: CgroupMode, controller: string, cgroup: string, v1: string, v2: string): string {
  return mode === "unified" ? `/sys/fs/cgroup${cgroup}/${v2}` : `/sys/fs/cgroup/${controller}${cgroup}/${v1}`;
}


describe("slice and scope with limits", () => {
  const unit = "podunit-t1-hold.scope";
  const cgroup = "/podunit.slice/podunit-t1.slice/podunit-t1-hold.scope";

  test("the compiled binary creates podunit-t1.slice and a scope holding a process", async () => {
    const r = await t.podunit(["debug", "run", "--pod", "t1", "--name", "hold", "--scope", "--memory-max", "64M",
      "--cpu-quota", "20%", "--tasks-max", "16", "--", "sleep", "600"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const pid = Number(/PID (\d+)/.exec(r.stdout)![1]);
    expect(await show(unit, "ActiveState")).toBe("active");
    expect(await show(unit, "ControlGroup")).toBe(cgroup);
    expect(await show("podunit-t1.slice", "ActiveState")).toBe("active");
    expect(await show("podunit-t1.slice", "Slice")).toBe("podunit.slice");
    const procs = await t.lab.sh(["cat", cgroupFile(t.lab.cgroupMode, "pids", cgroup, "cgroup.procs", "cgroup.procs")]);
    expect(procs.split("\n")).toContain(String(pid));
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

  test("stopping the slice stops the scope and its process", async () => {
    await t.lab.sh(["systemctl", "stop", "podunit-t1.slice"]);
    expect(await show(unit, "ActiveState")).toBe("inactive");
    const left = await t.lab.run(["pgrep", "-x", "sleep"]);
    expect(left.stdout).toBe("");
  });
});

describe("enforcement", () => {
  test("a process allocating past MemoryMax is OOM-killed inside its scope; the scope lives on", async () => {
    const v2 = t.lab.cgroupMode === "unified";
    const counter = v2
      ? 'cg=$(grep "^0::" /proc/self/cgroup | cut -d: -f3); cat /sys/fs/cgroup$cg/memory.events'
      : 'cg=$(grep ":memory:" /proc/self/cgroup | cut -d: -f3); cat /sys/fs/cgroup/memory$cg/memory.oom_control';
    // The shell waits a moment so that the allocation starts once it sits in the scope;
    // `tail` buffers everything it reads, and its raised oom_score_adj makes it the process
    // the OOM killer picks (not the shell that reports).
    const hog = "head -c 256M /dev/zero | (echo 1000 > /proc/self/oom_score_adj; exec tail > /dev/null)";
    const r = await t.podunit(["debug", "run", "--pod", "t2", "--name", "hog", "--scope", "--wait", "--memory-max", "32M",
      "--", "sh", "-c", `sleep 0.3; ${hog}; echo "exit=$?"; ${counter}`], { timeoutMs: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("exit=137");
    expect(Number(/oom_kill (\d+)/.exec(r.stdout)?.[1])).toBeGreaterThanOrEqual(1);
    await t.lab.sh(["systemctl", "stop", "podunit-t2.slice"]);
  });
});

describe("journal", () => {
  test("a transient service's stdout reaches journald under its unit", async () => {
    const word = `hello-${crypto.randomUUID()}`;
    const r = await t.podunit(["debug", "run", "--pod", "t3", "--name", "say", "--", "echo", word, "$HOME"]);
    expect(r.status).toBe(0);
    await t.lab.sh(["journalctl", "--sync"]);
    let lines = "";
    for (let i = 0; i < 100 && !lines.includes(word); i++) {
      lines = await t.lab.sh(["journalctl", "-u", "podunit-t3-say.service", "-o", "cat", "--no-pager"]);
      if (!lines.includes(word)) await Bun.sleep(50);
    }
    // The argv reached the process verbatim: no $VAR expansion by systemd.
    expect(lines).toContain(`${word} $HOME`);
    await t.lab.sh(["systemctl", "stop", "podunit-t3.slice"]);
  });
});

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
