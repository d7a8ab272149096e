/**
 * Pods on a real systemd: shared namespaces in both sandbox backends, the cgroup
 * tree, limits, restarts, failed starts, stop, and nothing left behind.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { BUSYBOX_ROOTFS, leftovers, makeRootfs, RUNTIMES, useLab, writeSpec, labHelpers } from "./harness.ts";

const t = useLab("pods");
const { podunit, show, mainPid, journal } = labHelpers(t);
beforeAll(async () => {
  await makeRootfs(t.lab);
}, 60_000);


async function nsInode(pid: number, ns: string): Promise<string> {
  return (await t.lab.sh(["readlink", `/proc/${pid}/ns/${ns}`])).trim();
}
/** Journal lines of a unit (after flushing journald). */
/** Re-reads a unit's journal until it contains `text` (journald writes asynchronously). */
async function journalContains(unit: string, text: string, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const j = await journal(unit);
    if (j.includes(text) || Date.now() > end) return j;
    await Bun.sleep(100);
  }
}
async function startOk(pod: string, ...extra: string[]): Promise<void> {
  const r = await podunit("start", pod, ...extra);
  if (r.status !== 0) throw new Error(`podunit start ${pod} exited ${r.status}: ${r.stderr}`);
}
async function stopClean(pod: string): Promise<void> {
  const r = await podunit("stop", pod);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  expect(await leftovers(t.lab, pod)).toEqual([]);
}

/** A server on the host's file system and a client in a busybox rootfs (through crun or runc: `runtime`, else the default). */
function serverClient(share: string[], runtime?: string): string {
  return `${runtime ? `runtime = "${runtime}"` : ""}
hostname = "shared-host"
share = ${JSON.stringify(share)}

[containers.server]
command = ["/bin/busybox", "nc", "-ll", "-p", "8080", "-e", "/bin/echo", "hello from server"]

[containers.client]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sh", "-c", "while true; do nc 127.0.0.1 8080 </dev/null; sleep 0.2; done"]
after = ["server"]
`;
}

