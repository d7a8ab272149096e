import { describe, expect, test } from "bun:test";
import { detectHostFacts, detectPaths, findProgram } from "../../src/plan/hostfacts.ts";

describe("host facts", () => {
  const present = new Set(["/usr/sbin/runc", "/usr/libexec/podman/catatonit", "/usr/bin/nsenter", "/usr/local/bin/podunit"]);
  const exists = (p: string) => present.has(p);
  test("programs are found along the fixed search path", () => {
    expect(findProgram("runc", undefined, exists)).toBe("/usr/sbin/runc");
    expect(findProgram("crun", undefined, exists)).toBeUndefined();
  });
  test("runc may be missing; other programs fall back to /usr/bin", () => {
    const paths = detectPaths(exists, "/root/.bun/bin/bun");
    expect(paths.runc).toBe("/usr/sbin/runc");
    expect(paths.catatonit).toBe("/usr/libexec/podman/catatonit");
    expect(paths.unshare).toBe("/usr/bin/unshare");
    expect(paths.podunit).toBe("/usr/local/bin/podunit");
    expect(detectPaths(() => false, "/opt/podunit").runc).toBeUndefined();
    expect(detectPaths(() => false, "/opt/bin/podunit").podunit).toBe("/opt/bin/podunit");
  });
  test("on this machine: absolute paths, a mode, a version, the run directory", () => {
    const h = detectHostFacts({ PODUNIT_RUN_DIR: "/tmp/pu" });
    expect(["legacy", "hybrid", "unified"]).toContain(h.cgroupMode);
    expect(h.systemdVersion).toBeGreaterThan(200);
    expect(h.runDir).toBe("/tmp/pu");
    for (const p of Object.values(h.paths)) if (p !== undefined) expect(p.startsWith("/")).toBe(true);
  });
});
