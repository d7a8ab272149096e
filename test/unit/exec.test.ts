/**
 * The executor's ordering and rollback, against a fake systemd. These prove the
 * bookkeeping only; that pods really run is shown by test/system/pods.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { runStart as startPod, StartError, StartInterruptedError } from "../../src/pods/start.ts";
import { runStop as stopPod } from "../../src/pods/stop.ts";
import { podUnitPatterns } from "../../src/systemd/unitname.ts";
import type { ExecDeps, RunFiles } from "../../src/pods/deps.ts";
import type { Systemd, UnitListEntry } from "../../src/systemd/bus.ts";
import { BusUnreachableError, ExitCode, JobFailedError } from "../../src/errors.ts";
import { plan } from "../../src/plan/plan.ts";
import { render } from "../../src/plan/unitfiles.ts";
import { HOST, member, pod, TEST_IMAGES } from "./plan-helpers.ts";

/** Records calls; units "run" once started; `failing` units end with the given job result. */
class FakeSystemd implements Systemd {
  readonly address = "unix:path=/fake";
  calls: string[] = [];
  active = new Map<string, string>();
  /** Units whose start loses the connection to systemd. */
  lose = new Set<string>();
  constructor(private failing: Record<string, string> = {}) {}
  async startTransientUnit(name: string, _props?: unknown, _mode?: unknown, _aux?: unknown, onQueued?: () => void): Promise<void> {
    this.calls.push(`start ${name}`);
    if (this.lose.has(name)) throw new BusUnreachableError("unix:path=/x", "connection lost: the bus closed the connection");
    // systemd made the unit and queued its job; the job ends below.
    await Promise.resolve();
    onQueued?.();
    const result = this.failing[name];
    if (result) {
      this.active.set(name, "failed");
      throw new JobFailedError("start", name, result);
    }
    this.active.set(name, "active");
  }
  async startUnit(name: string): Promise<void> {
    this.calls.push(`wait ${name}`);
    this.active.set(name, "active");
  }
  async stopUnit(name: string): Promise<void> {
    this.calls.push(`stop ${name}`);
    for (const [u, s] of this.active) if (s === "active" && (u === name || name.endsWith(".slice"))) this.active.set(u, "inactive");
  }
  async resetFailedUnit(name: string): Promise<void> {
    this.calls.push(`reset ${name}`);
    this.active.delete(name);
  }
  async getUnit(name: string): Promise<string | null> {
    return this.active.has(name) ? `/unit/${name}` : null;
  }
  async getProperties(): Promise<Record<string, unknown>> {
    return {};
  }
  async unitState(name: string): Promise<string | null> {
    return this.active.get(name) ?? null;
  }
  async mainPid(name: string): Promise<number | undefined> {
    // Only the sandbox's main process is asked for.
    return this.active.get(name) === "active" && name.endsWith("-sandbox.service") ? 4242 : undefined;
  }
  async fragmentPath(): Promise<string | undefined> {
    return undefined;
  }
  async listUnits(): Promise<UnitListEntry[]> {
    return [...this.active].map(([name, activeState]) => ({ name, activeState, subState: "", loadState: "loaded", path: "" }));
  }
  async version(): Promise<number> {
    return 252;
  }
  async reload(): Promise<void> {}
  async setUnitProperties(): Promise<void> {}
  close(): void {}
}

function fakeFiles(): RunFiles & { written: string[]; removed: string[]; replaced: Map<string, string> } {
  const written: string[] = [];
  const removed: string[] = [];
  const replaced = new Map<string, string>();
  return {
    written,
    removed,
    replaced,
    replaceFile: (p, content) => void replaced.set(p, content),
    mkdir: (p) => void written.push(`${p}/`),
    writeFile: (p) => void written.push(p),
    mountsUnder: () => [],
    unmount: () => {},
    removeTree: (p) => void removed.push(p),
    // systemd wrote a file for every transient unit; no pod left a run directory.
    exists: (p) => p.startsWith("/run/systemd/transient/"),
    removeCgroupTree: () => [],
    chown: () => {},
  };
}