// A runtime sandbox runs its members under the same runtime (the pod's runtime); the native one under the default, crun.
for (const backend of [...RUNTIMES, "native"] as const) {
  const runtime = backend === "native" ? undefined : backend;
  describe(`${backend} sandbox: a host member and a rootfs member`, () => {
    const pod = `sc${backend}`;
    const sandbox = `podunit-${pod}-sandbox.service`;
    const server = `podunit-${pod}-server.service`;
    const client = `podunit-${pod}-client.service`;

    test("start returns with every member active and no podunit process left", async () => {
      writeSpec(t.lab, pod, serverClient(["net", "ipc", "uts"], runtime));
      const r = await podunit("start", pod, ...(runtime ? [] : ["--backend", backend]));
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      for (const u of [sandbox, server, client]) expect(await show(u, "ActiveState")).toBe("active");
      // The client's container, and a runtime sandbox, run under the runtime asked for (crun by default).
      expect(await show(client, "ExecStart")).toMatch(new RegExp(`path=/usr/s?bin/${runtime ?? "crun"} ;`));
      if (runtime) expect(await show(sandbox, "ExecStart")).toMatch(new RegExp(`path=/usr/s?bin/${runtime} ;`));
      const resident = await t.lab.run(["pgrep", "-f", "dist/podunit"]);
      expect(resident.stdout).toBe("");
      const s = JSON.parse((await podunit("status", pod, "--json")).stdout);
      expect(s.state).toBe("running");
      expect(s.members.map((m: { name: string }) => m.name)).toEqual(["server", "client"]);
    });

    test("the client reaches the server over localhost; the host cannot", async () => {
      expect(await journalContains(client, "hello from server")).toContain("hello from server");
      const fromHost = await t.lab.run(["busybox", "nc", "-w", "1", "127.0.0.1", "8080"]);
      expect(fromHost.stdout).not.toContain("hello from server");
    });

    test("same net, ipc and uts namespaces and hostname; separate mount namespaces", async () => {
      const pids = [await mainPid(sandbox), await mainPid(server), await mainPid(client)];
      for (const ns of ["net", "ipc", "uts"]) {
        const inodes = await Promise.all(pids.map((p) => nsInode(p, ns)));
        expect(new Set(inodes).size).toBe(1);
        expect(inodes[0]).not.toBe(await nsInode(1, ns));
      }
      for (const p of pids.slice(1)) expect((await t.lab.sh(["nsenter", "-t", String(p), "-u", "hostname"])).trim()).toBe("shared-host");
      expect(await nsInode(pids[1]!, "mnt")).not.toBe(await nsInode(pids[2]!, "mnt"));
      // Without "pid" in share, each member has its own PID namespace view.
      expect(await nsInode(pids[1]!, "pid")).not.toBe(await nsInode(pids[2]!, "pid"));
    });

    test("a System V shared-memory segment made in one member is seen in the other", async () => {
      const [sp, cp] = [await mainPid(server), await mainPid(client)];
      const made = await t.lab.sh(["nsenter", "-t", String(sp), "-i", "ipcmk", "-M", "4096"]);
      const id = /(\d+)/.exec(made)![1]!;
      const seen = await t.lab.sh(["nsenter", "-t", String(cp), "-i", "ipcs", "-m"]);
      expect(seen.split("\n").some((l) => l.split(/\s+/)[1] === id)).toBe(true);
      const host = await t.lab.sh(["ipcs", "-m"]);
      expect(host.split("\n").some((l) => l.split(/\s+/)[1] === id)).toBe(false);
    });

    test("the cgroup tree is podunit.slice/podunit-<pod>.slice/<units>", async () => {
      for (const u of [sandbox, server, client]) {
        expect(await show(u, "ControlGroup")).toBe(`/podunit.slice/podunit-${pod}.slice/${u}`);
      }
      // The container's processes sit below the member's own cgroup, so its limits apply to them.
      const cg = await t.lab.sh(["cat", `/proc/${await mainPid(client)}/cgroup`]);
      expect(cg).toContain(`/podunit.slice/podunit-${pod}.slice/${client}/ctr`);
      const cgls = await t.lab.sh(["systemd-cgls", "--no-pager", "-u", "podunit.slice"]);
      for (const u of [`podunit-${pod}.slice`, sandbox, server, client]) expect(cgls).toContain(u);
    });

    test("start of a running pod changes nothing; stop leaves nothing; stop again says so", async () => {
      const before = await mainPid(server);
      const again = await podunit("start", pod, "--backend", backend);
      expect(again.status).toBe(0);
      expect(again.stdout).toContain("already running");
      expect(await mainPid(server)).toBe(before);
      await stopClean(pod);
      const twice = await podunit("stop", pod);
      expect(twice.status).toBe(0);
      expect(twice.stdout).toContain("was not running");
    });
  });

  describe(`${backend} sandbox: a shared PID namespace`, () => {
    const pod = `pid${backend}`;
    test("members see each other's processes", async () => {
      writeSpec(t.lab, pod, serverClient(["net", "ipc", "uts", "pid"], runtime));
      await startOk(pod, ...(runtime ? [] : ["--backend", backend]));
      // A host member joins the PID namespace through nsenter, which forks: the server is its child.
      const nsenter = await mainPid(`podunit-${pod}-server.service`);
      const server = Number((await t.lab.sh(["cat", `/proc/${nsenter}/task/${nsenter}/children`])).trim());
      const client = await mainPid(`podunit-${pod}-client.service`);
      const sandbox = await mainPid(`podunit-${pod}-sandbox.service`);
      expect(await nsInode(server, "pid")).toBe(await nsInode(client, "pid"));
      expect(await nsInode(server, "pid")).not.toBe(await nsInode(1, "pid"));
      expect(sandbox).toBeGreaterThan(0);
      // Inside the rootfs member, ps (its own /proc) lists the host member's server.
      const ps = await t.lab.sh([runtime ?? "crun", "exec", `podunit-${pod}.client`, "ps", "-o", "args"]);
      expect(ps).toContain("nc -ll -p 8080");
      await stopClean(pod);
    });
  });
}

