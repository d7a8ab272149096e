/**
 * Logs and exec on a real systemd: member output in journald under the member's
 * unit and the PODUNIT_ fields (also for lines written inside a runc container),
 * `podunit logs` (filter, JSON, follow until SIGINT) and `podunit exec` into a
 * member on the host's file system and one with a busybox rootfs.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BUSYBOX_ROOTFS, POD_ENV, PODUNIT, eventually, leftovers, makeRootfs, useLab, writeSpec } from "./harness.ts";
import { REPO } from "../lab/lab.ts";

const t = useLab("logs");
const POD = "lgx";
const TAG = crypto.randomUUID().slice(0, 8);
const MARKER = `marker-${TAG}`;
/** The host-fs member prints what appears in this file (so a test can make it log a line later). */
const SAY = "/run/logs-test/say";

beforeAll(async () => {
  await makeRootfs(t.lab);
  await t.lab.sh(["mkdir", "-p", "/run/logs-test"]);
  await t.lab.sh(["tee", `${BUSYBOX_ROOTFS}/etc/podunit-marker`], { stdin: `${MARKER}\n` });
  writeSpec(
    t.lab,
    POD,
    `
hostname = "logs-host"

[containers.setup]
kind = "init"
command = ["/bin/echo", "setup-done-${TAG}"]

[containers.api]
command = ["/bin/sh", "-c", "echo api-hello-${TAG}; printf 'bytes \\\\377 end-${TAG}\\\\n'; while :; do if [ -f ${SAY} ]; then cat ${SAY}; rm -f ${SAY}; fi; sleep 0.2; done"]

[containers.box]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sh", "-c", "echo box-hello-${TAG}; echo box-stderr-${TAG} >&2; exec sleep 1000000"]
`,
  );
  const r = await podunit("start", POD);
  if (r.status !== 0) throw new Error(`podunit start ${POD} exited ${r.status}: ${r.stderr}`);
}, 60_000);

const podunit = (...args: string[]) => t.podunit(args, { env: POD_ENV });

/** journalctl inside the lab with the given matches/options, message text only. */
async function journal(...args: string[]): Promise<string> {
  await t.lab.sh(["journalctl", "--sync"]);
  return t.lab.sh(["journalctl", "--no-pager", "-o", "cat", ...args]);
}

/** Re-runs `probe` until its text contains every needle. */
async function until(what: string, probe: () => Promise<string>, ...needles: string[]): Promise<string> {
  return eventually(what, async () => {
    const text = await probe();
    return needles.every((n) => text.includes(n)) ? text : undefined;
  });
}

describe("journald", () => {
  const api = `api-hello-${TAG}`;
  const box = `box-hello-${TAG}`;

  test("journalctl -u <member unit> finds each member's lines, the container's too", async () => {
    expect(await until("api's line under its unit", () => journal("-u", `podunit-${POD}-api.service`), api)).not.toContain(box);
    const b = await until("box's lines under its unit", () => journal("-u", `podunit-${POD}-box.service`), box, `box-stderr-${TAG}`);
    expect(b).not.toContain(api);
  });

  test("journalctl PODUNIT_POD=<pod> finds both members and the init member", async () => {
    await until("the pod's lines", () => journal(`PODUNIT_POD=${POD}`), api, box, `setup-done-${TAG}`);
  });

  test("journalctl PODUNIT_POD=<pod> PODUNIT_MEMBER=<m> finds one member's lines", async () => {
    const b = await until("box's lines by field", () => journal(`PODUNIT_POD=${POD}`, "PODUNIT_MEMBER=box"), box);
    expect(b).not.toContain(api);
    const a = await until("api's lines by field", () => journal(`PODUNIT_POD=${POD}`, "PODUNIT_MEMBER=api"), api);
    expect(a).not.toContain(box);
  });

  test("lines written inside the runc container carry the fields and the member's unit", async () => {
    const json = await until("box's line as JSON", () => journal("-o", "json", `PODUNIT_POD=${POD}`, "PODUNIT_MEMBER=box"), box);
    const entry = json.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.MESSAGE === box);
    expect(entry._SYSTEMD_UNIT).toBe(`podunit-${POD}-box.service`);
    expect(entry.SYSLOG_IDENTIFIER).toBe(`${POD}/box`);
    expect(entry._SYSTEMD_CGROUP).toBe(`/podunit.slice/podunit-${POD}.slice/podunit-${POD}-box.service/ctr`);
  });

  test("the sandbox carries PODUNIT_POD and PODUNIT_MEMBER=sandbox", async () => {
    const v = await t.lab.sh(["systemctl", "show", "--value", "-p", "LogExtraFields", `podunit-${POD}-sandbox.service`]);
    expect(v.trim().split(/\s+/).sort()).toEqual(["PODUNIT_MEMBER=sandbox", `PODUNIT_POD=${POD}`]);
  });
});

