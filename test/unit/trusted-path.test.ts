/**
 * Which spec files root trusts: the walk over a fake file system (owners and
 * modes that a test user could not create on disk). The real thing, as root in
 * a lab, is in test/system/security.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { ExitCode, PermissionError } from "../../src/errors.ts";
import { checkSpecTrusted } from "../../src/podspec/load.ts";
import { checkTrustedPath, type PathFs } from "../../src/podspec/trusted-path.ts";

type Node = { uid?: number; mode: number; link?: string };
const DIR = 0o040000;
const FILE = 0o100000;
const LINK = 0o120000;

/** A file system from a table of paths; every directory on the way must be listed. */
function fakeFs(nodes: Record<string, Node>): PathFs {
  const table: Record<string, Node> = { "/": { mode: DIR | 0o755 }, ...nodes };
  let ino = 1;
  const inos = new Map(Object.keys(table).map((p) => [p, ino++]));
  return {
    lstat(path) {
      const n = table[path];
      if (!n) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
      return { uid: n.uid ?? 0, mode: n.mode, dev: 1, ino: inos.get(path)! };
    },
    readlink(path) {
      const n = table[path];
      if (!n?.link) throw Object.assign(new Error(`EINVAL: ${path}`), { code: "EINVAL" });
      return n.link;
    },
  };
}

const etc = {
  "/etc": { mode: DIR | 0o755 },
  "/etc/podunit": { mode: DIR | 0o755 },
  "/etc/podunit/pods": { mode: DIR | 0o755 },
};
const SPEC = "/etc/podunit/pods/web.toml";

function why(fs: PathFs, path = SPEC): string | undefined {
  const r = checkTrustedPath(path, fs);
  return "ok" in r ? undefined : `${r.untrusted.path}: ${r.untrusted.problem} [${r.untrusted.fix}]`;
}

