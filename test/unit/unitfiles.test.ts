import { describe, expect, test } from "bun:test";
import { plan } from "../../src/plan/plan.ts";
import { planDigest, prepareArgv, runFilesOf, unitFilePlan } from "../../src/plan/unitfiles.ts";
import { unitObjectPath } from "../../src/systemd/unitname.ts";
import { argvs, HOST, HOST_NO_RUNC, member, memberUnit, pod, val } from "./plan-helpers.ts";

const spec = pod({
  install: { wantedBy: ["multi-user.target"] },
  members: [member("db"), member("app", { rootfs: "/var/lib/rootfs/app" }), member("cache", { rootfs: "/var/lib/rootfs/cache" })],
});
const p = plan(spec, HOST);
const u = unitFilePlan(p, HOST);

describe("the unit-file form of a plan", () => {
  test("the sandbox prepares first, with the spec, backend, run directory and the plan's digest", () => {
    const pre = argvs(u.sandbox, "ExecStartPreEx");
    expect(pre[0]).toEqual([
      "/usr/local/bin/podunit", "internal", "prepare", "--sandbox", "--digest", planDigest(p), "--backend", "runc",
      "--run-dir", "/run/podunit", "/etc/podunit/pods/web.toml",
    ]);
    expect(pre.slice(1)).toEqual(argvs(p.sandbox, "ExecStartPreEx"));
    expect(val(u.sandbox, "ExecStartPreEx")![0]!.flags).toEqual(["no-env-expand"]);
  });

  test("the sandbox's ready step runs as its ExecStartPost: a runtime sandbox's PID from the runtime's PID file, the native one's from ${MAINPID}", () => {
    const post = val(u.sandbox, "ExecStartPostEx")!;
    expect(post.map((c) => c.argv)).toEqual([
      [
        "/usr/local/bin/podunit", "internal", "ready", "--pid-file", "/run/podunit/web/sandbox.pid", "--unit", "podunit-web-sandbox.service", "--holder", "main", "--launcher", "runc:[2:INIT]",
        "net=/run/podunit/web/ns/net", "ipc=/run/podunit/web/ns/ipc", "uts=/run/podunit/web/ns/uts",
      ],
    ]);
    expect(post[0]!.flags).toEqual(["no-env-expand"]);
    const n = unitFilePlan(plan(pod({ sandbox: "native", share: ["net", "ipc", "uts", "pid"] }), HOST), HOST);
    expect(argvs(n.sandbox, "ExecStartPostEx")[0]!.slice(3, 5)).toEqual(["--main-pid", "${MAINPID}"]);
    expect(val(n.sandbox, "ExecStartPostEx")![0]!.flags).toEqual([]);
    expect(argvs(n.sandbox, "ExecStartPostEx")[0]!.slice(7)).toEqual([
      "--holder", "child", "--launcher", "unshare", "--hostname", "web", "--loopback",
      "net=/run/podunit/web/ns/net", "ipc=/run/podunit/web/ns/ipc", "uts=/run/podunit/web/ns/uts", "pid=/run/podunit/web/ns/pid",
    ]);
    expect(val(unitFilePlan(plan(pod({ sandbox: "native", share: [] }), HOST), HOST).sandbox, "ExecStartPostEx")).toBeUndefined();
  });

  test("members with a bundle prepare their own; members without files are unchanged", () => {
    for (const m of ["app", "cache"]) {
      const pre = argvs(memberUnit(u, m), "ExecStartPreEx");
      expect(pre[0]!.slice(1, 6)).toEqual(["internal", "prepare", "--member", m, "--digest"]);
      expect(pre.slice(1)).toEqual(argvs(memberUnit(p, m), "ExecStartPreEx"));
    }
    expect(memberUnit(u, "db")).toEqual(memberUnit(p, "db"));
  });

  test("the slice is part of the target; the target itself and everything else are the plan's", () => {
    expect(val(u.slice, "PartOf")).toEqual(["podunit-web.target"]);
    expect(u.slice.properties.filter((x) => x.key !== "PartOf") as unknown[]).toEqual(p.slice.properties);
    expect(u.target).toEqual(p.target);
    expect({ ...u, slice: p.slice, sandbox: p.sandbox, members: p.members }).toEqual(p);
  });

  test("the native backend: the sandbox prepares (its run directory), no member has files", () => {
    const n = plan(pod({ sandbox: "native" }), HOST_NO_RUNC);
    const nu = unitFilePlan(n, HOST_NO_RUNC);
    expect(argvs(nu.sandbox, "ExecStartPreEx")[0]).toContain("--sandbox");
    expect(argvs(nu.sandbox, "ExecStartPreEx")[0]).toContain("native");
    expect(nu.members).toEqual(n.members);
  });
});