describe("podunit logs", () => {
  test("shows every member's lines with member names aligned", async () => {
    const out = await until("podunit logs", async () => (await podunit("logs", POD)).stdout, `api-hello-${TAG}`, `box-hello-${TAG}`);
    const lines = out.split("\n").filter(Boolean);
    const api = lines.find((l) => l.endsWith(`api-hello-${TAG}`))!;
    const box = lines.find((l) => l.endsWith(`box-hello-${TAG}`))!;
    expect(api).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d api +api-hello-/);
    expect(box).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d box +box-hello-/);
    // "sandbox" is the widest name: messages start in one column.
    expect(api.indexOf("api-hello")).toBe(box.indexOf("box-hello"));
    expect(api.indexOf("api-hello")).toBe("2026-11-27 19:00:00 sandbox  ".length);
    // Bytes that are not UTF-8 arrive as U+FFFD; systemd's own lines are marked.
    expect(out).toContain(`bytes \uFFFD end-${TAG}`);
    expect(out).toMatch(new RegExp(`sandbox +systemd: Started podunit-${POD}-sandbox\\.service`));
    expect(out).toContain(`setup-done-${TAG}`);
  });

  test("POD MEMBER shows that member only", async () => {
    const r = await podunit("logs", POD, "box");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`box-hello-${TAG}`);
    expect(r.stdout).toContain(`box-stderr-${TAG}`);
    expect(r.stdout).not.toContain(`api-hello-${TAG}`);
    expect(r.stdout.split("\n").filter(Boolean).every((l) => / box  /.test(l))).toBe(true);
  });

  test("-n limits to the last entries", async () => {
    const r = await podunit("logs", POD, "box", "-n", "1");
    expect(r.stdout.split("\n").filter(Boolean)).toHaveLength(1);
    const none = await podunit("logs", POD, "-n", "0");
    expect(none.stdout).toBe("");
  });

  test("--json: one object per line with the documented keys", async () => {
    const r = await podunit("logs", POD, "--json", "-n", "all");
    expect(r.status).toBe(0);
    const entries = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const box = entries.find((e) => e.message === `box-hello-${TAG}`);
    expect(Object.keys(box).sort()).toEqual(["member", "message", "pid", "pod", "priority", "source", "time", "unit"]);
    expect(box).toMatchObject({ pod: POD, member: "box", priority: 6, unit: `podunit-${POD}-box.service`, source: "member" });
    expect(typeof box.pid).toBe("number");
    expect(Number.isNaN(Date.parse(box.time))).toBe(false);
    expect(box.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(entries.some((e) => e.source === "systemd" && e.member === "api" && e.unit === `podunit-${POD}-api.service`)).toBe(true);
  });

  test("-f prints a line written after it started, and ends cleanly on SIGINT", async () => {
    const proc = Bun.spawn(["bash", join(REPO, "test/lab/enter.sh"), t.lab.dir, PODUNIT, "logs", POD, "api", "-f"], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", ...POD_ENV },
    });
    const killer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
    let seen = "";
    const reader = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stdout) seen += decoder.decode(chunk, { stream: true });
    })();
    // Wait until podunit follows (its journalctl runs with --follow), then make api log a line.
    const followers = () => t.lab.run(["pgrep", "-f", `journalctl.*--follow.*PODUNIT_POD=${POD}`]);
    await eventually("journalctl --follow", async () => (await followers()).stdout.trim());
    const late = `late-line-${crypto.randomUUID()}`;
    await t.lab.sh(["sh", "-c", 'printf "%s\\n" "$1" > "$2.tmp" && mv "$2.tmp" "$2"', "-", late, SAY]);
    await eventually("the late line on podunit's output", async () => seen.includes(late));
    expect(seen).toMatch(new RegExp(`\\d\\d:\\d\\d:\\d\\d api  ${late}\\n`));

    const pid = (await t.lab.sh(["pgrep", "-f", `dist/podunit logs ${POD} api -f`])).trim();
    expect(pid).toMatch(/^\d+$/);
    await t.lab.sh(["kill", "-INT", pid]);
    const status = await proc.exited;
    clearTimeout(killer);
    await reader;
    expect(await new Response(proc.stderr).text()).toBe("");
    expect(status).toBe(0);
    expect((await followers()).stdout).toBe("");
  });

  test("the sandbox is a member name for logs", async () => {
    const r = await podunit("logs", POD, "sandbox");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`systemd: Started podunit-${POD}-sandbox.service`);
  });

  test("an unknown member: exit 5 with the pod's members", async () => {
    const r = await podunit("logs", POD, "nope");
    expect(r.status).toBe(5);
    expect(r.stderr).toContain("Failed to find member 'nope' in pod 'lgx'");
    expect(r.stderr).toContain("'setup', 'api', 'box' and 'sandbox'");
  });

  test("an unknown pod: exit 5", async () => {
    const r = await podunit("logs", "nosuchpod");
    expect(r.status).toBe(5);
    expect(r.stderr).toContain("Failed to find pod 'nosuchpod'");
  });

  test("a --since journalctl cannot read: exit 2", async () => {
    const r = await podunit("logs", POD, "--since", "not-a-time");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("'not-a-time'");
  });
});

