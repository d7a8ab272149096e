import { describe, expect, test } from "bun:test";
import { PodunitError, SpecError } from "../../src/errors.ts";
import { plan } from "../../src/plan/plan.ts";
import { unitFilePlan } from "../../src/plan/unitfiles.ts";
import { HOST, HOST_NO_RUNC, argvs, configAt, member, memberUnit, pod, val } from "./plan-helpers.ts";

describe("member on the host's file system", () => {
  const spec = pod({
    members: [
      member("db", {
        command: ["redis-server", "--port", "6379", "$HOME"],
        env: { LOG_LEVEL: "info", EMPTY: "" },
        workdir: "/srv",
        restart: "always",
        restartSec: 2_000_000n,
        stopTimeout: 10_000_000n,
        limits: { memoryMax: 134217728n, cpuQuota: 50, tasksMax: 64n },
      }),
    ],
  });
  const u = memberUnit(plan(spec, HOST), "db");

  test("a supervised exec service in the pod slice, bound to the sandbox", () => {
    expect(u.name).toBe("podunit-web-db.service");
    expect(u.cgroup).toBe("/podunit.slice/podunit-web.slice/podunit-web-db.service");
    expect(val(u, "Type")).toBe("exec");
    expect(val(u, "Slice")).toBe("podunit-web.slice");
    expect(val(u, "BindsTo")).toEqual(["podunit-web-sandbox.service"]);
    expect(val(u, "After")).toEqual(["podunit-web-sandbox.service"]);
    // Kept loaded when failed, so status can show why; stop resets it.
    expect(val(u, "CollectMode")).toBeUndefined();
    expect(val(u, "KillMode")).toBe("control-group");
    expect(val(u, "NoNewPrivileges")).toBe(true);
    // No mount namespace of its own: it would cost every start a copy of the mount table.
    expect(u.properties.filter((p) => /^(Protect|Private|ReadOnly|Inaccessible|TemporaryFileSystem)/.test(p.key))).toEqual([]);
  });
  test("joins the pod's namespaces through nsenter, then keeps only runc's default capabilities; argv verbatim", () => {
    const start = val(u, "ExecStartEx")!;
    expect(start).toEqual([
      {
        path: "/usr/bin/nsenter",
        argv: [
          "/usr/bin/nsenter",
          "--net=/run/podunit/web/ns/net",
          "--ipc=/run/podunit/web/ns/ipc",
          "--uts=/run/podunit/web/ns/uts",
          "--",
          "/usr/bin/setpriv",
          "--bounding-set=-all,+audit_write,+kill,+net_bind_service",
          "--inh-caps=-all",
          "--",
          "redis-server",
          "--port",
          "6379",
          "$HOME",
        ],
        flags: ["no-env-expand"],
      },
    ]);
  });
  test("restart, limits, environment, journal", () => {
    expect(val(u, "Restart")).toBe("always");
    expect(val(u, "RestartUSec")).toBe(2_000_000n);
    expect(val(u, "TimeoutStopUSec")).toBe(10_000_000n);
    expect(val(u, "MemoryMax")).toBe(134217728n);
    expect(val(u, "CPUQuotaPerSecUSec")).toBe(500_000n);
    expect(val(u, "TasksMax")).toBe(64n);
    expect(val(u, "Environment")).toEqual(["LOG_LEVEL=info", "EMPTY="]);
    expect(val(u, "WorkingDirectory")).toBe("/srv");
    expect(val(u, "StandardOutput")).toBe("journal");
    expect(val(u, "StandardError")).toBe("journal");
    expect(val(u, "SyslogIdentifier")).toBe("web/db");
    expect(val(u, "LogExtraFields")).toEqual(["PODUNIT_POD=web", "PODUNIT_MEMBER=db"]);
  });
  test("properties come in table order", () => {
    const keys = u.properties.map((p) => p.key);
    expect(keys.indexOf("Description")).toBe(0);
    expect(keys.indexOf("Slice")).toBeLessThan(keys.indexOf("Type"));
  });
  test("shared PID namespace: nsenter also enters it", () => {
    const q = plan(pod({ share: ["ipc", "net", "pid", "uts"] }), HOST);
    expect(argvs(memberUnit(q, "db"), "ExecStartEx")[0]).toContain("--pid=/run/podunit/web/ns/pid");
  });
  test("no namespace to join: setpriv alone narrows the capabilities and finds a relative command in PATH", () => {
    const none = { share: [] as never[] };
    const drop = ["/usr/bin/setpriv", "--bounding-set=-all,+audit_write,+kill,+net_bind_service", "--inh-caps=-all", "--"];
    expect(argvs(memberUnit(plan(pod(none), HOST), "db"), "ExecStartEx")).toEqual([[...drop, "/usr/bin/sleep", "infinity"]]);
    const rel = pod({ ...none, members: [member("db", { command: ["sleep", "1"] })] });
    expect(argvs(memberUnit(plan(rel, HOST), "db"), "ExecStartEx")).toEqual([[...drop, "sleep", "1"]]);
  });
  test("no_new_privileges = false lifts NoNewPrivileges=, and nothing else", () => {
    const u = memberUnit(plan(pod({ members: [member("db", { noNewPrivileges: false })] }), HOST), "db");
    expect(val(u, "NoNewPrivileges")).toBe(false);
    expect(argvs(u, "ExecStartEx")[0]).toContain("--bounding-set=-all,+audit_write,+kill,+net_bind_service");
  });
  test("numeric user: setpriv switches after nsenter, no passwd entry needed", () => {
    const numeric = plan(pod({ members: [member("db", { user: "1000:100" })] }), HOST);
    const u = memberUnit(numeric, "db");
    expect(argvs(u, "ExecStartEx")[0]!.slice(4)).toEqual([
      "--",
      "/usr/bin/setpriv",
      "--reuid=1000",
      "--regid=100",
      "--clear-groups",
      "--bounding-set=-all,+audit_write,+kill,+net_bind_service",
      "--inh-caps=-all",
      "--",
      "/usr/bin/sleep",
      "infinity",
    ]);
    expect(val(u, "User")).toBeUndefined();
    const uidOnly = plan(pod({ share: [], members: [member("db", { user: "1000" })] }), HOST);
    expect(argvs(memberUnit(uidOnly, "db"), "ExecStartEx")[0]).toEqual([
      "/usr/bin/setpriv",
      "--reuid=1000",
      "--regid=1000",
      "--clear-groups",
      "--bounding-set=-all,+audit_write,+kill,+net_bind_service",
      "--inh-caps=-all",
      "--",
      "/usr/bin/sleep",
      "infinity",
    ]);
  });
  test("user name: systemd's User=, capabilities kept for nsenter and setpriv only, which drops them", () => {
    const u = memberUnit(plan(pod({ members: [member("db", { user: "postgres" })] }), HOST), "db");
    expect(val(u, "User")).toBe("postgres");
    expect(val(u, "AmbientCapabilities")).toEqual(["CAP_DAC_READ_SEARCH", "CAP_SETPCAP", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE"]);
    expect(val(u, "NoNewPrivileges")).toBe(true);
    expect(argvs(u, "ExecStartEx")[0]!.slice(4)).toEqual([
      "--",
      "/usr/bin/setpriv",
      "--bounding-set=-all,+audit_write,+kill,+net_bind_service",
      "--inh-caps=-all",
      "--ambient-caps=-all",
      "--",
      "/usr/bin/sleep",
      "infinity",
    ]);
    const plain = memberUnit(plan(pod({ share: [], members: [member("db", { user: "postgres" })] }), HOST), "db");
    expect(val(plain, "User")).toBe("postgres");
    expect(val(plain, "AmbientCapabilities")).toEqual(["CAP_SETPCAP"]);
    expect(argvs(plain, "ExecStartEx")).toEqual([
      ["/usr/bin/setpriv", "--bounding-set=-all,+audit_write,+kill,+net_bind_service", "--inh-caps=-all", "--ambient-caps=-all", "--", "/usr/bin/sleep", "infinity"],
    ]);
  });
});

describe("init members", () => {
  const spec = pod({
    members: [
      member("app", { after: ["db"] }),
      member("migrate", { kind: "init", after: ["schema"], command: ["/usr/bin/true"] }),
      member("db"),
      member("schema", { kind: "init", command: ["/usr/bin/true"] }),
    ],
  });
  const p = plan(spec, HOST);
  test("oneshot, remain after exit, restarted only as the spec says", () => {
    const u = memberUnit(p, "migrate");
    expect(val(u, "Type")).toBe("oneshot");
    expect(val(u, "RemainAfterExit")).toBe(true);
    expect(val(u, "Restart")).toBe("no");
    const q = plan(pod({ members: [member("m", { kind: "init", restart: "on-failure" })] }), HOST);
    expect(val(memberUnit(q, "m"), "Restart")).toBe("on-failure");
  });
  test("run one after another in after order, before every other member", () => {
    expect(p.stages).toEqual([
      { kind: "slice", units: ["podunit-web.slice"] },
      { kind: "sandbox", units: ["podunit-web-sandbox.service"] },
      { kind: "init", units: ["podunit-web-schema.service"] },
      { kind: "init", units: ["podunit-web-migrate.service"] },
      { kind: "members", units: ["podunit-web-db.service"] },
      { kind: "members", units: ["podunit-web-app.service"] },
    ]);
    expect(val(memberUnit(p, "migrate"), "After")).toEqual(["podunit-web-sandbox.service", "podunit-web-schema.service"]);
    expect(val(memberUnit(p, "migrate"), "Requires")).toEqual(["podunit-web-schema.service"]);
    expect(val(memberUnit(p, "schema"), "Requires")).toBeUndefined();
    expect(val(memberUnit(p, "app"), "After")).toEqual([
      "podunit-web-sandbox.service",
      "podunit-web-schema.service",
      "podunit-web-migrate.service",
      "podunit-web-db.service",
    ]);
    expect(val(memberUnit(p, "app"), "Requires")).toEqual(["podunit-web-schema.service", "podunit-web-migrate.service"]);
  });
  test("members keep spec order in the plan", () => {
    expect(p.members.map((m) => m.member)).toEqual(["app", "migrate", "db", "schema"]);
  });
});

describe("waves", () => {
  test("independent members start together", () => {
    const p = plan(
      pod({ members: [member("a"), member("b"), member("c", { after: ["a", "b"] }), member("d", { after: ["a"] }), member("e", { after: ["c"] })] }),
      HOST,
    );
    expect(p.stages.slice(2).map((s) => s.units.map((u) => u.replace(/^podunit-web-|\.service$/g, "")))).toEqual([
      ["a", "b"],
      ["c", "d"],
      ["e"],
    ]);
  });
  test("cycles, unknown names and init after a service are spec errors", () => {
    expect(() => plan(pod({ members: [member("a", { after: ["b"] }), member("b", { after: ["a"] })] }), HOST)).toThrow(/cycle/);
    expect(() => plan(pod({ members: [member("a", { after: ["nope"] })] }), HOST)).toThrow(/'nope'/);
    expect(() => plan(pod({ members: [member("a"), member("i", { kind: "init", after: ["a"] })] }), HOST)).toThrow(SpecError);
  });
});

describe("member with a rootfs", () => {
  const spec = pod({
    members: [
      member("app", {
        rootfs: "/var/lib/podunit/rootfs/httpbin",
        command: ["gunicorn", "-b", "0.0.0.0:80", "httpbin:app"],
        env: { LOG_LEVEL: "info" },
        user: "1000:1000",
        workdir: "/app",
        limits: { memoryMax: 268435456n },
      }),
    ],
  });
  const p = plan(spec, HOST);
  const u = memberUnit(p, "app");
  test("runc under a forking service", () => {
    expect(val(u, "Type")).toBe("forking");
    expect(val(u, "PIDFile")).toBe("/run/podunit/web/app.pid");
    expect(val(u, "Delegate")).toBe(true);
    expect(val(u, "SuccessExitStatus")).toEqual({ statuses: [143], signals: ["SIGTERM"] });
    expect(val(u, "MemoryMax")).toBe(268435456n);
    expect(val(u, "ExecStartPreEx")).toBeUndefined();
    expect(argvs(u, "ExecStartEx")).toEqual([
      ["/usr/bin/runc", "run", "-d", "--pid-file", "/run/podunit/web/app.pid", "--bundle", "/run/podunit/web/bundles/app", "podunit-web.app"],
    ]);
    expect(argvs(u, "ExecStopPostEx")).toEqual([["/usr/bin/runc", "delete", "-f", "podunit-web.app"]]);
    expect(val(u, "Environment")).toBeUndefined();
    expect(val(u, "User")).toBeUndefined();
    expect(val(u, "LogExtraFields")).toEqual(["PODUNIT_POD=web", "PODUNIT_MEMBER=app"]);
  });
  test("with its own PID namespace, the member counts as started once catatonit has started the command", () => {
    // podunit start waits itself; unit files wait in ExecStartPost (unitfiles.test.ts).
    expect(argvs(memberUnit(p, "app"), "ExecStartPostEx")).toEqual([]);
    expect(p.containerWaits).toEqual([{ unit: "podunit-web-app.service", pidFile: "/run/podunit/web/app.pid", launcher: "runc:[2:INIT]" }]);
    const u = unitFilePlan(p, HOST);
    expect(argvs(memberUnit(u, "app"), "ExecStartPostEx")).toEqual([
      ["/usr/local/bin/podunit", "internal", "wait-exec", "--children", "--launcher", "runc:[2:INIT]", "/run/podunit/web/app.pid"],
    ]);
    const shared = plan(pod({ share: ["ipc", "net", "pid", "uts"], members: [member("app", { rootfs: "/r" })] }), HOST);
    expect(shared.containerWaits).toEqual([]);
    expect(argvs(memberUnit(unitFilePlan(shared, HOST), "app"), "ExecStartPostEx")).toEqual([]);
  });
  test("config.json joins the pins, keeps its own mount and PID namespace with catatonit as init", () => {
    const cfg = configAt(p, "/run/podunit/web/bundles/app/config.json");
    expect(cfg.ociVersion).toBe("1.0.2");
    expect(cfg.hostname).toBeUndefined();
    expect(cfg.root).toEqual({ path: "/var/lib/podunit/rootfs/httpbin", readonly: false });
    expect(cfg.process.args).toEqual(["/dev/.podunit-init", "--", "gunicorn", "-b", "0.0.0.0:80", "httpbin:app"]);
    expect(cfg.process.env).toEqual(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LOG_LEVEL=info"]);
    expect(cfg.process.cwd).toBe("/app");
    expect(cfg.process.user).toEqual({ uid: 1000, gid: 1000 });
    expect(cfg.process.noNewPrivileges).toBe(true);
    const lifted = plan(pod({ members: [member("app", { rootfs: "/r", noNewPrivileges: false })] }), HOST);
    expect(configAt(lifted, "/bundles/app/config.json").process.noNewPrivileges).toBe(false);
    expect(cfg.process.capabilities.bounding).toEqual(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    // Resource limits come from the unit (LimitNOFILE=...), which runc inherits.
    expect(cfg.process.rlimits).toBeUndefined();
    expect(cfg.linux.namespaces).toEqual([
      { type: "network", path: "/run/podunit/web/ns/net" },
      { type: "ipc", path: "/run/podunit/web/ns/ipc" },
      { type: "uts", path: "/run/podunit/web/ns/uts" },
      { type: "pid" },
      { type: "mount" },
    ]);
    expect(cfg.linux.cgroupsPath).toBe("/podunit.slice/podunit-web.slice/podunit-web-app.service/ctr");
    expect(cfg.mounts.map((m: { destination: string }) => m.destination)).toEqual([
      "/proc",
      "/dev",
      "/dev/pts",
      "/dev/shm",
      "/dev/mqueue",
      "/sys",
      "/dev/.podunit-init",
    ]);
    expect(cfg.linux.maskedPaths).toContain("/proc/kcore");
    expect(cfg.linux.readonlyPaths).toContain("/proc/sys");
  });
  test("PATH from the spec replaces the default", () => {
    const q = plan(pod({ members: [member("app", { rootfs: "/r", env: { PATH: "/bin" } })] }), HOST);
    expect(configAt(q, "bundles/app/config.json").process.env).toEqual(["PATH=/bin"]);
  });
  test("shared PID namespace: joined by path, no init of its own", () => {
    const q = plan(pod({ share: ["ipc", "net", "pid", "uts"], members: [member("app", { rootfs: "/r", readonlyRootfs: true })] }), HOST);
    const cfg = configAt(q, "bundles/app/config.json");
    expect(cfg.linux.namespaces).toContainEqual({ type: "pid", path: "/run/podunit/web/ns/pid" });
    expect(cfg.process.args).toEqual(["/usr/bin/sleep", "infinity"]);
    expect(cfg.root.readonly).toBe(true);
    expect(cfg.mounts.map((m: { destination: string }) => m.destination)).not.toContain("/dev/.podunit-init");
  });
  test("host namespaces are left out; unshared ones are the member's own", () => {
    const q = plan(
      pod({ share: ["net"], hostNetwork: true, hostIpc: true, hostPid: true, members: [member("app", { rootfs: "/r" })] }),
      HOST,
    );
    expect(configAt(q, "bundles/app/config.json").linux.namespaces).toEqual([{ type: "uts" }, { type: "mount" }]);
    expect(configAt(q, "bundles/app/config.json").process.args[0]).toBe("/usr/bin/sleep");
  });
  test("init member with a rootfs: runc in the foreground under a oneshot", () => {
    const q = plan(pod({ members: [member("setup", { kind: "init", rootfs: "/r" })] }), HOST);
    const s = memberUnit(q, "setup");
    expect(val(s, "Type")).toBe("oneshot");
    expect(val(s, "PIDFile")).toBeUndefined();
    expect(argvs(s, "ExecStartEx")).toEqual([["/usr/bin/runc", "run", "--bundle", "/run/podunit/web/bundles/setup", "podunit-web.setup"]]);
  });
  test("needs runc; needs a numeric user", () => {
    expect(() => plan(pod({ sandbox: "native", members: [member("app", { rootfs: "/r" })] }), HOST_NO_RUNC)).toThrow(PodunitError);
    expect(() => plan(pod({ members: [member("app", { rootfs: "/r", user: "nobody" })] }), HOST)).toThrow(SpecError);
  });
  test("runc ids of different pods never collide", () => {
    const a = plan(pod({ name: "a", members: [member("b-c", { rootfs: "/r" })] }), HOST);
    const b = plan(pod({ name: "a-b", members: [member("c", { rootfs: "/r" })] }), HOST);
    expect(argvs(a.members[0]!, "ExecStartEx")[0]!.at(-1)).not.toBe(argvs(b.members[0]!, "ExecStartEx")[0]!.at(-1));
  });
  test("files and directories", () => {
    expect(p.files.map((f) => f.path)).toEqual([
      "/run/podunit/web/sandbox/config.json",
      "/run/podunit/web/bundles/app/config.json",
    ]);
    expect(p.directories).toContain("/run/podunit/web/bundles/app");
  });
});

describe("target", () => {
  test("wants the sandbox and every member, after them, bound to the sandbox; WantedBy from [install]", () => {
    const p = plan(pod({ install: { wantedBy: ["multi-user.target"] }, members: [member("db"), member("app")] }), HOST);
    expect(p.target.name).toBe("podunit-web.target");
    expect(p.target.wantedBy).toEqual(["multi-user.target"]);
    const all = ["podunit-web-sandbox.service", "podunit-web-db.service", "podunit-web-app.service"];
    expect(p.target.properties).toEqual([
      { key: "Description", value: "Pod 'web'" },
      { key: "After", value: all },
      { key: "BindsTo", value: ["podunit-web-sandbox.service"] },
      { key: "Wants", value: all },
    ]);
  });
});

describe("runc containers on cgroup v2", () => {
  const v2 = { ...HOST, cgroupMode: "unified" as const };
  const spec = pod({ members: [member("app", { rootfs: "/srv/rootfs", command: ["/bin/app"] })] });
  test("a rootfs member's container lives in its unit's own cgroup; the unit forgets it by removing runc's state", () => {
    const p = plan(spec, v2);
    const u = memberUnit(p, "app");
    expect(configAt(p, "/bundles/app/config.json").linux.cgroupsPath).toBe("/podunit.slice/podunit-web.slice/podunit-web-app.service");
    expect(argvs(u, "ExecStopPostEx")).toEqual([["/usr/bin/rm", "-rf", "/run/runc/podunit-web.app"]]);
  });
  test("the runc sandbox likewise", () => {
    const p = plan(spec, v2);
    expect(configAt(p, "/sandbox/config.json").linux.cgroupsPath).toBe("/podunit.slice/podunit-web.slice/podunit-web-sandbox.service");
    expect(argvs(p.sandbox, "ExecStopPostEx")[0]).toEqual(["/usr/bin/rm", "-rf", "/run/runc/podunit-web.sandbox"]);
  });
  test("on cgroup v1 the container gets a child cgroup and runc deletes it", () => {
    const p = plan(spec, HOST);
    expect(configAt(p, "/bundles/app/config.json").linux.cgroupsPath).toBe("/podunit.slice/podunit-web.slice/podunit-web-app.service/ctr");
    expect(argvs(memberUnit(p, "app"), "ExecStopPostEx")).toEqual([["/usr/bin/runc", "delete", "-f", "podunit-web.app"]]);
  });
});
