import { describe, expect, test } from "bun:test";
import { PodunitError } from "../../src/errors.ts";
import { plan } from "../../src/plan/plan.ts";
import { HOST, HOST_NO_RUNC, argvs, configAt, pod, val } from "./plan-helpers.ts";

describe("backend choice", () => {
  test("runc where installed, native otherwise, the spec's choice first", () => {
    expect(plan(pod(), HOST).backend).toBe("runc");
    expect(plan(pod(), HOST_NO_RUNC).backend).toBe("native");
    expect(plan(pod({ sandbox: "native" }), HOST).backend).toBe("native");
  });
  test("asking for runc without runc is a clear error", () => {
    expect(() => plan(pod({ sandbox: "runc" }), HOST_NO_RUNC)).toThrow(PodunitError);
    expect(() => plan(pod({ sandbox: "runc" }), HOST_NO_RUNC)).toThrow(/runc is not installed/);
  });
  test("a systemd older than the plan needs is refused, naming the property", () => {
    expect(() => plan(pod(), { ...HOST, systemdVersion: 239 })).toThrow(/systemd 243 or later \(for Exec/);
    expect(plan(pod(), HOST).requiresSystemd).toBe(243);
  });
});

describe("slice", () => {
  test("named and described after the pod, carrying pod-wide limits", () => {
    const p = plan(pod({ limits: { memoryMax: 512n * 1024n * 1024n, cpuQuota: 150, tasksMax: 512n } }), HOST);
    expect(p.slice.name).toBe("podunit-web.slice");
    expect(p.slice.cgroup).toBe("/podunit.slice/podunit-web.slice");
    expect(p.slice.properties).toEqual([
      { key: "Description", value: "Pod 'web'" },
      { key: "MemoryMax", value: 536870912n },
      { key: "CPUQuotaPerSecUSec", value: 1500000n },
      { key: "TasksMax", value: 512n },
    ]);
  });
  test("no limits, no limit properties", () => {
    expect(plan(pod(), HOST).slice.properties.map((p) => p.key)).toEqual(["Description"]);
  });
  test("CPU quota is rounded to what CPUQuota= can write", () => {
    const p = plan(pod({ limits: { cpuQuota: 33.3333 } }), HOST);
    expect(val(p.slice, "CPUQuotaPerSecUSec")).toBe(333300n);
  });
});

describe("native sandbox", () => {
  const p = plan(pod({ sandbox: "native" }), HOST);
  const s = p.sandbox;
  test("a transient service in the pod slice", () => {
    expect(s.name).toBe("podunit-web-sandbox.service");
    expect(s.type).toBe("service");
    expect(val(s, "Slice")).toBe("podunit-web.slice");
    expect(val(s, "Type")).toBe("exec");
    expect(val(s, "CollectMode")).toBeUndefined();
    expect(val(s, "KillMode")).toBe("control-group");
    expect(val(s, "LogExtraFields")).toEqual(["PODUNIT_POD=web", "PODUNIT_MEMBER=sandbox"]);
    expect(val(s, "SyslogIdentifier")).toBe("web/sandbox");
    expect(val(s, "StandardOutput")).toBe("journal");
  });
  test("unshare makes the namespaces in the main process, which becomes catatonit; nothing else runs in the unit", () => {
    // systemd keeps the directories (RuntimeDirectory=): no process for them.
    expect(val(s, "RuntimeDirectory")).toEqual(["podunit/web", "podunit/web/ns"]);
    expect(val(s, "ExecStartPreEx")).toBeUndefined();
    expect(argvs(s, "ExecStartEx")).toEqual([["/usr/bin/unshare", "--net", "--ipc", "--uts", "--", "/usr/bin/catatonit", "-P"]]);
    expect(val(s, "ExecStartPostEx")).toBeUndefined();
    // The pins are symbolic links in the runtime directory, which systemd removes: nothing to undo at stop.
    expect(val(s, "ExecStopPostEx")).toBeUndefined();
  });
  test("the ready step names the pod, brings up lo and links the pins to catatonit's namespaces", () => {
    expect(p.ready).toEqual({
      unit: "podunit-web-sandbox.service",
      holder: "main",
      launcher: "unshare",
      hostname: "web",
      loopback: true,
      pins: (["net", "ipc", "uts"] as const).map((ns) => ({ ns, path: `/run/podunit/web/ns/${ns}` })),
    });
    expect(p.pins).toEqual(p.ready!.pins);
  });
  test("every command keeps its argv verbatim (no $ expansion)", () => {
    for (const key of ["ExecStartPreEx", "ExecStartEx", "ExecStopPostEx"] as const) {
      for (const c of val(s, key) ?? []) expect(c.flags).toContain("no-env-expand");
    }
  });
  test("a run directory outside /run is made and removed by commands", () => {
    const q = plan(pod({ sandbox: "native" }), { ...HOST, runDir: "/var/run-elsewhere/podunit" });
    expect(val(q.sandbox, "RuntimeDirectory")).toBeUndefined();
    expect(q.directories).toContain("/var/run-elsewhere/podunit/web/ns");
    expect(argvs(q.sandbox, "ExecStopPostEx")).toEqual([["/usr/bin/rm", "-rf", "--one-file-system", "/var/run-elsewhere/podunit/web"]]);
  });
  test("a shared PID namespace: unshare forks catatonit as its PID 1, which holds every namespace", () => {
    const q = plan(pod({ sandbox: "native", share: ["ipc", "net", "pid", "uts"] }), HOST);
    expect(argvs(q.sandbox, "ExecStartEx")).toEqual([
      ["/usr/bin/unshare", "--net", "--ipc", "--uts", "--pid", "--fork", "--kill-child", "--", "/usr/bin/catatonit", "-P"],
    ]);
    expect(q.pins.map((x) => x.ns)).toEqual(["net", "ipc", "uts", "pid"]);
    expect(q.ready!.holder).toBe("child");
  });
  test("host network and no shared UTS: only ipc is made, nothing to name or bring up", () => {
    const q = plan(pod({ sandbox: "native", share: ["ipc", "net"], hostNetwork: true }), HOST);
    expect(q.pins).toEqual([{ ns: "ipc", path: "/run/podunit/web/ns/ipc" }]);
    expect(argvs(q.sandbox, "ExecStartEx")).toEqual([["/usr/bin/unshare", "--ipc", "--", "/usr/bin/catatonit", "-P"]]);
    expect(q.ready).toEqual({ unit: "podunit-web-sandbox.service", holder: "main", launcher: "unshare", loopback: false, pins: q.pins });
  });
  test("nothing shared: the sandbox is a bare pause process with nothing to make ready", () => {
    const q = plan(pod({ sandbox: "native", share: [] }), HOST);
    expect(q.pins).toEqual([]);
    expect(argvs(q.sandbox, "ExecStartEx")).toEqual([["/usr/bin/catatonit", "-P"]]);
    expect(q.ready).toBeUndefined();
  });
  test("no run files: only the directories, which systemd makes", () => {
    expect(p.directories).toEqual(["/run/podunit/web", "/run/podunit/web/ns"]);
    expect(p.files).toEqual([]);
  });
});

describe("runc sandbox", () => {
  const p = plan(pod(), HOST);
  const s = p.sandbox;
  test("forking service with a PID file and a delegated cgroup", () => {
    expect(val(s, "Type")).toBe("forking");
    expect(val(s, "PIDFile")).toBe("/run/podunit/web/sandbox.pid");
    expect(val(s, "Delegate")).toBe(true);
    expect(val(s, "Slice")).toBe("podunit-web.slice");
  });
  test("commands", () => {
    // No runc delete before start (ExecStopPost deletes, and podunit clears a crashed run's
    // leftovers): nothing runs before runc.
    expect(val(s, "ExecStartPreEx")).toBeUndefined();
    expect(argvs(s, "ExecStartEx")).toEqual([
      [
        "/usr/bin/runc",
        "run",
        "-d",
        "--pid-file",
        "/run/podunit/web/sandbox.pid",
        "--bundle",
        "/run/podunit/web/sandbox",
        "podunit-web.sandbox",
      ],
    ]);
    expect(argvs(s, "ExecStopPostEx")[0]).toEqual(["/usr/bin/runc", "delete", "-f", "podunit-web.sandbox"]);
  });
  test("ready once runc's init has become catatonit: pins linked to it; runc names the pod and brings up lo", () => {
    expect(val(s, "ExecStartPostEx")).toBeUndefined();
    expect(p.ready).toEqual({
      unit: "podunit-web-sandbox.service",
      holder: "main",
      launcher: "runc:[2:INIT]",
      pidFile: "/run/podunit/web/sandbox.pid",
      loopback: false,
      pins: (["net", "ipc", "uts"] as const).map((ns) => ({ ns, path: `/run/podunit/web/ns/${ns}` })),
    });
  });
  test("config.json: catatonit in fresh namespaces, hostname, cgroup below the service", () => {
    const cfg = configAt(p, "/run/podunit/web/sandbox/config.json");
    expect(cfg.ociVersion).toBe("1.0.2");
    expect(cfg.process.args).toEqual(["/catatonit", "-P"]);
    expect(cfg.process.terminal).toBe(false);
    expect(cfg.hostname).toBe("web");
    expect(cfg.root).toEqual({ path: "/run/podunit/web/sandbox/rootfs", readonly: true });
    expect(cfg.linux.namespaces).toEqual([{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }]);
    expect(cfg.linux.cgroupsPath).toBe("/podunit.slice/podunit-web.slice/podunit-web-sandbox.service/sandbox");
    expect(cfg.mounts).toContainEqual({
      destination: "/catatonit",
      type: "bind",
      source: "/usr/bin/catatonit",
      options: ["bind", "ro", "nosuid", "nodev"],
    });
    expect(p.files[0]!.mode).toBe(0o600);
    expect(p.directories).toEqual(["/run/podunit/web", "/run/podunit/web/ns", "/run/podunit/web/sandbox", "/run/podunit/web/sandbox/rootfs"]);
  });
  test("host network: no network namespace, no net pin; no shared UTS: no hostname", () => {
    const q = plan(pod({ share: ["ipc", "net"], hostNetwork: true }), HOST);
    const cfg = configAt(q, "sandbox/config.json");
    expect(cfg.linux.namespaces.map((n: { type: string }) => n.type)).toEqual(["pid", "ipc", "uts", "mount"]);
    expect(cfg.hostname).toBeUndefined();
    expect(q.pins.map((x) => x.ns)).toEqual(["ipc"]);
  });
  test("the run directory follows the host facts", () => {
    const q = plan(pod(), { ...HOST, runDir: "/tmp/pu/" });
    expect(q.runDir).toBe("/tmp/pu/web");
    expect(q.pins[0]!.path).toBe("/tmp/pu/web/ns/net");
  });
});
