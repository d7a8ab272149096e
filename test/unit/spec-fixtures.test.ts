/**
 * Fixture-driven spec tests. Every file in test/fixtures/specs/good must parse;
 * every file in test/fixtures/specs/bad must fail with exactly the issues its
 * leading `## expect-error: ` lines list. Adding a case means adding a file.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SpecError, formatSpecIssue } from "../../src/errors.ts";
import { decodeSpec } from "../../src/podspec/load.ts";
import { parseSpec } from "../../src/podspec/parse.ts";
import type { PodSpec } from "../../src/podspec/types.ts";

const root = join(import.meta.dir, "../fixtures/specs");
const files = (dir: string) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith(".toml"))
    .sort();

/** Parses a fixture the way loadSpec does: bytes → UTF-8 text → spec named after the file. */
function load(dir: string, name: string): PodSpec {
  const bytes = new Uint8Array(readFileSync(join(root, dir, name)));
  return parseSpec(decodeSpec(bytes, name), name, { defaultName: name.slice(0, -".toml".length) });
}

function expectedErrors(dir: string, name: string): string[] {
  const text = readFileSync(join(root, dir, name), "latin1").replace(/^\xef\xbb\xbf/, "");
  return text
    .split("\n")
    .filter((l) => l.startsWith("## expect-error: "))
    .map((l) => Buffer.from(l.slice("## expect-error: ".length), "latin1").toString("utf8"));
}

describe("good specs", () => {
  const good = files("good");
  test("there are at least six", () => expect(good.length).toBeGreaterThanOrEqual(6));
  for (const name of good) {
    test(name, () => {
      const spec = load("good", name);
      expect(spec.members.length).toBeGreaterThan(0);
    });
  }

  test("web.toml (the design sketch) gives exactly this spec", () => {
    expect(load("good", "web.toml")).toEqual({
      name: "web",
      file: "web.toml",
      hostname: "web",
      share: ["ipc", "net", "uts"],
      hostNetwork: false,
      hostIpc: false,
      hostPid: false,
      limits: { memoryMax: 512n * 1024n * 1024n, cpuQuota: 150, tasksMax: 512n },
      install: { wantedBy: ["multi-user.target"] },
      members: [
        {
          name: "db",
          kind: "service",
          command: ["/usr/bin/redis-server", "--port", "6379"],
          env: {},
          readonlyRootfs: false,
          limits: { memoryMax: 128n * 1024n * 1024n },
          restart: "always",
          after: [],
        },
        {
          name: "app",
          kind: "service",
          command: ["gunicorn", "-b", "0.0.0.0:80", "httpbin:app"],
          env: { LOG_LEVEL: "info" },
          user: "1000:1000",
          rootfs: "/var/lib/podunit/rootfs/httpbin",
          readonlyRootfs: false,
          limits: {},
          restart: "on-failure",
          after: ["db"],
        },
      ],
    });
  });

  test("minimal.toml gets every default", () => {
    const spec = load("good", "minimal.toml");
    expect(spec).toEqual({
      name: "minimal",
      file: "minimal.toml",
      hostname: "minimal",
      share: ["ipc", "net", "uts"],
      hostNetwork: false,
      hostIpc: false,
      hostPid: false,
      limits: {},
      members: [
        {
          name: "app",
          kind: "service",
          command: ["/bin/sleep", "infinity"],
          env: {},
          readonlyRootfs: false,
          limits: {},
          restart: "on-failure",
          after: [],
        },
      ],
    });
    expect("sandbox" in spec).toBe(false);
    expect("install" in spec).toBe(false);
  });

  test("pid-share.toml shares the PID namespace", () => {
    expect(load("good", "pid-share.toml").share).toEqual(["ipc", "net", "pid", "uts"]);
  });

  test("host-network.toml leaves net out of the default share", () => {
    const spec = load("good", "host-network.toml");
    expect(spec.hostNetwork).toBe(true);
    expect(spec.share).toEqual(["ipc", "uts"]);
  });

  test("init-members.toml: init members default to restart = no", () => {
    const m = load("good", "init-members.toml").members;
    expect(m.map((x) => [x.name, x.kind, x.restart])).toEqual([
      ["migrate", "init", "on-failure"],
      ["seed", "init", "no"],
      ["api", "service", "on-failure"],
    ]);
    expect(m[0]!.restartSec).toBe(5_000_000n);
    expect(m[2]!.stopTimeout).toBe(90_000_000n);
  });

  test("many-members.toml has 50 members in file order, chained by after", () => {
    const m = load("good", "many-members.toml").members;
    expect(m.length).toBe(50);
    m.forEach((x, i) => {
      expect(x.name).toBe(`m${String(i + 1).padStart(2, "0")}`);
      expect(x.after).toEqual(i === 0 ? [] : [m[i - 1]!.name]);
      expect(x.limits.memoryMax).toBe(BigInt(i + 1) * 10n * 1024n * 1024n);
    });
  });

  test("all-keys.toml reads every key", () => {
    const spec = load("good", "all-keys.toml");
    expect(spec.sandbox).toBe("native");
    expect(spec.limits).toEqual({ memoryMax: 1536n * 1024n * 1024n, cpuQuota: 250.5, tasksMax: 4096n });
    const [db, app] = spec.members;
    expect(db!.limits.memoryMax).toBe(1073741824n);
    expect(db!.restartSec).toBe(2_000_000n);
    expect(db!.stopTimeout).toBe(120_000_000n);
    expect(app!.readonlyRootfs).toBe(true);
    expect(app!.noNewPrivileges).toBe(false);
    expect(db!.noNewPrivileges).toBeUndefined();
    expect(app!.workdir).toBe("/");
    expect(app!.stopTimeout).toBe(3_723_004_005n);
    expect(app!.env).toEqual({ LOG_LEVEL: "debug", _PRIVATE: "", MULTI: "two lines" });
  });

  test("quoted-keys.toml: dotted, quoted and inline forms", () => {
    const m = load("good", "quoted-keys.toml").members;
    expect(m.map((x) => x.name)).toEqual(["cache", "worker", "web-1"]);
    expect(m[1]!.env).toEqual({ QUEUE: "jobs" });
    expect(m[2]!.command).toEqual(["/usr/bin/nginx", "-g", "daemon off;"]);
  });
});

describe("bad specs", () => {
  const bad = files("bad");
  test("there are at least 35", () => expect(bad.length).toBeGreaterThanOrEqual(35));
  for (const name of bad) {
    test(name, () => {
      const expected = expectedErrors("bad", name);
      expect(expected.length).toBeGreaterThan(0);
      let thrown: unknown;
      try {
        load("bad", name);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(SpecError);
      expect((thrown as SpecError).issues.map(formatSpecIssue)).toEqual(expected);
    });
  }
});

// Damaged fixtures, generated and pathological specs, through validation and planning: spec-fuzz.test.ts.