describe("trusted spec paths", () => {
  test("root's file in root's directories is trusted, and the walk returns that file", () => {
    const fs = fakeFs({ ...etc, [SPEC]: { mode: FILE | 0o644 } });
    const r = checkTrustedPath(SPEC, fs);
    expect(r).toEqual({ ok: fs.lstat(SPEC) });
    expect(why(fakeFs({ ...etc, [SPEC]: { mode: FILE | 0o600 } }))).toBeUndefined();
  });

  test("a file writable by its group or by everyone is refused", () => {
    expect(why(fakeFs({ ...etc, [SPEC]: { mode: FILE | 0o664 } }))).toBe(
      `${SPEC}: is writable by its group (mode 0664) [chmod go-w '${SPEC}']`,
    );
    expect(why(fakeFs({ ...etc, [SPEC]: { mode: FILE | 0o646 } }))).toBe(
      `${SPEC}: is writable by everyone (mode 0646) [chmod go-w '${SPEC}']`,
    );
  });

  test("a file or directory that belongs to another user is refused", () => {
    expect(why(fakeFs({ ...etc, [SPEC]: { mode: FILE | 0o644, uid: 1000 } }))).toBe(
      `${SPEC}: belongs to uid 1000, not to root [chown root '${SPEC}']`,
    );
    expect(why(fakeFs({ ...etc, "/etc/podunit/pods": { mode: DIR | 0o755, uid: 1000 }, [SPEC]: { mode: FILE | 0o644 } }))).toBe(
      "/etc/podunit/pods: belongs to uid 1000, not to root [chown root '/etc/podunit/pods']",
    );
  });

  test("any directory on the way that others may write is refused, up to /", () => {
    const loose = (dir: string, mode: number) => why(fakeFs({ ...etc, [dir]: { mode: DIR | mode }, [SPEC]: { mode: FILE | 0o644 } }));
    expect(loose("/etc/podunit/pods", 0o775)).toBe("/etc/podunit/pods: is writable by its group (mode 0775) [chmod go-w '/etc/podunit/pods']");
    expect(loose("/etc/podunit", 0o777)).toBe("/etc/podunit: is writable by everyone (mode 0777) [chmod go-w '/etc/podunit']");
    expect(loose("/", 0o757)).toBe("/: is writable by everyone (mode 0757) [chmod go-w '/']");
  });

  test("a sticky directory such as /tmp is fine for root's own entries only", () => {
    const tmp = { "/tmp": { mode: DIR | 0o1777 } };
    expect(why(fakeFs({ ...tmp, "/tmp/web.toml": { mode: FILE | 0o644 } }), "/tmp/web.toml")).toBeUndefined();
    expect(why(fakeFs({ ...tmp, "/tmp/web.toml": { mode: FILE | 0o644, uid: 1000 } }), "/tmp/web.toml")).toBe(
      "/tmp/web.toml: belongs to uid 1000, not to root, in '/tmp', which everyone may write to (mode 1777) [chown root '/tmp/web.toml']",
    );
    expect(why(fakeFs({ ...tmp, "/tmp/d": { mode: DIR | 0o700, uid: 1000 }, "/tmp/d/web.toml": { mode: FILE | 0o644 } }), "/tmp/d/web.toml")).toContain(
      "/tmp/d: belongs to uid 1000",
    );
    // Without the sticky bit anyone could rename root's file away and put their own in its place.
    expect(why(fakeFs({ "/tmp": { mode: DIR | 0o777 }, "/tmp/web.toml": { mode: FILE | 0o644 } }), "/tmp/web.toml")).toBe(
      "/tmp: is writable by everyone (mode 0777) [chmod go-w '/tmp']",
    );
  });

  test("symbolic links are followed, and every directory on each hop is checked", () => {
    const home = { "/home": { mode: DIR | 0o755 }, "/home/alice": { mode: DIR | 0o755, uid: 1000 }, "/home/alice/web.toml": { mode: FILE | 0o644 } };
    expect(why(fakeFs({ ...etc, ...home, [SPEC]: { mode: LINK | 0o777, link: "/home/alice/web.toml" } }))).toBe(
      "/home/alice: belongs to uid 1000, not to root [chown root '/home/alice']",
    );
    const srv = { "/srv": { mode: DIR | 0o755 }, "/srv/web.toml": { mode: FILE | 0o644 } };
    expect(why(fakeFs({ ...etc, ...srv, [SPEC]: { mode: LINK | 0o777, link: "../../../srv/web.toml" } }))).toBeUndefined();
    expect(why(fakeFs({ ...etc, ...srv, "/srv/web.toml": { mode: FILE | 0o666 }, [SPEC]: { mode: LINK | 0o777, link: "/srv/web.toml" } }))).toBe(
      "/srv/web.toml: is writable by everyone (mode 0666) [chmod go-w '/srv/web.toml']",
    );
    // A link to a loose directory on the way.
    const pods = { "/etc": { mode: DIR | 0o755 }, "/etc/podunit": { mode: DIR | 0o755 }, "/var": { mode: DIR | 0o777 }, "/var/pods": { mode: DIR | 0o755 } };
    expect(
      why(fakeFs({ ...pods, "/etc/podunit/pods": { mode: LINK | 0o777, link: "/var/pods" }, "/var/pods/web.toml": { mode: FILE | 0o644 } })),
    ).toBe("/var: is writable by everyone (mode 0777) [chmod go-w '/var']");
  });

  test("a loop of links ends with a reason, not a hang", () => {
    const fs = fakeFs({ ...etc, [SPEC]: { mode: LINK | 0o777, link: "/etc/podunit/pods/other.toml" }, "/etc/podunit/pods/other.toml": { mode: LINK | 0o777, link: SPEC } });
    expect(why(fs)).toContain("too many symbolic links");
  });

  test("checkSpecTrusted refuses with exit code 6, names the path and says how to fix it", () => {
    const fs = fakeFs({ ...etc, "/etc/podunit/pods": { mode: DIR | 0o777 }, [SPEC]: { mode: FILE | 0o644 } });
    let err: unknown;
    try {
      checkSpecTrusted(SPEC, fs);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PermissionError);
    const e = err as PermissionError;
    expect(e.exitCode).toBe(ExitCode.PERMISSION);
    expect(e.message).toBe(`Failed to read pod spec '${SPEC}': refused, because '/etc/podunit/pods' is writable by everyone (mode 0777).`);
    expect(e.hint).toContain("must belong to root and must not be writable by group or others");
    expect(e.hint).toEndWith("run: chmod go-w '/etc/podunit/pods'");
    const file = fakeFs({ ...etc, [SPEC]: { mode: FILE | 0o664 } });
    expect(() => checkSpecTrusted(SPEC, file)).toThrow("because the file is writable by its group (mode 0664).");
  });
});
