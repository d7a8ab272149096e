/** Which OCI runtime runs each container and the sandbox, what is refused when it is missing, and what apply does when it changes (pure). */
import { describe, expect, test } from "bun:test";
import { diffPlans } from "../../src/plan/diff.ts";
import { plan } from "../../src/plan/plan.ts";
import { applyBackend, chooseBackend, installedRuntime, memberRuntime, plannedRuntimes } from "../../src/plan/runtime.ts";
import type { HostFacts } from "../../src/plan/types.ts";
import type { PodSpec } from "../../src/podspec/types.ts";
import { PodunitError } from "../../src/errors.ts";
import { HOST, HOST_CRUN, HOST_NO_RUNC, argvs, member, memberUnit, pod } from "./plan-helpers.ts";

const ONLY_CRUN: HostFacts = { ...HOST_CRUN, paths: { ...HOST_CRUN.paths, runc: undefined } };
const box = (over = {}) => member("box", { rootfs: "/srv/root", ...over });
const withBox = (over: Partial<PodSpec> = {}, boxOver = {}) => pod({ members: [member("db"), box(boxOver)], ...over });

function thrown(f: () => unknown): PodunitError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(PodunitError);
    return err as PodunitError;
  }
  throw new Error("expected an error");
}

describe("the default runtime", () => {
  test("the fastest one installed: crun where it is, else runc, else none", () => {
    expect(installedRuntime(HOST_CRUN)).toBe("crun");
    expect(installedRuntime(ONLY_CRUN)).toBe("crun");
    expect(installedRuntime(HOST)).toBe("runc");
    expect(installedRuntime(HOST_NO_RUNC)).toBeUndefined();
  });

  test("members and the sandbox follow it when the spec says nothing; native only where no runtime is installed", () => {
    const spec = withBox();
    expect(memberRuntime(spec, spec.members[1]!, HOST_CRUN)).toEqual({ name: "crun", path: "/usr/bin/crun" });
    expect(chooseBackend(spec, HOST_CRUN, undefined)).toBe("crun");
    expect(chooseBackend(spec, HOST, undefined)).toBe("runc");
    expect(chooseBackend(pod(), HOST_NO_RUNC, undefined)).toBe("native");
  });

  test("the pod's runtime is the default of members and sandbox; a member's own and sandbox = win over it; --backend wins over all", () => {
    const spec = withBox({ runtime: "runc" });
    expect(memberRuntime(spec, spec.members[1]!, HOST_CRUN).name).toBe("runc");
    expect(chooseBackend(spec, HOST_CRUN, undefined)).toBe("runc");
    const own = withBox({ runtime: "runc", sandbox: "crun" }, { runtime: "crun" });
    expect(memberRuntime(own, own.members[1]!, HOST_CRUN).name).toBe("crun");
    expect(chooseBackend(own, HOST_CRUN, undefined)).toBe("crun");
    expect(chooseBackend(own, HOST_CRUN, "native")).toBe("native");
    // Existing specs keep their meaning: sandbox = "runc" is runc, even with crun installed.
    expect(chooseBackend(pod({ sandbox: "runc" }), HOST_CRUN, undefined)).toBe("runc");
  });
});

describe("a runtime that is not installed is refused, saying how to install it", () => {
  test("a member's runtime = \"crun\" on a host with runc only", () => {
    const e = thrown(() => plan(withBox({}, { runtime: "crun" }), HOST, { backend: "native" }));
    expect(e.message).toBe(`Failed to plan pod 'web': member 'box' has a rootfs and its runtime = "crun", and crun is not installed.`);
    expect(e.hint).toBe(`Install crun (Debian: apt-get install crun), or write runtime = "runc", which is installed.`);
  });

  test("the pod's runtime = \"runc\" on a host with crun only: for the member and for the sandbox", () => {
    const e = thrown(() => plan(withBox({ runtime: "runc" }), ONLY_CRUN, { backend: "native" }));
    expect(e.message).toContain(`member 'box' has a rootfs and the pod's runtime = "runc", and runc is not installed.`);
    expect(e.hint).toBe(`Install runc (Debian: apt-get install runc), or write runtime = "crun", which is installed.`);
    const s = thrown(() => plan(pod({ runtime: "runc" }), ONLY_CRUN));
    expect(s.message).toBe(`Failed to plan pod 'web': the runc sandbox backend was asked for (runtime = "runc"), but runc is not installed.`);
    expect(s.hint).toBe(`Install runc (Debian: apt-get install runc), or use the native backend (sandbox = "native" or --backend native).`);
  });

  test("sandbox = \"crun\" and --backend crun without crun", () => {
    expect(thrown(() => plan(pod({ sandbox: "crun" }), HOST)).message).toContain(`the crun sandbox backend was asked for (sandbox = "crun"), but crun is not installed.`);
    expect(thrown(() => plan(pod(), HOST, { backend: "crun" })).message).toContain(`(--backend crun)`);
  });

  test("a rootfs member with neither runtime installed", () => {
    const e = thrown(() => plan(withBox(), HOST_NO_RUNC, { backend: "native" }));
    expect(e.message).toBe(`Failed to plan pod 'web': member 'box' has a rootfs, which needs an OCI runtime (crun or runc), and neither is installed.`);
    expect(e.hint).toBe("Install crun or runc (Debian: apt-get install crun).");
  });

  test("a pod's runtime that nothing uses is not looked for", () => {
    expect(plan(pod({ runtime: "crun" }), HOST, { backend: "native" }).backend).toBe("native");
  });
});

