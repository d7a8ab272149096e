/**
 * The executor's ordering and rollback, against a fake systemd. These prove the
 * bookkeeping only; that pods really run is shown by test/system/pods.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { startPod, StartError } from "../../src/exec/start.ts";
import { stopPod, podUnitPatterns } from "../../src/exec/stop.ts";
import type { ExecDeps, RunFiles } from "../../src/exec/deps.ts";
import type { Systemd, UnitListEntry } from "../../src/systemd/bus.ts";
import { SystemdError } from "../../src/errors.ts";
import { plan } from "../../src/plan/plan.ts";
import { HOST, member, pod } from "./plan-helpers.ts";

/** Records calls; units "run" once started; `failing` units end with the given job result. */
class FakeSystemd implements Systemd {
  calls: string[] = [];
  active = new Map<string, string>();
  constructor(private failing: Record<string, string> = {}) {}
  async startTransientUnit(name: string): Promise<void> {
    this.calls.push(`start ${name}`);
    const result = this.failing[name];
    if (result) {
      this.active.set(name, "failed");
      throw new SystemdError(`Failed to start '${name}': job ended with result '${result}'`, { unit: name, dbusName: result });
    }
    this.active.set(name, "active");
  }
  async startUnit(): Promise<void> {}
  async stopUnit(name: string): Promise<void> {
    this.calls.push(`stop ${name}`);
    for (const [u, s] of this.active) if (s === "active" && (u === name || name.endsWith(".slice"))) this.active.set(u, "inactive");
  }
  async resetFailedUnit(name: string): Promise<void> {
    this.calls.push(`reset ${name}`);
    this.active.delete(name);
  }
  async killUnit(): Promise<void> {}
  async getUnit(): Promise<string | null> {
    return null;
  }
  async getProperties(): Promise<Record<string, unknown>> {
    return {};
  }
  async getAllProperties(): Promise<Record<string, unknown>> {
    return {};
  }
  async listUnits(): Promise<UnitListEntry[]> {
    return [...this.active].map(([name, activeState]) => ({ name, activeState, subState: "", description: "", loadState: "loaded", path: "" }));
  }
  async version(): Promise<number> {
    return 252;
  }
  async reload(): Promise<void> {}
  close(): void {}
}

function fakeFiles(): RunFiles & { written: string[]; removed: string[] } {
  const written: string[] = [];
  const removed: string[] = [];
  return {
    written,
    removed,
    mkdir: (p) => void written.push(`${p}/`),
    writeFile: (p) => void written.push(p),
    mountsUnder: () => [],
    unmount: () => {},
    removeTree: (p) => void removed.push(p),
    exists: () => false,
    removeCgroupTree: () => [],
  };
}

function deps(sd: FakeSystemd): ExecDeps & { files: ReturnType<typeof fakeFiles> } {
  return { systemd: sd, files: fakeFiles(), journal: { tail: async (u) => [`last line of ${u}`] } };
}

const spec = pod({
  name: "web",
  members: [member("db"), member("app", { after: ["db"], rootfs: "/srv/rootfs" }), member("migrate", { kind: "init" })],
});
const p = plan(spec, HOST);

describe("start", () => {
  test("asks for every unit in stage order: slice, sandbox, init members, then the rest", async () => {
    const sd = new FakeSystemd();
    const d = deps(sd);
    const r = await startPod(p, d);
    expect(r.alreadyRunning).toBe(false);
    expect(sd.calls.filter((c) => c.startsWith("start"))).toEqual([
      "start podunit-web.slice",
      "start podunit-web-sandbox.service",
      "start podunit-web-migrate.service",
      "start podunit-web-db.service",
      "start podunit-web-app.service",
    ]);
    // Run files (bundles) are written before any unit is asked for.
    expect(d.files.written).toContain("/run/podunit/web/bundles/app/config.json");
  });

  test("a running pod is left alone", async () => {
    const sd = new FakeSystemd();
    await startPod(p, deps(sd));
    sd.calls = [];
    const r = await startPod(p, deps(sd));
    expect(r.alreadyRunning).toBe(true);
    expect(sd.calls).toEqual([]);
  });

  test("a failure rolls everything back and names the root cause, not the units that failed with it", async () => {
    const sd = new FakeSystemd({ "podunit-web-sandbox.service": "failed", "podunit-web-db.service": "dependency" });
    const d = deps(sd);
    const err = await startPod(p, d).catch((e) => e);
    expect(err).toBeInstanceOf(StartError);
    expect(err.unit).toBe("podunit-web-sandbox.service");
    expect(err.message).toContain("last line of podunit-web-sandbox.service");
    expect(sd.calls).toContain("stop podunit-web.slice");
    expect(sd.calls).toContain("reset podunit-web-sandbox.service");
    expect(d.files.removed).toContain("/run/podunit/web");
    expect([...sd.active.values()].filter((s) => s !== "inactive")).toEqual([]);
  });
});

describe("stop", () => {
  test("stops the slice, resets failed units, removes the run directory; says whether it ran", async () => {
    const sd = new FakeSystemd();
    await startPod(p, deps(sd));
    sd.active.set("podunit-web-db.service", "failed");
    const d = deps(sd);
    const r = await stopPod("web", "/run/podunit/web", d);
    expect(r).toEqual({ pod: "web", wasRunning: true, problems: [] });
    expect(sd.calls).toContain("stop podunit-web.slice");
    expect(sd.calls).toContain("reset podunit-web-db.service");
    expect(d.files.removed).toEqual(["/run/podunit/web"]);
    const again = await stopPod("web", "/run/podunit/web", deps(sd));
    expect(again.wasRunning).toBe(false);
  });

  test("unit patterns of one pod never match another pod's units", () => {
    expect(podUnitPatterns("web", "podunit-web.slice")).toEqual(["podunit-web.slice", "podunit-web-*"]);
    // 'my-web' escapes to my\x2dweb; systemd reads '\' in patterns literally (FNM_NOESCAPE).
    expect(podUnitPatterns("my-web", "podunit-my\\x2dweb.slice")).toEqual(["podunit-my\\x2dweb.slice", "podunit-my\\x2dweb-*"]);
  });
});
