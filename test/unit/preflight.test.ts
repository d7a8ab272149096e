import { describe, expect, test } from "bun:test";
import { findCommand, preflight, resolveInRoot, type HostLookup } from "../../src/pods/preflight.ts";
import { NotFoundError, PermissionError } from "../../src/errors.ts";
import { member, pod } from "./plan-helpers.ts";

/** A file system of executables, directories and links, as plain data. */
function fsOf(files: string[], dirs: string[], links: Record<string, string>, roots: string[] = []): HostLookup {
  return {
    isExecutableFile: (p) => files.includes(p),
    isDirectory: (p) => dirs.includes(p),
    readLink: (p) => links[p],
    isHostRoot: (p) => roots.includes(p),
  };
}

const fs = fsOf(
  ["/usr/bin/sleep", "/r/bin/busybox", "/r/opt/app/run"],
  ["/r"],
  { "/r/bin/sh": "busybox", "/r/usr": "/", "/r/lib": "../../../etc", "/r/loop": "loop" },
);

describe("resolveInRoot", () => {
  test("relative and absolute links stay inside the root", () => {
    expect(resolveInRoot("/r", "/bin/sh", fs)).toBe("/r/bin/busybox");
    expect(resolveInRoot("/r", "/usr/bin/sh", fs)).toBe("/r/bin/busybox");
    expect(resolveInRoot("/r", "/lib/passwd", fs)).toBe("/r/etc/passwd");
    expect(resolveInRoot("/r", "/../../bin/busybox", fs)).toBe("/r/bin/busybox");
  });
  test("a link loop gives up", () => {
    expect(resolveInRoot("/r", "/loop", fs)).toBeUndefined();
  });
});

describe("preflight", () => {
  test("finds programs by path or through PATH", () => {
    expect(findCommand("sleep", "/bin:/usr/bin", fs)).toBe("/usr/bin/sleep");
    expect(findCommand("/usr/bin/sleep", "", fs)).toBe("/usr/bin/sleep");
    expect(findCommand("nope", "/bin:/usr/bin", fs)).toBeUndefined();
  });
  test("accepts a pod whose programs and rootfs exist", () => {
    const spec = pod({ members: [member("a", { command: ["sleep", "1"] }), member("b", { rootfs: "/r", command: ["sh"] })] });
    expect(() => preflight(spec, fs)).not.toThrow();
  });
  test("lists every member that cannot start, in one error", () => {
    const spec = pod({
      members: [
        member("a", { command: ["/usr/bin/nope"] }),
        member("b", { rootfs: "/missing", command: ["sh"] }),
        member("c", { rootfs: "/r", command: ["/opt/app/missing"] }),
        member("d", { command: ["sleep"], env: { PATH: "/opt" } }),
      ],
    });
    let err: unknown;
    try {
      preflight(spec, fs);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotFoundError);
    const msg = (err as Error).message;
    expect(msg).toContain("member 'a': program '/usr/bin/nope' does not exist or is not executable");
    expect(msg).toContain("member 'b': rootfs '/missing' is not a directory");
    expect(msg).toContain("member 'c': program '/opt/app/missing' is not in its rootfs '/r'");
    expect(msg).toContain("member 'd': program 'sleep' is not in PATH (/opt)");
  });
  test("a rootfs that is the host's root directory (a link or bind mount to it) is refused with exit code 6", () => {
    const host = fsOf(["/r/bin/busybox"], ["/r", "/srv/all"], { "/r/bin/sh": "busybox" }, ["/srv/all"]);
    const spec = pod({ members: [member("ok", { rootfs: "/r", command: ["sh"] }), member("wide", { rootfs: "/srv/all", command: ["sh"] })] });
    let err: unknown;
    try {
      preflight(spec, host);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PermissionError);
    expect((err as PermissionError).exitCode).toBe(6);
    expect((err as Error).message).toBe(
      "Failed to start pod 'web': member 'wide': rootfs '/srv/all' is the host's root directory '/' (a link or bind mount to it).",
    );
  });
});