describe("what differs between crun and runc in a plan", () => {
  test("the program, the init name waited for, and delete -f on cgroup v1; rm -rf of the runtime's own state root on cgroup v2", () => {
    const p = plan(withBox({}, { runtime: "crun" }), HOST_CRUN);
    expect(argvs(memberUnit(p, "box"), "ExecStartEx")[0]!.slice(0, 2)).toEqual(["/usr/bin/crun", "run"]);
    expect(p.containerWaits).toEqual([{ unit: "podunit-web-box.service", pidFile: "/run/podunit/web/box.pid", launcher: "crun" }]);
    expect(p.ready?.launcher).toBe("crun");
    expect(argvs(memberUnit(p, "box"), "ExecStopPostEx")).toEqual([["/usr/bin/crun", "delete", "-f", "podunit-web.box"]]);
    const v2 = plan(withBox(), { ...HOST_CRUN, cgroupMode: "unified" });
    expect(argvs(memberUnit(v2, "box"), "ExecStopPostEx")).toEqual([["/usr/bin/rm", "-rf", "/run/crun/podunit-web.box"]]);
    expect(argvs(v2.sandbox, "ExecStopPostEx")[0]).toEqual(["/usr/bin/rm", "-rf", "/run/crun/podunit-web.sandbox"]);
    const runc = plan(withBox({ runtime: "runc" }), { ...HOST_CRUN, cgroupMode: "unified" });
    expect(argvs(memberUnit(runc, "box"), "ExecStopPostEx")).toEqual([["/usr/bin/rm", "-rf", "/run/runc/podunit-web.box"]]);
  });

  test("the OCI config is the runtime's own business: the same bytes under crun and runc", () => {
    const config = (p: ReturnType<typeof plan>) => p.files.find((f) => f.path.endsWith("/bundles/box/config.json"))!.content;
    expect(config(plan(withBox({ runtime: "crun" }), HOST_CRUN))).toBe(config(plan(withBox({ runtime: "runc" }), HOST_CRUN)));
  });
});

describe("podunit apply when a runtime changes", () => {
  test("a member's runtime: that member restarts, nothing else", () => {
    const d = diffPlans(plan(withBox(), HOST_CRUN), plan(withBox({}, { runtime: "runc" }), HOST_CRUN));
    expect(d.recreate).toEqual([]);
    expect(d.restart.map((r) => r.member)).toEqual(["box"]);
    expect(d.restart[0]!.why).toContain("ExecStart changed");
  });

  test("a default that moved since the pod started is kept (a runc pod stays runc once crun is installed); what the spec names is not", () => {
    const running = plan(withBox(), HOST);
    const kept = plannedRuntimes(running);
    expect([...kept]).toEqual([["box", "runc"]]);
    expect(applyBackend(withBox(), running.backend)).toBe("runc");
    const again = plan(withBox(), HOST_CRUN, { backend: applyBackend(withBox(), running.backend), keepRuntimes: kept });
    expect(diffPlans(running, again).restart).toEqual([]);
    expect(diffPlans(running, again).recreate).toEqual([]);
    // Named in the spec: followed.
    const named = withBox({}, { runtime: "crun" });
    expect(diffPlans(running, plan(named, HOST_CRUN, { backend: applyBackend(named, running.backend), keepRuntimes: kept })).restart.map((r) => r.member)).toEqual(["box"]);
    // A kept runtime that is gone from the host is not kept.
    expect(memberRuntime(withBox(), withBox().members[1]!, ONLY_CRUN, "runc").name).toBe("crun");
  });

  test("apply's backend: the spec's sandbox; else the pod's runtime for a runtime sandbox; else the one the pod runs with", () => {
    expect(applyBackend(pod({ sandbox: "native" }), "crun")).toBe("native");
    expect(applyBackend(pod({ runtime: "runc" }), "crun")).toBe("runc");
    // A native sandbox (perhaps --backend native at start) is not moved by the members' runtime.
    expect(applyBackend(pod({ runtime: "runc" }), "native")).toBe("native");
    expect(applyBackend(pod(), "runc")).toBe("runc");
  });

  test("a plan recorded before runtimes could be chosen: the runtime is read from ExecStart", () => {
    const old = plan(withBox(), HOST);
    const stripped = { members: old.members.map(({ runtime: _r, ...u }) => u) };
    expect([...plannedRuntimes(stripped)]).toEqual([["box", "runc"]]);
  });

  test("the sandbox's runtime (the pod's runtime with no sandbox key): the whole pod", () => {
    const d = diffPlans(plan(pod(), HOST_CRUN), plan(pod({ runtime: "runc" }), HOST_CRUN));
    expect(d.recreate.length).toBeGreaterThan(0);
    expect(d.recreate.join("\n")).toContain("sandbox backend");
  });
});