/**
 * `pins`: whether the pins of a running sandbox still lead to its namespaces; `notReady`: the
 * sandbox's ready step's error; `stuck`: a container's wait's error.
 */
function deps(
  sd: FakeSystemd,
  opts: { pins?: boolean; notReady?: string; stuck?: string; mountFails?: string; mounted?: string[]; volumesFail?: string } = {},
): ExecDeps & { files: ReturnType<typeof fakeFiles> } {
  return {
    systemd: sd,
    readiness: {
      container: async (w) => {
        sd.calls.push(`wait ${w.pidFile}`);
        if (opts.stuck) throw new Error(opts.stuck);
      },
      sandbox: async (_r, pid) => {
        sd.calls.push(`ready ${pid}`);
        if (opts.notReady) throw new Error(opts.notReady);
      },
      pinsLive: () => opts.pins ?? false,
    },
    files: fakeFiles(),
    journal: { tail: async (u) => [`last line of ${u}`] },
    containers: { list: () => [], remove: async () => {} },
    roots: {
      mount: (r) => {
        if (opts.mountFails === r.member) throw new Error(`overlay refused for ${r.member}`);
        sd.calls.push(`mount ${r.target}`);
      },
      unmount: (r) => void sd.calls.push(`unmount ${r.target}`),
      isMounted: (p) => (opts.mounted ?? []).includes(p),
    },
    volumes: {
      prepare: (vs) => {
        if (opts.volumesFail) throw new Error(opts.volumesFail);
        sd.calls.push(`volumes ${vs.map((v) => v.name).join(" ")}`);
        return { mounts: vs.filter((v) => v.type === "tmpfs").map((v) => v.source), dirs: vs.map((v) => ({ path: v.source, recursive: v.type !== "persistent" })) };
      },
      release: (made) => {
        sd.calls.push(`release ${made.mounts.join(" ")} | ${made.dirs.map((d) => d.path).join(" ")}`);
        return [];
      },
    },
  };
}

const spec = pod({
  name: "web",
  members: [member("db"), member("app", { after: ["db"], rootfs: "/srv/rootfs" }), member("migrate", { kind: "init" })],
});
const p = plan(spec, HOST);

