/**
 * Members under podunit's hardening, on a real systemd, crun and runc: the default
 * seccomp filter on host and rootfs members (under each runtime) (Seccomp: 2, the refused calls
 * answer EPERM, what the filter leaves open is refused by capabilities,
 * ordinary programs work), and none where the spec says unconfined.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { REPO } from "../lab/lab.ts";
import { BUSYBOX_ROOTFS, eventually, labHelpers, leftovers, makeRootfs, useLab, writeSpec } from "./harness.ts";

const t = useLab("hardening");
const { podunit, mainPid, journal } = labHelpers(t);
const PROBE = "/srv/lab/sysprobe";

beforeAll(async () => {
  await makeRootfs(t.lab);
  // A static program that tries the refused system calls (test/system/probe/sysprobe.c), on the host and in the busybox root.
  await t.lab.sh(["gcc", "-static", "-O1", "-o", PROBE, join(REPO, "test/system/probe/sysprobe.c")]);
  await t.lab.sh(["cp", PROBE, `${BUSYBOX_ROOTFS}/bin/sysprobe`]);
}, 120_000);

/** The probe's lines (NAME=RESULT) in a member's journal, once it has finished. */
async function probeOf(unit: string): Promise<Record<string, string>> {
  const text = await eventually(`${unit}'s probe`, async () => {
    const j = await journal(unit);
    return j.includes("probe=done") ? j : undefined;
  }, 20_000);
  return Object.fromEntries(text.split("\n").filter((l) => /^[a-z0-9_]+=/.test(l)).map((l) => l.split("=") as [string, string]));
}

async function seccompOf(pid: number): Promise<string> {
  const status = await t.lab.sh(["cat", `/proc/${pid}/status`]);
  return /^Seccomp:\s*(\d)/m.exec(status)?.[1] ?? "none";
}

/** What the filter refuses, each with EPERM (clone3 with ENOSYS, so C libraries fall back to clone). */
const REFUSED = ["unshare_user", "clone_user", "keyctl", "add_key", "mount", "umount", "finit_module", "init_module", "bpf", "ptrace_traceme", "userfaultfd", "clock_settime", "iopl", "swapon"];
/** What the filter leaves open and the capabilities refuse: entering or making other namespaces. */
const BY_CAPABILITIES = ["setns_init_mnt", "setns_self_net", "unshare_net", "unshare_mnt"];

describe("the default seccomp filter", () => {
  const pod = "hard";
  const hostProbe = `["/bin/sh", "-c", "${PROBE} /bin/true; exec /bin/sleep 600"]`;
  const boxProbe = `["/bin/sh", "-c", "/bin/sysprobe /bin/true; exec /bin/sleep 600"]`;

  test("host and rootfs members: Seccomp 2; the refused calls fail with EPERM, namespaces stay closed; a shell, fork+exec and busybox httpd work; unconfined members are not filtered", async () => {
    writeSpec(t.lab, pod, `
[containers.host]
command = ${hostProbe}

[containers.user]
command = ${hostProbe}
user = "1000:1000"

[containers.box]
rootfs = "${BUSYBOX_ROOTFS}"
command = ${boxProbe}

[containers.rbox]
rootfs = "${BUSYBOX_ROOTFS}"
command = ${boxProbe}
runtime = "runc"

[containers.ropen]
rootfs = "${BUSYBOX_ROOTFS}"
command = ${boxProbe}
seccomp = "unconfined"
runtime = "runc"

[containers.loose]
command = ${hostProbe}
seccomp = "unconfined"

[containers.open]
rootfs = "${BUSYBOX_ROOTFS}"
command = ${boxProbe}
seccomp = "unconfined"

[containers.web]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/httpd", "-f", "-p", "8080", "-h", "/etc"]

[containers.hweb]
command = ["/bin/busybox", "httpd", "-f", "-p", "8081", "-h", "/etc"]
`);
    const r = await podunit("start", pod);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const unit = (m: string) => `podunit-${pod}-${m}.service`;

    // box, open and web run under crun (the default), rbox and ropen under runc.
    for (const m of ["host", "user", "box", "rbox", "web", "hweb"]) expect({ m, seccomp: await seccompOf(await mainPid(unit(m))) }).toEqual({ m, seccomp: "2" });
    for (const m of ["loose", "open", "ropen"]) expect({ m, seccomp: await seccompOf(await mainPid(unit(m))) }).toEqual({ m, seccomp: "0" });

    for (const m of ["host", "user", "box", "rbox"]) {
      const p = await probeOf(unit(m));
      const want: Record<string, string> = { clone3: "ENOSYS", fork_exec: "ok", probe: "done" };
      for (const k of [...REFUSED, ...BY_CAPABILITIES]) want[k] = "EPERM";
      // On the host's file system a member cannot even open the namespaces of PID 1 (it lacks CAP_SYS_PTRACE over it).
      if (m !== "box" && m !== "rbox") want.setns_init_mnt = "EACCES";
      expect({ m, ...p }).toEqual({ m, ...want });
    }
    // Without the filter the same calls go through (what capabilities do not stop).
    for (const m of ["loose", "open", "ropen"]) {
      const p = await probeOf(unit(m));
      expect({ m, unshare_user: p.unshare_user, keyctl: p.keyctl, add_key: p.add_key, ptrace: p.ptrace_traceme }).toEqual({ m, unshare_user: "ok", keyctl: "ok", add_key: "ok", ptrace: "ok" });
    }

    // busybox httpd serves under the filter, on both kinds of member.
    for (const port of [8080, 8081]) {
      const page = await eventually(`httpd on ${port}`, async () => {
        const w = await t.lab.run(["nsenter", `--net=/run/podunit/${pod}/ns/net`, "busybox", "wget", "-qO-", `http://127.0.0.1:${port}/passwd`]);
        return w.status === 0 ? w.stdout : undefined;
      });
      expect(page).toContain("root:x:0:0");
    }

    const s = await podunit("stop", pod);
    expect(s.status).toBe(0);
    expect(await leftovers(t.lab, pod)).toEqual([]);
    console.log(`hardening: Seccomp 2 in 6 filtered members (host root, host uid 1000, rootfs under crun and under runc, rootfs httpd, host httpd), 0 in 3 unconfined; ${REFUSED.length} refused calls EPERM, clone3 ENOSYS, ${BY_CAPABILITIES.length} namespace calls refused by capabilities; fork+exec and httpd work`);
  }, 120_000);
});