describe("podunit exec", () => {
  async function inside(member: string, ...cmd: string[]): Promise<string> {
    const r = await podunit("exec", POD, member, ...cmd);
    if (r.status !== 0) throw new Error(`exec ${member} ${cmd.join(" ")} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  }
  const mainPid = async (m: string) => (await t.lab.sh(["systemctl", "show", "--value", "-p", "MainPID", `podunit-${POD}-${m}.service`])).trim();

  test("status shows the runtime of each container: crun, the default, for the rootfs member", async () => {
    const s = JSON.parse((await podunit("status", POD, "--json")).stdout);
    expect(s.members.map((m: { runtime?: string }) => m.runtime ?? null)).toEqual([null, null, "crun"]);
    expect(s.sandbox.runtime).toBe("crun");
  });

  test("both members answer with the pod's hostname", async () => {
    expect((await inside("api", "hostname")).trim()).toBe("logs-host");
    expect((await inside("box", "hostname")).trim()).toBe("logs-host");
  });

  test("a rootfs member's own file system: busybox's /etc/passwd and the marker file", async () => {
    expect(await inside("box", "cat", "/etc/podunit-marker")).toContain(MARKER);
    expect(await inside("box", "cat", "/etc/passwd")).toBe("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
    // The host-fs member sees the host's files, not the rootfs.
    expect((await podunit("exec", POD, "api", "cat", "/etc/podunit-marker")).status).not.toBe(0);
  });

  test("the member's mount, pid and net namespaces", async () => {
    for (const m of ["api", "box"]) {
      const pid = await mainPid(m);
      for (const ns of ["mnt", "pid", "net"]) {
        const want = (await t.lab.sh(["readlink", `/proc/${pid}/ns/${ns}`])).trim();
        expect((await inside(m, "readlink", `/proc/self/ns/${ns}`)).trim()).toBe(want);
      }
    }
    // The container's processes are the ones a command run in it sees.
    expect(await inside("box", "ps")).toContain("sleep 1000000");
  });

  test("exit codes and signals pass through", async () => {
    for (const m of ["api", "box"]) {
      expect((await podunit("exec", POD, m, "sh", "-c", "exit 7")).status).toBe(7);
      expect((await podunit("exec", POD, m, "--", "sh", "-c", "exit 0")).status).toBe(0);
      expect((await podunit("exec", POD, m, "sh", "-c", "kill -TERM $$")).status).toBe(143);
    }
  });

  test("user, working directory and environment", async () => {
    for (const m of ["api", "box"]) {
      expect(await inside(m, "sh", "-c", 'id -u; id -g; pwd; echo "$GREETING"')).toBe("0\n0\n/\n\n");
      const r = await podunit("exec", "-u", "65534", "-w", "/tmp", "-e", "GREETING=hi there", POD, m, "sh", "-c", 'id -u; id -g; pwd; echo "$GREETING"');
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("65534\n65534\n/tmp\nhi there\n");
    }
  });

  test("standard input only with -i (or a terminal)", async () => {
    for (const m of ["api", "box"]) {
      expect((await t.podunit(["exec", "-i", POD, m, "cat"], { env: POD_ENV, stdin: "piped in\n" })).stdout).toBe("piped in\n");
      expect((await t.podunit(["exec", POD, m, "cat"], { env: POD_ENV, stdin: "piped in\n" })).stdout).toBe("");
    }
  });

  test("on a terminal the rootfs member gets one of its own", async () => {
    const r = await t.lab.run(["script", "-qec", `${PODUNIT} exec ${POD} box tty`, "/dev/null"], { env: POD_ENV });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("/dev/pts/");
    const noTty = await t.lab.run(["script", "-qec", `${PODUNIT} exec -T ${POD} box tty`, "/dev/null"], { env: POD_ENV });
    expect(noTty.stdout).toContain("not a tty");
    const piped = await podunit("exec", "-t", POD, "box", "tty");
    expect(piped.status).toBe(2);
    expect(piped.stderr).toContain("needs a terminal");
  });

  test("unknown member, unknown pod, a member without a running process: exit 5", async () => {
    const nope = await podunit("exec", POD, "nope", "true");
    expect(nope.status).toBe(5);
    expect(nope.stderr).toContain("Failed to find member 'nope' in pod 'lgx'");
    expect(nope.stderr).toContain("'setup', 'api' and 'box'");
    const pod = await podunit("exec", "nosuchpod", "x", "true");
    expect(pod.status).toBe(5);
    expect(pod.stderr).toContain("Failed to find pod 'nosuchpod'");
    const init = await podunit("exec", POD, "setup", "true");
    expect(init.status).toBe(5);
    expect(init.stderr).toContain("member 'setup' of pod 'lgx': it has no running process");
  });
});

describe("podunit exec in a pod that shares its PID namespace", () => {
  const SHARED = "lgp";
  const run = (...args: string[]) => t.podunit(args, { env: POD_ENV });

  test("start", async () => {
    writeSpec(t.lab, SHARED, `
share = ["net", "ipc", "uts", "pid"]
[containers.h]
command = ["/bin/sleep", "infinity"]
[containers.b]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sleep", "1000000"]
`);
    const r = await run("start", SHARED);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("a host-fs member's command (below nsenter) is entered: the pod's PID namespace", async () => {
    const sandbox = (await t.lab.sh(["systemctl", "show", "--value", "-p", "MainPID", `podunit-${SHARED}-sandbox.service`])).trim();
    const podPidNs = (await t.lab.sh(["readlink", `/proc/${sandbox}/ns/pid`])).trim();
    expect(podPidNs).not.toBe((await t.lab.sh(["readlink", "/proc/self/ns/pid"])).trim());
    for (const m of ["h", "b"]) {
      const r = await run("exec", SHARED, m, "readlink", "/proc/self/ns/pid");
      expect(r.stderr).toBe("");
      expect(r.stdout.trim()).toBe(podPidNs);
    }
    // The rootfs member's ps sees the other member's process.
    expect((await run("exec", SHARED, "b", "ps")).stdout).toContain("sleep infinity");
  });

  test("SIGTERM to podunit exec reaches the command; its status comes back", async () => {
    for (const m of ["h", "b"]) {
      const arg = String(1_000_000 + Math.floor(Math.random() * 1_000_000));
      const proc = Bun.spawn(["bash", join(REPO, "test/lab/enter.sh"), t.lab.dir, PODUNIT, "exec", SHARED, m, "sleep", arg], {
        stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...POD_ENV },
      });
      const killer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
      const sleeping = () => t.lab.run(["pgrep", "-fx", `sleep ${arg}`]);
      await eventually("the command", async () => (await sleeping()).stdout.trim());
      const pid = (await t.lab.sh(["pgrep", "-f", `dist/podunit exec ${SHARED} ${m} sleep ${arg}`])).trim();
      await t.lab.sh(["kill", "-TERM", pid]);
      const status = await proc.exited;
      clearTimeout(killer);
      expect(status).toBe(143);
      expect((await sleeping()).stdout).toBe("");
    }
  });

  test("stop", async () => {
    expect((await run("stop", SHARED)).status).toBe(0);
    expect(await leftovers(t.lab, SHARED)).toEqual([]);
  });
});

describe("after stop", () => {
  test("exec refuses, logs still shows the lines, nothing is left", async () => {
    const stop = await podunit("stop", POD);
    expect(stop.status).toBe(0);
    const ex = await podunit("exec", POD, "box", "true");
    expect(ex.status).toBe(5);
    expect(ex.stderr).toContain("the pod is not running");
    const logs = await podunit("logs", POD, "box", "-n", "all");
    expect(logs.stdout).toContain(`box-hello-${TAG}`);
    expect(await leftovers(t.lab, POD)).toEqual([]);
  });
});

// The pod above runs its rootfs member under the default runtime, crun; the same under runc.
describe("a runc member: its lines and podunit exec", () => {
  const pod = "lgrunc";
  const line = `runc-box-hello-${TAG}`;
  test("journald attributes the container's lines to the member's unit; exec enters it with runc; status shows each unit's runtime", async () => {
    writeSpec(t.lab, pod, `
hostname = "runc-host"
runtime = "runc"

[containers.box]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sh", "-c", "echo ${line}; exec sleep 1000000"]
`);
    const r = await podunit("start", pod);
    expect(r.stderr).toBe("");
    const json = await until("the runc box's line as JSON", () => journal("-o", "json", `PODUNIT_POD=${pod}`, "PODUNIT_MEMBER=box"), line);
    const entry = json.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.MESSAGE === line);
    expect(entry._SYSTEMD_UNIT).toBe(`podunit-${pod}-box.service`);
    expect(entry._SYSTEMD_CGROUP).toBe(`/podunit.slice/podunit-${pod}.slice/podunit-${pod}-box.service/ctr`);
    expect((await t.lab.sh(["runc", "list", "-q"])).split("\n")).toContain(`podunit-${pod}.box`);
    const host = await podunit("exec", pod, "box", "hostname");
    expect(host.stdout.trim()).toBe("runc-host");
    expect((await podunit("exec", pod, "box", "cat", "/etc/podunit-marker")).stdout).toContain(MARKER);
    expect((await podunit("exec", pod, "box", "sh", "-c", "exit 7")).status).toBe(7);
    const s = JSON.parse((await podunit("status", pod, "--json")).stdout);
    expect([s.sandbox.runtime, s.members[0].runtime]).toEqual(["runc", "runc"]);
    expect((await podunit("status", pod)).stdout).toMatch(/box +podunit-lgrunc-box\.service +runc /);
    expect((await podunit("stop", pod)).status).toBe(0);
    expect(await leftovers(t.lab, pod)).toEqual([]);
  });
});