describe("start", () => {
  test("asks for every unit in stage order: slice, sandbox, (ready step), init members, then the rest", async () => {
    const sd = new FakeSystemd();
    const d = deps(sd);
    const r = await startPod(p, d);
    expect(r.alreadyRunning).toBe(false);
    expect(sd.calls.filter((c) => c.startsWith("start") || c.startsWith("ready"))).toEqual([
      "start podunit-web.slice",
      "start podunit-web-sandbox.service",
      "ready 4242",
      "start podunit-web-migrate.service",
      "start podunit-web-db.service",
      "start podunit-web-app.service",
    ]);
    // Nothing was there before: no stop, no cleanup round trips.
    expect(sd.calls.some((c) => c.startsWith("stop"))).toBe(false);
    // Run files (bundles) are written before any unit is asked for.
    expect(d.files.written).toContain("/run/podunit/web/bundles/app/config.json");
  });

  test("each service's transient unit file is replaced by its rendered unit file (systemd 252 cannot read its own back)", async () => {
    const sd = new FakeSystemd();
    const d = deps(sd);
    await startPod(p, d);
    expect([...d.files.replaced.keys()].sort()).toEqual(
      ["podunit-web-app.service", "podunit-web-db.service", "podunit-web-migrate.service", "podunit-web-sandbox.service"].map(
        (u) => `/run/systemd/transient/${u}`,
      ),
    );
    const db = d.files.replaced.get("/run/systemd/transient/podunit-web-db.service")!;
    expect(db).toBe(render(p).find((f) => f.name === "podunit-web-db.service")!.content);
    expect(db).toContain("ExecStart=:/usr/bin/nsenter ");
  });

  test("the transient files are replaced while systemd runs the jobs, each once, after systemd made the units", async () => {
    const log: string[] = [];
    class Logged extends FakeSystemd {
      override async startTransientUnit(name: string, props?: unknown, mode?: unknown, aux?: unknown, onQueued?: () => void): Promise<void> {
        await super.startTransientUnit(name, props, mode, aux, () => (log.push(`made ${name}`), onQueued?.()));
        log.push(`done ${name}`);
      }
    }
    const d = deps(new Logged());
    const replaceFile = d.files.replaceFile;
    d.files.replaceFile = (path, content, mode) => (log.push(`replace ${path.split("/").pop()}`), replaceFile(path, content, mode));
    await startPod(p, d);
    const at = (entry: string) => log.indexOf(entry);
    for (const u of ["podunit-web-sandbox.service", "podunit-web-db.service", "podunit-web-app.service"]) {
      expect(log.filter((e) => e === `replace ${u}`)).toHaveLength(1);
      expect(at(`made ${u}`)).toBeLessThan(at(`replace ${u}`));
      expect(at(`replace ${u}`)).toBeLessThan(at(`done ${u}`));
    }
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

  test("a sandbox that cannot be made ready is the root cause; no member is asked for and everything is rolled back", async () => {
    const sd = new FakeSystemd();
    const d = deps(sd, { notReady: "process 4242 was still 'runc:[2:INIT]' after 5000 ms." });
    const err = await startPod(p, d).catch((e) => e);
    expect(err).toBeInstanceOf(StartError);
    expect(err.unit).toBe("podunit-web-sandbox.service");
    expect(err.message).toContain("podunit-web-sandbox.service: process 4242 was still 'runc:[2:INIT]' after 5000 ms.");
    expect(sd.calls.filter((c) => c.startsWith("start"))).toEqual(["start podunit-web.slice", "start podunit-web-sandbox.service"]);
    expect(sd.calls).toContain("stop podunit-web.slice");
    expect(d.files.removed).toContain("/run/podunit/web");
  });

  test("a container that never runs catatonit fails its member; the pod is rolled back", async () => {
    const sd = new FakeSystemd();
    const d = deps(sd, { stuck: "process 77 did not start its program within 5000 ms." });
    const err = await startPod(p, d).catch((e) => e);
    expect(err).toBeInstanceOf(StartError);
    expect(err.unit).toBe("podunit-web-app.service");
    expect(err.message).toContain("podunit-web-app.service: process 77 did not start its program within 5000 ms.");
    expect(sd.calls).toContain("wait /run/podunit/web/app.pid");
    expect(sd.calls).toContain("stop podunit-web.slice");
  });
});

describe("start of a pod that is partly running", () => {
  test("with the sandbox up: the members that are not active are started, the rest is left alone", async () => {
    const sd = new FakeSystemd();
    await startPod(p, deps(sd));
    sd.active.set("podunit-web-db.service", "failed");
    sd.active.delete("podunit-web-app.service");
    sd.calls = [];
    const d = deps(sd, { pins: true });
    const r = await startPod(p, d);
    expect(r.alreadyRunning).toBe(false);
    expect(r.repaired).toEqual(["podunit-web-db.service", "podunit-web-app.service"]);
    // app has a rootfs: podunit waits until its container runs catatonit.
    expect(sd.calls).toEqual(["reset podunit-web-db.service", "start podunit-web-db.service", "start podunit-web-app.service", "wait /run/podunit/web/app.pid"]);
    // The member made again gets its bundle again; the sandbox's files are not touched.
    expect(d.files.written).toContain("/run/podunit/web/bundles/app/config.json");
    expect(d.files.written.filter((f) => f.includes("/sandbox"))).toEqual([]);
    expect([...sd.active.values()].every((s) => s === "active")).toBe(true);
  });

  test("units still on their way up (an interrupted start) are waited for, not made again", async () => {
    const sd = new FakeSystemd();
    await startPod(p, deps(sd));
    sd.active.set("podunit-web-sandbox.service", "activating");
    sd.active.set("podunit-web-app.service", "activating");
    sd.active.delete("podunit-web-db.service");
    sd.calls = [];
    const r = await startPod(p, deps(sd, { pins: true }));
    expect(sd.calls).toEqual(["wait podunit-web-sandbox.service", "start podunit-web-db.service", "wait podunit-web-app.service", "wait /run/podunit/web/app.pid"]);
    expect(r.repaired).toEqual(["podunit-web-db.service", "podunit-web-app.service"]);
  });

  test("without its sandbox, or with the pins gone, the pod is started afresh", async () => {
    for (const [what, pins] of [["sandbox failed", true], ["pins gone", false]] as const) {
      const sd = new FakeSystemd();
      await startPod(p, deps(sd));
      if (what === "sandbox failed") sd.active.set("podunit-web-sandbox.service", "failed");
      sd.active.set("podunit-web-db.service", "failed");
      sd.calls = [];
      const d = deps(sd, { pins });
      const r = await startPod(p, d);
      expect(sd.calls[0]).toBe("stop podunit-web.slice");
      expect(sd.calls.filter((c) => c.startsWith("start"))).toEqual([
        "start podunit-web.slice",
        "start podunit-web-sandbox.service",
        "start podunit-web-migrate.service",
        "start podunit-web-db.service",
        "start podunit-web-app.service",
      ]);
      expect(r.repaired.length).toBe(5);
    }
  });
});

describe("start that loses its connection to systemd", () => {
  test("fails with exit code 4, says the pod may be partly started and how to repair it, and rolls nothing back", async () => {
    const sd = new FakeSystemd();
    sd.lose.add("podunit-web-db.service");
    const err = await startPod(p, deps(sd)).catch((e) => e);
    expect(err).toBeInstanceOf(StartInterruptedError);
    expect(err.exitCode).toBe(ExitCode.SYSTEMD_UNREACHABLE);
    expect(err.message).toContain("the connection to systemd was lost while its units were starting");
    expect(err.message).toContain("may be partly started");
    expect(err.hint).toBe("Run 'podunit start web' to finish starting it, or 'podunit stop web' to remove it; 'podunit status web' shows where it is.");
    expect(sd.calls.filter((c) => c.startsWith("stop"))).toEqual([]); // a clean start stops nothing first, and nothing is rolled back
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
    expect(podUnitPatterns("web")).toEqual(["podunit-web.slice", "podunit-web-*"]);
    // 'my-web' escapes to my\x2dweb; systemd reads '\' in patterns literally (FNM_NOESCAPE).
    expect(podUnitPatterns("my-web")).toEqual(["podunit-my\\x2dweb.slice", "podunit-my\\x2dweb-*"]);
  });
});

describe("image members' roots", () => {
  const ip = plan(pod({ members: [member("db"), member("app", { image: "localhost/app:1", command: [] }), member("tool", { image: "busybox", command: [], readonlyRootfs: true })] }), HOST, {
    images: TEST_IMAGES,
  });
  const root = (m: string) => `/run/podunit/web/rootfs/${m}`;

  test("are mounted after the sandbox is ready and before any member is asked for", async () => {
    const sd = new FakeSystemd();
    await startPod(ip, deps(sd));
    const order = sd.calls.filter((c) => /^(start|ready|mount)/.test(c));
    expect(order).toEqual([
      "start podunit-web.slice",
      "start podunit-web-sandbox.service",
      "ready 4242",
      `mount ${root("app")}`,
      `mount ${root("tool")}`,
      "start podunit-web-db.service",
      "start podunit-web-app.service",
      "start podunit-web-tool.service",
    ]);
  });

  test("a root that cannot be mounted fails its member; the roots mounted are unmounted, the pod rolled back", async () => {
    const sd = new FakeSystemd();
    const d = deps(sd, { mountFails: "tool" });
    const err = await startPod(ip, d).catch((e) => e);
    expect(err).toBeInstanceOf(StartError);
    expect(err.unit).toBe("podunit-web-tool.service");
    expect(err.message).toContain("overlay refused for tool");
    expect(sd.calls.filter((c) => c.startsWith("start podunit-web-") && !c.includes("sandbox"))).toEqual([]);
    expect(sd.calls).toContain(`unmount ${root("app")}`);
    expect(sd.calls).not.toContain(`unmount ${root("tool")}`);
    expect(sd.calls).toContain("stop podunit-web.slice");
    expect(d.files.removed).toContain("/run/podunit/web");
  });

  test("a member that fails later unmounts every root on the way back", async () => {
    const sd = new FakeSystemd({ "podunit-web-app.service": "failed" });
    const err = await startPod(ip, deps(sd)).catch((e) => e);
    expect(err.unit).toBe("podunit-web-app.service");
    expect(sd.calls.filter((c) => c.startsWith("unmount"))).toEqual([`unmount ${root("tool")}`, `unmount ${root("app")}`]);
  });

  test("a repair mounts the root of a member that is down when it is gone, and leaves a mounted one", async () => {
    const sd = new FakeSystemd();
    await startPod(ip, deps(sd));
    sd.active.delete("podunit-web-app.service");
    sd.active.delete("podunit-web-tool.service");
    sd.calls = [];
    await startPod(ip, deps(sd, { pins: true, mounted: [root("tool")] }));
    expect(sd.calls.filter((c) => /^(start|mount)/.test(c))).toEqual([`mount ${root("app")}`, "start podunit-web-app.service", "start podunit-web-tool.service"]);
  });
});

describe("volumes", () => {
  const vp = plan(
    pod({
      volumes: [
        { name: "data", type: "persistent" },
        { name: "cache", type: "tmpfs", size: 1048576n },
      ],
      members: [member("db", { mounts: [{ volume: "data", path: "/data", readonly: false }] }), member("app", { after: ["db"], rootfs: "/srv/rootfs", mounts: [{ volume: "cache", path: "/cache", readonly: true }] })],
    }),
    HOST,
  );

  test("are made after the run files and before any unit", async () => {
    const sd = new FakeSystemd();
    const d = deps(sd);
    await startPod(vp, d);
    expect(sd.calls[0]).toBe("volumes data cache");
    expect(sd.calls[1]).toBe("start podunit-web.slice");
    expect(d.files.written.length).toBeGreaterThan(0);
  });

  test("a volume that cannot be made (a host path missing) refuses the start before anything runs", async () => {
    const sd = new FakeSystemd();
    const d = deps(sd, { volumesFail: "Host volume 'src' ('/srv/src') does not exist." });
    const err = await startPod(vp, d).catch((e) => e);
    expect(err).toBeInstanceOf(StartError);
    expect(err.message).toContain("Host volume 'src' ('/srv/src') does not exist.");
    expect(sd.calls.filter((c) => c.startsWith("start"))).toEqual([]);
    expect(d.files.removed).toContain("/run/podunit/web");
  });

  test("a member that fails releases what the volumes step made, after its units are stopped", async () => {
    const sd = new FakeSystemd({ "podunit-web-app.service": "failed" });
    const err = await startPod(vp, deps(sd)).catch((e) => e);
    expect(err.unit).toBe("podunit-web-app.service");
    const release = sd.calls.findIndex((c) => c.startsWith("release"));
    expect(release).toBeGreaterThan(sd.calls.indexOf("stop podunit-web.slice"));
    expect(sd.calls[release]).toBe("release /run/podunit/web/volumes/cache | /var/lib/podunit/volumes/web/data /run/podunit/web/volumes/cache");
  });
});