describe("what the filter costs a start", () => {
  test("podunit start of a host and a rootfs member, filtered and unconfined, alternating (figures printed, not asserted)", async () => {
    const spec = (seccomp: string) => `
[containers.host]
command = ["/bin/sleep", "600"]
seccomp = "${seccomp}"

[containers.box]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sleep", "600"]
seccomp = "${seccomp}"
`;
    const times: Record<string, number[]> = { default: [], unconfined: [] };
    for (let i = 0; i < 8; i++) {
      for (const mode of ["default", "unconfined"]) {
        writeSpec(t.lab, "cost", spec(mode));
        const t0 = performance.now();
        const r = await podunit("start", "cost");
        const ms = performance.now() - t0;
        expect(r.status).toBe(0);
        if (i > 0) times[mode]!.push(ms);
        expect((await podunit("stop", "cost")).status).toBe(0);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`hardening: podunit start (host + rootfs member), median of 7 after a warm-up: default filter ${median(times.default!).toFixed(1)} ms, unconfined ${median(times.unconfined!).toFixed(1)} ms; min ${Math.min(...times.default!).toFixed(1)} / ${Math.min(...times.unconfined!).toFixed(1)} ms`);
    expect(await leftovers(t.lab, "cost")).toEqual([]);
  }, 180_000);
});

describe("capabilities by name", () => {
  const pod = "caps";
  // This kernel has no dummy link type (CONFIG_DUMMY is off here); a veth pair inside the pod's network namespace needs CAP_NET_ADMIN the same way.
  const tryLink = (n: string) => `["/bin/sh", "-c", "if ip link add ${n}a type dummy 2>/dev/null || ip link add ${n}a type veth peer name ${n}b; then echo link=ok; else echo link=refused; fi; grep CapBnd /proc/self/status; exec sleep 600"]`;

  test("NET_ADMIN added: a link can be made in the pod's network namespace; without it not; drop ALL: an empty bounding set, for host and rootfs members", async () => {
    writeSpec(t.lab, pod, `
[containers.net]
command = ${tryLink("pn")}
capabilities = { add = ["NET_ADMIN"] }

[containers.plain]
command = ${tryLink("pp")}

[containers.none]
command = ${tryLink("px")}
capabilities = { drop = ["ALL"] }

[containers.box]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sleep", "600"]
capabilities = { drop = ["ALL"] }

[containers.boxnet]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sleep", "600"]
capabilities = { drop = ["all"], add = ["cap_net_admin"] }
`);
    const r = await podunit("start", pod);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const unit = (m: string) => `podunit-${pod}-${m}.service`;
    const out = async (m: string) => eventually(`${m}'s output`, async () => {
      const j = await journal(unit(m));
      return j.includes("CapBnd") ? j : undefined;
    });
    const net = await out("net");
    expect(net).toContain("link=ok");
    expect(net).toMatch(/CapBnd:\s+0000000020001420/); // audit_write, net_admin, net_bind_service, kill
    expect(await out("plain")).toContain("link=refused");
    expect(await out("plain")).toMatch(/CapBnd:\s+0000000020000420/);
    const none = await out("none");
    expect(none).toContain("link=refused");
    expect(none).toMatch(/CapBnd:\s+0000000000000000/);
    // The link is in the pod's network namespace, not the lab's.
    expect(await t.lab.sh(["nsenter", `--net=/run/podunit/${pod}/ns/net`, "ip", "-o", "link", "show"])).toContain("pna");
    expect((await t.lab.run(["ip", "link", "show", "pna"])).status).not.toBe(0);
    const capBnd = async (m: string) => /^CapBnd:\s*(\S+)/m.exec(await t.lab.sh(["cat", `/proc/${await mainPid(unit(m))}/status`]))?.[1];
    expect(await capBnd("box")).toBe("0000000000000000");
    expect(await capBnd("boxnet")).toBe("0000000000001000");
    expect((await podunit("stop", pod)).status).toBe(0);
    expect(await leftovers(t.lab, pod)).toEqual([]);
    console.log("hardening: NET_ADMIN added makes a link in the pod's netns (not the lab's), a member without it cannot; drop ALL leaves CapBnd 0 on host and rootfs members");
  }, 120_000);

  test("podunit check warns about SYS_ADMIN added, and still passes the spec", async () => {
    writeSpec(t.lab, "admin", `[containers.a]\ncommand = ["/bin/true"]\ncapabilities = { add = ["SYS_ADMIN"] }\n`);
    const r = await podunit("check", "admin");
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("podunit: warning: /srv/lab/pods/admin.toml:3:25: containers.a.capabilities.add[0]: adds CAP_SYS_ADMIN");
  });
});

describe("podunit exec inside the member's cgroup", () => {
  const pod = "execcg";

  test("a command exec'd into a host or rootfs member is in the member's cgroup, is killed by its memory_max, and stops with it", async () => {
    writeSpec(t.lab, pod, `
[containers.host]
command = ["/bin/sleep", "600"]
memory_max = "48M"

[containers.box]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sleep", "600"]
memory_max = "48M"
`);
    const r = await podunit("start", pod);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    for (const m of ["host", "box"]) {
      const unit = `podunit-${pod}-${m}.service`;
      const cg = await podunit("exec", pod, m, "--", "/bin/cat", "/proc/self/cgroup");
      expect(cg.status).toBe(0);
      // Every hierarchy the member's main process is in below the pod: memory and systemd's own included.
      const lines = cg.stdout.split("\n").filter(Boolean);
      const memory = lines.find((l) => /^\d+:memory:/.test(l) || /^0::/.test(l));
      expect({ m, memory }).toEqual({ m, memory: expect.stringContaining(`/podunit-${pod}.slice/${unit}`) });
      const tracking = lines.find((l) => l.includes("name=systemd") || /^0::/.test(l));
      expect({ m, tracking }).toEqual({ m, tracking: expect.stringContaining(unit) });
      // 64M in one buffer, past the member's 48M: the kernel's OOM killer ends it (128 + 9).
      const big = await podunit("exec", pod, m, "--", "/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1");
      expect({ m, status: big.status }).toEqual({ m, status: 137 });
      const small = await podunit("exec", pod, m, "--", "/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=8M", "count=1");
      expect({ m, status: small.status }).toEqual({ m, status: 0 });
    }
    // A command still running when the pod stops is stopped with its member.
    const running = t.podunit(["exec", pod, "host", "--", "/bin/sleep", "987"], { env: { PODUNIT_SPEC_DIR: "/srv/lab/pods" } });
    const pid = await eventually("the exec'd sleep", async () => (await t.lab.run(["pgrep", "-f", "^/bin/sleep 987$"])).stdout.trim() || undefined);
    expect(await t.lab.sh(["cat", `/proc/${pid}/cgroup`])).toContain(`podunit-${pod}-host.service`);
    expect((await podunit("stop", pod)).status).toBe(0);
    const ended = await running;
    expect(ended.status).toBe(128 + 15);
    expect((await t.lab.run(["kill", "-0", pid])).status).not.toBe(0);
    expect(await leftovers(t.lab, pod)).toEqual([]);
    console.log("hardening: exec'd commands run in the member's cgroup (host and rootfs), 64M past a 48M memory_max is OOM-killed (137), 8M runs; a running exec'd command is stopped with the pod");
  }, 120_000);
});