describe("planDigest", () => {
  test("the same spec and host give the same digest; 16 hex digits", () => {
    expect(planDigest(plan(spec, HOST))).toBe(planDigest(p));
    expect(planDigest(p)).toMatch(/^[0-9a-f]{16}$/);
  });
  test("a changed command, limit, path of a program or run directory changes it", () => {
    const variants = [
      plan(pod({ ...spec, members: [member("db", { command: ["/usr/bin/sleep", "1"] }), ...spec.members.slice(1)] }), HOST),
      plan(pod({ ...spec, limits: { memoryMax: 1n << 30n } }), HOST),
      plan(spec, { ...HOST, paths: { ...HOST.paths, runc: "/usr/sbin/runc" } }),
      plan(spec, { ...HOST, runDir: "/run/other" }),
      plan(pod({ ...spec, install: { wantedBy: ["graphical.target"] } }), HOST),
    ];
    for (const v of variants) expect(planDigest(v)).not.toBe(planDigest(p));
  });
  test("the running systemd's version does not; the cgroup mode only through the units it changes", () => {
    expect(planDigest(plan(spec, { ...HOST, systemdVersion: 255 }))).toBe(planDigest(p));
    expect(planDigest(plan(spec, { ...HOST, cgroupMode: "legacy" }))).toBe(planDigest(p));
    // Containers sit in their unit's own cgroup on cgroup v2: different units, a different digest.
    expect(planDigest(plan(spec, { ...HOST, cgroupMode: "unified" }))).not.toBe(planDigest(p));
  });
});

describe("runFilesOf: who writes what", () => {
  test("the sandbox: the pod directory and its own bundle; each member: its bundle and the directories above it", () => {
    const sandbox = runFilesOf(p, p.sandbox);
    expect(sandbox.directories).toEqual(["/run/podunit/web", "/run/podunit/web/ns", "/run/podunit/web/sandbox", "/run/podunit/web/sandbox/rootfs"]);
    expect(sandbox.files.map((f) => f.path)).toEqual([
      "/run/podunit/web/sandbox/config.json",
    ]);
    const app = runFilesOf(p, memberUnit(p, "app"));
    expect(app.directories).toEqual(["/run/podunit/web", "/run/podunit/web/bundles", "/run/podunit/web/bundles/app"]);
    expect(app.files.map((f) => f.path)).toEqual(["/run/podunit/web/bundles/app/config.json"]);
    expect(runFilesOf(p, memberUnit(p, "db"))).toEqual({ directories: ["/run/podunit/web", "/run/podunit/web/bundles"], files: [] });
  });
  test("together they write every directory and file of the plan, each file once", () => {
    const all = [p.sandbox, ...p.members].map((x) => runFilesOf(p, x));
    expect(new Set(all.flatMap((x) => x.directories))).toEqual(new Set(p.directories));
    expect(all.flatMap((x) => x.files).sort((a, b) => a.path.localeCompare(b.path))).toEqual([...p.files].sort((a, b) => a.path.localeCompare(b.path)));
  });
});

test("prepareArgv", () => {
  expect(prepareArgv({ member: "app", digest: "d", backend: "native", runDir: "/r", specFile: "/s.toml" })).toEqual([
    "internal", "prepare", "--member", "app", "--digest", "d", "--backend", "native", "--run-dir", "/r", "/s.toml",
  ]);
});

test("unitObjectPath: systemd's D-Bus path of a unit", () => {
  expect(unitObjectPath("podunit-web.target")).toBe("/org/freedesktop/systemd1/unit/podunit_2dweb_2etarget");
  expect(unitObjectPath("podunit-my\\x2dweb.target")).toBe("/org/freedesktop/systemd1/unit/podunit_2dmy_5cx2dweb_2etarget");
});