describe("limits", () => {
  const pod = "limits";
  const ownCounter = 'cg=$(grep ":memory:" /proc/self/cgroup | cut -d: -f3); cat /sys/fs/cgroup/memory$cg/memory.oom_control 2>/dev/null || cat /sys/fs/cgroup$(grep "^0::" /proc/self/cgroup | cut -d: -f3)/memory.events';
  test("member and pod memory limits are enforced; the rest of the pod keeps running", async () => {
    writeSpec(t.lab, pod, `
memory_max = "96M"
tasks_max = 64

[containers.steady]
command = ["/bin/sleep", "600"]

[containers.hog]
command = ["/bin/sh", "-c", 'sleep 0.3; (echo 1000 > /proc/self/oom_score_adj; exec dd if=/dev/zero of=/dev/null bs=256M count=1 2>/dev/null); echo exit=$?; ${ownCounter}; sleep 600']
memory_max = "32M"

[containers.spawner]
command = ["/bin/sh", "-c", "sleep 0.3; for i in 1 2 3 4 5 6 7 8 9 10; do sleep 600 & done; echo forked; sleep 600"]
tasks_max = 5
`);
    await startOk(pod, "--backend", "native");
    const hog = await journalContains(`podunit-${pod}-hog.service`, "oom_kill");
    expect(hog).toContain("exit=137");
    expect(Number(/oom_kill (\d+)/.exec(hog)?.[1])).toBeGreaterThanOrEqual(1);
    const spawner = await journalContains(`podunit-${pod}-spawner.service`, "fork");
    expect(spawner).toMatch(/can't fork|cannot fork|resource temporarily unavailable/i);
    expect(spawner).not.toContain("forked");
    expect(await show(`podunit-${pod}-spawner.service`, "TasksMax")).toBe("5");
    expect(await show(`podunit-${pod}-steady.service`, "ActiveState")).toBe("active");
    expect(await show(`podunit-${pod}.slice`, "MemoryMax")).toBe(String(96 * 1024 * 1024));
    await stopClean(pod);
  });

  test("the pod-wide limit holds for a member without its own", async () => {
    writeSpec(t.lab, pod, `
memory_max = "48M"

[containers.steady]
command = ["/bin/sleep", "600"]

[containers.hog]
command = ["/bin/sh", "-c", "sleep 0.3; (echo 1000 > /proc/self/oom_score_adj; exec dd if=/dev/zero of=/dev/null bs=256M count=1 2>/dev/null); echo exit=$?; sleep 600"]
`);
    await startOk(pod, "--backend", "native");
    expect(await journalContains(`podunit-${pod}-hog.service`, "exit=")).toContain("exit=137");
    expect(await show(`podunit-${pod}-steady.service`, "ActiveState")).toBe("active");
    await stopClean(pod);
  });
});

for (const runtime of RUNTIMES) {
  describe(`${runtime} members: the member's memory limit, a crash, a stop`, () => {
    const pod = `rt${runtime}`;
    const unit = (m: string) => `podunit-${pod}-${m}.service`;
    const memCg = (m: string) => `/sys/fs/cgroup/memory/podunit.slice/podunit-${pod}.slice/${unit(m)}`;
    test("the container's allocation past its unit's MemoryMax is OOM-killed in that unit; a killed container is restarted; stop is prompt and leaves nothing", async () => {
      writeSpec(t.lab, pod, `
runtime = "${runtime}"

[containers.hog]
rootfs = "${BUSYBOX_ROOTFS}"
# One process allocates (dd's 256 MiB buffer): with a pipe, the writer's pipe buffers are charged too, and a
# charge while the first victim's memory is still being freed makes the kernel pick a second one, the shell.
command = ["/bin/sh", "-c", "sleep 0.3; (echo 1000 > /proc/self/oom_score_adj; exec dd if=/dev/zero of=/dev/null bs=256M count=1 2>/dev/null); echo exit=$?; sleep 600"]
memory_max = "32M"

[containers.phoenix]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sleep", "600"]
restart = "always"
restart_sec = "100ms"
`);
      await startOk(pod);
      expect(await show(unit("hog"), "ExecStart")).toMatch(new RegExp(`path=/usr/s?bin/${runtime} ;`));
      const other = runtime === "crun" ? "runc" : "crun";
      expect(await t.lab.sh([runtime, "list", "-q"])).toContain(`podunit-${pod}.phoenix`);
      expect(await t.lab.sh(["bash", "-c", `${other} list -q 2>/dev/null; true`])).not.toContain(`podunit-${pod}.`);
      expect(await journalContains(unit("hog"), "exit=")).toContain("exit=137");
      const hybrid = (await t.lab.sh(["stat", "-fc", "%T", "/sys/fs/cgroup"])).trim() === "tmpfs";
      if (hybrid) {
        // The kill was the member unit's own limit: its memory cgroup counted it (the container's sits below it).
        expect(Number((await t.lab.sh(["cat", `${memCg("hog")}/memory.limit_in_bytes`])).trim())).toBe(32 * 1024 * 1024);
        expect(await t.lab.sh(["cat", `${memCg("hog")}/memory.failcnt`])).not.toBe("0\n");
        expect(await t.lab.sh(["cat", `/proc/${await mainPid(unit("hog"))}/cgroup`])).toContain(`:memory:/podunit.slice/podunit-${pod}.slice/${unit("hog")}/ctr`);
      }
      const first = await mainPid(unit("phoenix"));
      await t.lab.sh(["kill", "-KILL", String(first)]);
      let restarts = "0";
      for (let i = 0; i < 100 && (restarts === "0" || (await show(unit("phoenix"), "ActiveState")) !== "active"); i++) {
        restarts = await show(unit("phoenix"), "NRestarts");
        await Bun.sleep(50);
      }
      expect(Number(restarts)).toBe(1);
      expect(await mainPid(unit("phoenix"))).not.toBe(first);
      const t0 = performance.now();
      await stopClean(pod);
      const stopMs = performance.now() - t0;
      // catatonit as the container's init passes SIGTERM on: far below the 90 s a lost signal would cost.
      expect(stopMs).toBeLessThan(15_000);
      console.log(`pods: ${runtime}: OOM kill in the member's unit (exit 137), restart after the container's init was killed, stop in ${Math.round(stopMs)} ms, nothing left`);
    });
  });
}

describe("crun: systemd is the parent of every container it supervises", () => {
  const pod = "parent";
  // One process, in the pod's PID namespace (no catatonit), that takes its time to exit on SIGTERM:
  // cut short by a SIGKILL, it never prints 'clean'.
  const slow = "trap 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo clean; exit 0' TERM; rm -f /tmp/f; mkfifo /tmp/f; while :; do read -t 1 x <> /tmp/f; done";
  test("start and stop, again and again: never a main process that is not systemd's child; a lone process gets SIGTERM and its time", async () => {
    writeSpec(t.lab, pod, `
runtime = "crun"
share = ["net", "ipc", "uts", "pid"]

[containers.lone]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sh", "-c", ${JSON.stringify(slow)}]
`);
    const since = (await t.lab.sh(["date", "+@%s"])).trim();
    const rounds = 6;
    for (let i = 0; i < rounds; i++) {
      await startOk(pod);
      await stopClean(pod);
    }
    await t.lab.sh(["journalctl", "--sync"]);
    const j = await t.lab.sh(["journalctl", "--since", since, "--no-pager", "-o", "cat", "-u", `podunit-${pod}-sandbox.service`, "-u", `podunit-${pod}-lone.service`]);
    expect(j).not.toContain("which is not our child");
    expect(j).not.toContain("status=9/KILL");
    expect(j.split("\n").filter((l) => l === "clean").length).toBe(rounds);
  });
});

describe("restarts and crashes", () => {
  const pod = "crashy";
  test("restart=always brings a killed member back; restart=no leaves it dead and status says so", async () => {
    writeSpec(t.lab, pod, `
[containers.phoenix]
command = ["/bin/sleep", "600"]
restart = "always"
restart_sec = "100ms"

[containers.mortal]
command = ["/bin/sleep", "600"]
restart = "no"
`);
    await startOk(pod, "--backend", "native");
    const phoenix = `podunit-${pod}-phoenix.service`;
    const mortal = `podunit-${pod}-mortal.service`;
    const first = await mainPid(phoenix);
    await t.lab.sh(["systemctl", "kill", "-s", "KILL", phoenix, mortal]);
    let restarts = "0";
    for (let i = 0; i < 100 && restarts === "0"; i++) {
      restarts = await show(phoenix, "NRestarts");
      if (restarts === "0") await Bun.sleep(50);
    }
    expect(Number(restarts)).toBe(1);
    for (let i = 0; i < 100 && (await show(phoenix, "ActiveState")) !== "active"; i++) await Bun.sleep(50);
    expect(await mainPid(phoenix)).not.toBe(first);
    const s = JSON.parse((await podunit("status", pod, "--json")).stdout);
    expect(s.state).toBe("degraded");
    const byName = Object.fromEntries(s.members.map((m: { name: string }) => [m.name, m]));
    expect(byName.phoenix.state).toBe("active");
    expect(byName.phoenix.restarts).toBe(1);
    expect(byName.mortal.state).toBe("failed");
    expect(byName.mortal.lastExit).toBe("killed by signal 9");
    const text = (await podunit("status", pod)).stdout;
    expect(text).toContain("degraded");
    expect(text).toMatch(/mortal .*failed/);
    await stopClean(pod);
  });

  test("killing the sandbox takes the pod down cleanly and status reports it", async () => {
    writeSpec(t.lab, pod, `
[containers.a]
command = ["/bin/sleep", "600"]
[containers.b]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sleep", "600"]
`);
    await startOk(pod);
    await t.lab.sh(["systemctl", "kill", "-s", "KILL", `podunit-${pod}-sandbox.service`]);
    let state = "";
    for (let i = 0; i < 100; i++) {
      state = JSON.parse((await podunit("status", pod, "--json")).stdout).state;
      if (state === "degraded" || state === "stopped") break;
      await Bun.sleep(50);
    }
    const s = JSON.parse((await podunit("status", pod, "--json")).stdout);
    expect(s.sandbox.state).toBe("failed");
    expect(s.members.every((m: { state: string }) => m.state !== "active")).toBe(true);
    expect(["degraded", "stopped"]).toContain(s.state);
    await stopClean(pod);
  });
});

describe("a start that fails leaves nothing behind", () => {
  test("a member whose program does not exist is refused before anything starts", async () => {
    writeSpec(t.lab, "badcmd", `
[containers.ok]
command = ["/bin/sleep", "600"]
[containers.broken]
command = ["/nonexistent/program"]
[containers.ghost]
rootfs = "/var/lib/podunit-test/does-not-exist"
command = ["/bin/sh"]
[containers.lost]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/no/such/program"]
[containers.found]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["sh", "-c", "exit 0"]
`);
    const r = await podunit("start", "badcmd");
    expect(r.status).toBe(5);
    expect(r.stderr).toContain("member 'broken': program '/nonexistent/program' does not exist or is not executable");
    expect(r.stderr).toContain("member 'ghost': rootfs '/var/lib/podunit-test/does-not-exist' is not a directory");
    expect(r.stderr).toContain(`member 'lost': program '/no/such/program' is not in its rootfs '${BUSYBOX_ROOTFS}'`);
    expect(r.stderr).not.toContain("'found'");
    expect(await leftovers(t.lab, "badcmd")).toEqual([]);
  });

  for (const backend of ["runc", "native"]) {
    test(`a member that fails while the pod starts (${backend}): rolled back, the cause and its log reported`, async () => {
      // systemd cannot spawn the member: its user does not exist.
      writeSpec(t.lab, "halfway", `
[containers.ok]
command = ["/bin/sleep", "600"]
[containers.other]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sleep", "600"]
[containers.broken]
command = ["/bin/sleep", "600"]
user = "nosuchuser"
`);
      const r = await podunit("start", "halfway", "--backend", backend);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("Failed to start pod 'halfway': podunit-halfway-broken.service");
      expect(r.stderr).toContain("Last lines of 'podunit-halfway-broken.service'");
      expect(r.stderr).toMatch(/step USER|217\/USER/);
      expect(r.stderr).toContain("Everything it started was stopped and removed.");
      expect(await leftovers(t.lab, "halfway")).toEqual([]);
    });
  }
});

describe("restart", () => {
  test("restart starts the pod afresh; a broken spec leaves the running pod alone", async () => {
    const spec = `
[containers.a]
command = ["/bin/sleep", "600"]
`;
    writeSpec(t.lab, "again", spec);
    await startOk("again");
    const before = await mainPid("podunit-again-a.service");
    const r = await podunit("restart", "again");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("restarted");
    const after = await mainPid("podunit-again-a.service");
    expect(after).not.toBe(before);
    writeSpec(t.lab, "again", spec + "memroy_max = 1\n");
    const bad = await podunit("restart", "again");
    expect(bad.status).toBe(3);
    expect(bad.stderr).toContain("did you mean 'memory_max'?");
    expect(await mainPid("podunit-again-a.service")).toBe(after);
    await stopClean("again");
  });
});

// Long runs of start and stop: test/system/soak.test.ts. More races: test/system/faults.test.ts.
describe("concurrency", () => {
  test("two starts and a stop of the same pod at once stay consistent", async () => {
    writeSpec(t.lab, "race", `
[containers.a]
command = ["/bin/sleep", "600"]
`);
    const [a, b] = await Promise.all([podunit("start", "race"), podunit("start", "race")]);
    expect([a.status, b.status]).toEqual([0, 0]);
    expect([a.stdout, b.stdout].filter((o) => o.includes("already running")).length).toBe(1);
    const [c, d] = await Promise.all([podunit("stop", "race"), podunit("start", "race")]);
    expect(c.status).toBe(0);
    expect(d.status).toBe(0);
    // Whatever order the lock gave them, the pod is either fully up or fully gone.
    const s = JSON.parse((await podunit("status", "race", "--json")).stdout).state;
    expect(["running", "stopped"]).toContain(s);
    await stopClean("race");
  });
});
