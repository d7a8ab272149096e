/**
 * `podunit exec`: its command line, and the runc and nsenter command lines it
 * builds from a member's process (that they enter the member for real is shown
 * by test/system/logs.test.ts).
 */
import { describe, expect, test } from "bun:test";
import { parseExecArgs } from "../../src/cli/common/exec-args.ts";
import { UsageError } from "../../src/errors.ts";
import { enterEnv, nsenterArgv, runtimeExecArgv, type EnterRequest } from "../../src/host/enter.ts";
import { parseEnviron, parseProcStatus } from "../../src/host/proc.ts";

describe("command line", () => {
  test("pod, member, command; everything after the member belongs to the command", () => {
    const a = parseExecArgs(["web", "app", "ls", "-l", "--color", "-e", "X=1"]);
    expect(a.ref).toBe("web");
    expect(a.member).toBe("app");
    expect(a.command).toEqual(["ls", "-l", "--color", "-e", "X=1"]);
    expect(a.env).toEqual([]);
    expect(a.interactive).toBe(false);
    expect(a.tty).toBeUndefined();
  });

  test("'--' before the command is dropped; a second '--' is the command's", () => {
    expect(parseExecArgs(["web", "app", "--", "sh", "-c", "exit 7"]).command).toEqual(["sh", "-c", "exit 7"]);
    expect(parseExecArgs(["web", "app", "--", "--", "x"]).command).toEqual(["--", "x"]);
    expect(parseExecArgs(["-i", "--", "web", "app", "-x"]).command).toEqual(["-x"]);
  });

  test("options before the pod: clustered short flags, values inline or next", () => {
    const a = parseExecArgs(["-it", "-u", "1000", "-w/tmp", "-e", "A=1", "--env=B=x=y", "--dir", "/d", "web", "app", "sh"]);
    expect(a.interactive).toBe(true);
    expect(a.tty).toBe(true);
    expect(a.user).toBe("1000:1000");
    expect(a.workdir).toBe("/tmp");
    expect(a.env).toEqual(["A=1", "B=x=y"]);
    expect(a.dir).toBe("/d");
    expect(parseExecArgs(["-ieA=1", "web", "app", "x"]).env).toEqual(["A=1"]);
    expect(parseExecArgs(["--user=0:5", "--no-tty", "web", "app", "x"])).toMatchObject({ user: "0:5", tty: false });
    expect(parseExecArgs(["-T", "web", "app", "x"]).tty).toBe(false);
  });

  test("options may also sit between pod and member", () => {
    expect(parseExecArgs(["web", "-t", "app", "x"])).toMatchObject({ ref: "web", member: "app", tty: true, command: ["x"] });
  });

  test("mistakes are usage errors", () => {
    const bad: Array<[string[], RegExp]> = [
      [["web", "app"], /needs a command/],
      [["web"], /needs a pod and a member/],
      [[], /needs a pod and a member/],
      [["web", "app", "--"], /needs a command/],
      [["-x", "web", "app", "ls"], /Unknown option '-x'/],
      [["-ix", "web", "app", "ls"], /Unknown option '-x'/],
      [["--privileged", "web", "app", "ls"], /Unknown option '--privileged'/],
      [["-t", "-T", "web", "app", "ls"], /exclude each other/],
      [["-u", "alice", "web", "app", "ls"], /numeric UID\[:GID\]/],
      [["-u", "1:2:3", "web", "app", "ls"], /numeric/],
      [["-u", "99999999999", "web", "app", "ls"], /numeric/],
      [["-w", "tmp", "web", "app", "ls"], /absolute path/],
      [["-e", "NOVALUE", "web", "app", "ls"], /KEY=VALUE/],
      [["-e", "1X=2", "web", "app", "ls"], /KEY=VALUE/],
      [["--tty=yes", "web", "app", "ls"], /takes no value/],
      [["-e"], /needs a value/],
      [["--user"], /needs a value/],
    ];
    for (const [args, re] of bad) {
      let err: unknown;
      try {
        parseExecArgs(args);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(re);
    }
  });
});

const req = (over: Partial<EnterRequest> = {}): EnterRequest => ({ command: ["sh", "-c", "echo hi"], tty: false, env: [], ...over });

describe("crun and runc exec", () => {
  test("the container's own settings unless overridden", () => {
    expect(runtimeExecArgv("/usr/sbin/runc", "podunit-web.app", req())).toEqual(["/usr/sbin/runc", "exec", "podunit-web.app", "sh", "-c", "echo hi"]);
  });

  test("tty, user, working directory, environment", () => {
    expect(runtimeExecArgv("/usr/sbin/runc", "podunit-web.app", req({ tty: true, user: "1000:1000", workdir: "/srv", env: ["TERM=xterm", "A=1"] }))).toEqual([
      "/usr/sbin/runc", "exec", "--tty", "--user", "1000:1000", "--cwd", "/srv", "--env", "TERM=xterm", "--env", "A=1", "podunit-web.app", "sh", "-c", "echo hi",
    ]);
  });

  test("crun: the container's user, directory and no-new-privileges said again; with overrides, its environment first (crun replaces it with --env), less what they set", () => {
    const own = { uid: 1000, gid: 50, cwd: "/home/app", env: ["PATH=/usr/bin:/bin", "A=0", "HOME=/root"], noNewPrivileges: true };
    expect(runtimeExecArgv("/usr/bin/crun", "podunit-web.app", req({ env: ["A=1"] }), own)).toEqual([
      "/usr/bin/crun", "exec", "--user", "1000:50", "--cwd", "/home/app", "--no-new-privs",
      "--env", "PATH=/usr/bin:/bin", "--env", "HOME=/root", "--env", "A=1", "podunit-web.app", "sh", "-c", "echo hi",
    ]);
    // Overrides win; no environment to replace without --env; no-new-privileges only when the container has it.
    expect(runtimeExecArgv("/usr/bin/crun", "podunit-web.app", req({ user: "0:0", workdir: "/" }), { ...own, noNewPrivileges: false })).toEqual([
      "/usr/bin/crun", "exec", "--user", "0:0", "--cwd", "/", "podunit-web.app", "sh", "-c", "echo hi",
    ]);
  });
});

describe("nsenter", () => {
  const paths = { nsenter: "/usr/bin/nsenter", setpriv: "/usr/bin/setpriv" };
  const root = { uid: 0, gid: 0, groups: [], noNewPrivs: false };
  const ENTER = ["/usr/bin/nsenter", "--target=42", "--mount", "--uts", "--ipc", "--net", "--pid", "--root"];

  test("a root member: all its namespaces, its root and working directory, the command", () => {
    expect(nsenterArgv(paths, 42, root, req())).toEqual([...ENTER, "--wd", "--", "sh", "-c", "echo hi"]);
    expect(nsenterArgv(paths, 42, root, req({ workdir: "/srv" }))).toEqual([...ENTER, "--wd=/srv", "--", "sh", "-c", "echo hi"]);
  });

  test("the member's user, groups and no-new-privileges are kept", () => {
    expect(nsenterArgv(paths, 42, { uid: 1000, gid: 100, groups: [100, 27], noNewPrivs: true }, req())).toEqual([
      ...ENTER, "--wd", "--", "/usr/bin/setpriv", "--reuid=1000", "--regid=100", "--groups=100,27", "--no-new-privs", "--", "sh", "-c", "echo hi",
    ]);
    expect(nsenterArgv(paths, 42, { ...root, noNewPrivs: true }, req())).toEqual([
      ...ENTER, "--wd", "--", "/usr/bin/setpriv", "--reuid=0", "--regid=0", "--clear-groups", "--no-new-privs", "--", "sh", "-c", "echo hi",
    ]);
  });

  test("--user replaces the member's user and groups", () => {
    expect(nsenterArgv(paths, 42, { uid: 1000, gid: 100, groups: [27], noNewPrivs: false }, req({ user: "0:0" }))).toEqual([
      ...ENTER, "--wd", "--", "/usr/bin/setpriv", "--reuid=0", "--regid=0", "--clear-groups", "--", "sh", "-c", "echo hi",
    ]);
  });

  test("/proc/PID/status: real ids, groups, no_new_privs", () => {
    const status = "Name:\tsleep\nUid:\t1000\t1001\t1002\t1003\nGid:\t100\t100\t100\t100\nFDSize:\t64\nGroups:\t100 27 \nNoNewPrivs:\t1\n";
    expect(parseProcStatus(status)).toEqual({ uid: 1000, gid: 100, groups: [100, 27], noNewPrivs: true });
    const rootStatus = "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\nNStgid:\t5\nNoNewPrivs:\t0\n";
    expect(parseProcStatus(rootStatus)).toEqual({ uid: 0, gid: 0, groups: [], noNewPrivs: false });
  });

  test("the member's environment without systemd's per-run variables, overrides last", () => {
    const env = parseEnviron(new TextEncoder().encode("PATH=/usr/bin:/bin\0LANG=C.UTF-8\0INVOCATION_ID=abc\0JOURNAL_STREAM=8:9\0EQ=a=b\0A=old\0"));
    expect(env.get("EQ")).toBe("a=b");
    expect(enterEnv(env, ["A=new", "TERM=xterm"])).toEqual({ PATH: "/usr/bin:/bin", LANG: "C.UTF-8", EQ: "a=b", A: "new", TERM: "xterm" });
    expect(parseEnviron(new Uint8Array())).toEqual(new Map());
  });
});
