/**
 * The hand-off of a crun container's PID to its unit (src/plan/runtime.ts,
 * pidHandOff): the units it changes, and its shell program run for real.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { plan } from "../../src/plan/plan.ts";
import type { PlannedUnit } from "../../src/plan/types.ts";
import { pidHandOff } from "../../src/plan/runtime.ts";
import { argvs, HOST, HOST_CRUN, member, memberUnit, pod } from "./plan-helpers.ts";

const withBox = () => pod({ members: [member("box", { rootfs: "/srv/root" })] });

describe("the units", () => {
  const handedOff = (u: PlannedUnit, name: string) => {
    expect(u.properties.find((x) => x.key === "PIDFile")?.value).toBe(`/run/podunit/web/${name}.pid`);
    expect(argvs(u, "ExecStartEx")[0]).toContain(`/run/podunit/web/${name}.crun.pid`);
    const post = argvs(u, "ExecStartPostEx")[0]!;
    expect(post[0]).toBe("/usr/bin/sh");
    expect(post.slice(-2)).toEqual([`/run/podunit/web/${name}.crun.pid`, `/run/podunit/web/${name}.pid`]);
  };
  const direct = (u: PlannedUnit) => {
    expect(argvs(u, "ExecStartEx")[0]).toContain(u.properties.find((x) => x.key === "PIDFile")?.value as string);
    expect(argvs(u, "ExecStartPostEx")).toEqual([]);
  };

  test("crun: the sandbox (its pause process is alone) writes NAME.crun.pid; PIDFile= NAME.pid comes from a shell step", () => {
    handedOff(plan(withBox(), HOST_CRUN).sandbox, "sandbox");
  });

  test("crun: a member with catatonit and its command needs no step; one in the pod's PID namespace (no catatonit) does", () => {
    direct(memberUnit(plan(withBox(), HOST_CRUN), "box"));
    handedOff(memberUnit(plan({ ...withBox(), share: ["net", "ipc", "uts", "pid"] }, HOST_CRUN), "box"), "box");
  });

  test("crun on cgroup v1 without a v2 tree: every container (systemd does not wait for a delegated unit's other processes there)", () => {
    handedOff(memberUnit(plan(withBox(), { ...HOST_CRUN, cgroupMode: "legacy" }), "box"), "box");
  });

  test("runc writes the unit's PIDFile= itself: no step", () => {
    const p = plan({ ...withBox(), share: ["net", "ipc", "uts", "pid"] }, { ...HOST, cgroupMode: "legacy" });
    for (const u of [p.sandbox, memberUnit(p, "box")]) direct(u);
  });
});

describe("the shell step", () => {
  const dir = mkdtempSync(join(tmpdir(), "podunit-handoff-"));
  const from = join(dir, "box.crun.pid");
  const to = join(dir, "box.pid");
  let atOnceMs: number | undefined;
  const step = (): { status: number; ms: number } => {
    rmSync(to, { force: true });
    const handOff = pidHandOff({ host: { ...HOST, paths: { ...HOST.paths, sh: "/bin/sh" } } } as never, { name: "crun", path: "/usr/bin/crun" }, to, true);
    expect(handOff.runtimePidFile).toBe(from);
    const t0 = performance.now();
    const r = Bun.spawnSync(handOff.post[0]!.argv);
    return { status: r.exitCode, ms: performance.now() - t0 };
  };

  test("a process whose parent is PID 1 is handed on at once", () => {
    // A child of a shell that exits is reparented to PID 1 (or to a subreaper; then this test cannot tell).
    const pid = Number(new TextDecoder().decode(Bun.spawnSync(["/bin/sh", "-c", "sleep 5 >/dev/null 2>&1 & echo $!"]).stdout).trim());
    try {
      const ppid = /PPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1];
      writeFileSync(from, String(pid));
      const r = step();
      expect(r.status).toBe(0);
      expect(readFileSync(to, "utf8").trim()).toBe(String(pid));
      if (ppid === "1") {
        expect(r.ms).toBeLessThan(1000);
        atOnceMs = r.ms;
      }
    } finally {
      process.kill(pid, "SIGKILL");
    }
  });

  test("a process that is gone: handed on at once, systemd then finds it dead", () => {
    writeFileSync(from, "999999999");
    expect(step().status).toBe(0);
    expect(readFileSync(to, "utf8").trim()).toBe("999999999");
  });

  test("a process whose parent is not PID 1 is waited for, boundedly, then handed on", () => {
    const child = Bun.spawn(["sleep", "30"]);
    try {
      writeFileSync(from, String(child.pid));
      const r = step();
      expect(r.status).toBe(0);
      // It read /proc until its bound: far longer than a hand-off at once (when the case above could measure one).
      if (atOnceMs !== undefined) expect(r.ms).toBeGreaterThan(5 * atOnceMs);
      expect(readFileSync(to, "utf8").trim()).toBe(String(child.pid));
    } finally {
      child.kill("SIGKILL");
    }
  });

  test("an empty or missing runtime PID file fails the step and writes nothing (the PIDs above had no newline, as crun writes them)", () => {
    writeFileSync(from, "");
    expect(step().status).toBe(1);
    expect(existsSync(to)).toBe(false);
    rmSync(from);
    expect(step().status).not.toBe(0);
    expect(existsSync(to)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
