/**
 * Faults on a real systemd: the sandbox killed, a member killed again and again,
 * systemd re-executed and reloaded, the connection to systemd lost in the middle
 * of a start (the bus connection dropped, or podunit itself killed), the run
 * directory removed behind podunit's back, and starts and stops racing. After
 * each: a clear account from `status`, and nothing of the pod left anywhere.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { REPO } from "../lab/lab.ts";
import { BUSYBOX_ROOTFS, POD_ENV, eventually, leftovers, makeRootfs, podNamespaces, useLab, writeSpec, labHelpers } from "./harness.ts";

const t = useLab("faults");
const { podunit, show, mainPid, journal } = labHelpers(t);
beforeAll(async () => {
  await makeRootfs(t.lab);
}, 60_000);


async function status(pod: string): Promise<any> {
  const r = await podunit("status", pod, "--json");
  if (r.status !== 0) throw new Error(`podunit status ${pod} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
async function startOk(pod: string, ...extra: string[]): Promise<string> {
  const r = await podunit("start", pod, ...extra);
  if (r.status !== 0) throw new Error(`podunit start ${pod} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}
/** Stops the pod and checks that nothing of it is left: units, cgroups, pins, mounts, runc containers, processes. */
async function stopClean(pod: string, namespaces: string[]): Promise<void> {
  const r = await podunit("stop", pod);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  expect(await leftovers(t.lab, pod, namespaces)).toEqual([]);
}
/** What of a pod still runs or is still mounted (units and cgroups may stay loaded until stop). */
async function running(pod: string, namespaces: string[]): Promise<string[]> {
  return (await leftovers(t.lab, pod, namespaces)).filter((l) => !l.startsWith("unit ") && !l.startsWith("cgroup "));
}

/** A host member and a rootfs member. */
function twoMembers(extra = ""): string {
  return `
[containers.a]
command = ["/bin/sleep", "600"]
${extra}
[containers.b]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sleep", "600"]
`;
}

describe("the sandbox killed with SIGKILL", () => {
  // A runtime sandbox's rootfs member runs under the same runtime.
  for (const backend of ["crun", "runc", "native"] as const) {
    test(`${backend}: members go down with it, nothing keeps running, status says so; start brings the pod back`, async () => {
      const pod = `sbkill${backend}`;
      const sandbox = `podunit-${pod}-sandbox.service`;
      writeSpec(t.lab, pod, (backend === "native" ? "" : `runtime = "${backend}"\n`) + twoMembers());
      await startOk(pod, "--backend", backend);
      const ns = await podNamespaces(t.lab, pod);
      await t.lab.sh(["kill", "-KILL", String(await mainPid(sandbox))]);

      const s = await eventually("the pod to come down", async () => {
        const s = await status(pod);
        const settled = s.members.every((m: { state: string }) => ["failed", "inactive", "not-loaded"].includes(m.state));
        return s.sandbox.state === "failed" && settled ? s : undefined;
      });
      expect(s.state).toBe("degraded");
      expect(s.sandbox.lastExit).toBe("killed by signal 9");
      expect((await podunit("status", pod)).stdout).toMatch(/sandbox .*failed \(failed\): signal, killed by signal 9/);
      // Before any podunit command: no process, pin, mount, run directory or container of the pod is left.
      expect(await eventually("the sandbox's cleanup", async () => ((await running(pod, ns)).length === 0 ? [] : undefined))).toEqual([]);

      const again = await startOk(pod, "--backend", backend);
      expect(again).toContain("was partly running");
      expect((await status(pod)).state).toBe("running");
      await stopClean(pod, [...ns, ...(await podNamespaces(t.lab, pod).catch(() => []))]);
      console.log(`faults: sandbox SIGKILL (${backend}): status '${s.state}', sandbox '${s.sandbox.lastExit}'; nothing ran on; start repaired; stop left nothing`);
    });
  }
});

describe("the sandbox restarted by hand (systemctl restart)", () => {
  test("native: members restart with it and fail (the new sandbox gets no pins, no run files), status says so; start starts the pod afresh", async () => {
    const pod = "sbrestart";
    const sandbox = `podunit-${pod}-sandbox.service`;
    writeSpec(t.lab, pod, twoMembers());
    await startOk(pod, "--backend", "native");
    const ns = await podNamespaces(t.lab, pod);
    const before = await mainPid(sandbox);
    await t.lab.sh(["systemctl", "restart", sandbox]);

    // systemd restarts the members with it; they find no pins (nor bundles: the run directory went
    // with the old sandbox), and its start limit ends their retries.
    const s = await eventually("the members to fail and the sandbox to be up again", async () => {
      const s = await status(pod);
      const failed = s.members.every((m: { state: string }) => m.state === "failed");
      return s.sandbox.state === "active" && failed ? s : undefined;
    });
    for (const m of s.members) expect(await journal(m.unit)).toContain(`/run/podunit/${pod}/`);
    expect(await mainPid(sandbox)).not.toBe(before);
    // A transient sandbox restarted by systemd alone gets no ready step: no pins, so nothing can join it.
    expect((await t.lab.run(["test", "-e", `/run/podunit/${pod}/ns/net`])).status).not.toBe(0);
    expect(s.state).toBe("degraded");
    expect(s.problems.join("\n")).toContain("the pins of its namespaces are gone");

    const again = await startOk(pod, "--backend", "native");
    expect(again).toContain("was partly running");
    expect((await status(pod)).state).toBe("running");
    await stopClean(pod, [...ns, ...(await podNamespaces(t.lab, pod).catch(() => []))]);
    console.log(`faults: sandbox restarted by hand: members failed without pins, status '${s.state}'; start started the pod afresh; stop left nothing`);
  });
});

describe("a member killed again and again", () => {
  test("restart=always restarts it until systemd's start limit stops it; on-failure restarts after SIGKILL, not after SIGTERM; status shows each; start repairs", async () => {
    const pod = "killer";
    const phoenix = `podunit-${pod}-phoenix.service`;
    const calm = `podunit-${pod}-calm.service`;
    writeSpec(t.lab, pod, `
[containers.phoenix]
command = ["/bin/sleep", "600"]
restart = "always"
restart_sec = 0

[containers.calm]
command = ["/bin/sleep", "600"]
`);
    await startOk(pod);
    const ns = await podNamespaces(t.lab, pod);
    const burst = Number(await show(phoenix, "StartLimitBurst"));
    const interval = await show(phoenix, "StartLimitIntervalUSec");
    expect(burst).toBeGreaterThan(0);

    let kills = 0;
    let result = "";
    for (;;) {
      const pid = await mainPid(phoenix);
      await t.lab.sh(["kill", "-KILL", String(pid)]);
      kills++;
      const o = await eventually(`'${phoenix}' to come back or give up (kill ${kills})`, async () => {
        const [state, res, n, now] = await Promise.all(["ActiveState", "Result", "NRestarts", "MainPID"].map((p) => show(phoenix, p)));
        if (state === "failed") return { failed: res };
        return state === "active" && Number(n) === kills && Number(now) !== pid ? { restarted: true } : undefined;
      });
      if ("failed" in o) {
        result = o.failed!;
        break;
      }
      if (kills > 4 * burst) throw new Error(`'${phoenix}' was restarted ${kills} times without reaching its start limit`);
    }
    // The first start and every restart count: the limit stops it after `burst` starts (more if the
    // kills were spread over more than the interval). systemd 252 keeps the last run's result.
    expect(["signal", "start-limit-hit"]).toContain(result);
    expect(kills).toBeGreaterThanOrEqual(burst);
    let s = await status(pod);
    const byName = (st: any) => Object.fromEntries(st.members.map((m: { name: string }) => [m.name, m]));
    expect(s.state).toBe("degraded");
    expect(byName(s).phoenix.state).toBe("failed");
    expect(byName(s).phoenix.startLimitHit).toBe(true);
    expect(byName(s).phoenix.startLimit).toBe(`${burst} starts within ${interval}`);
    expect(byName(s).phoenix.restarts).toBeGreaterThanOrEqual(kills - 1);
    expect(byName(s).calm.state).toBe("active");
    expect(byName(s).calm.startLimitHit).toBeUndefined();
    expect((await podunit("status", pod)).stdout).toContain(`start limit hit (${burst} starts within ${interval}), not restarted again`);

    // restart = "on-failure" (the default): SIGKILL is a failure, SIGTERM a clean end.
    const calmPid = await mainPid(calm);
    await t.lab.sh(["kill", "-KILL", String(calmPid)]);
    await eventually("calm to be restarted", async () => (await show(calm, "NRestarts")) === "1" && (await show(calm, "ActiveState")) === "active");
    await t.lab.sh(["kill", "-TERM", String(await mainPid(calm))]);
    s = await eventually("calm to end", async () => {
      const st = await status(pod);
      return byName(st).calm.state === "not-loaded" || byName(st).calm.state === "inactive" ? st : undefined;
    });
    expect(s.state).toBe("degraded");

    const out = await startOk(pod);
    expect(out).toContain(`was partly running; started '${phoenix}', '${calm}'`);
    s = await status(pod);
    expect(s.state).toBe("running");
    expect(byName(s).phoenix.restarts).toBe(0);
    await stopClean(pod, ns);
    console.log(
      `faults: member killed ${kills} times: restarted ${kills - 1} times, then '${result}' (StartLimitBurst=${burst}, interval ${interval}); ` +
        "on-failure restarted after SIGKILL, not after SIGTERM; status showed both; start repaired; stop left nothing",
    );
  }, 120_000);
});

describe("systemd re-executed and reloaded", () => {
  /** Prints its arguments, which must reach it verbatim before and after systemd reads its units again. */
  const ODD = `
[containers.odd]
command = ["/bin/sh", "-c", 'printf "<%s>" "$@"; echo; exec sleep 600', "sh", "$HOME", "a;b", "\${X}", 'q"x', "100%", "it's", 'back\\slash']
restart = "always"
`;
  const ARGS = `<$HOME><a;b><\${X}><q"x><100%><it's><back\\slash>`;

  test("pods keep running with the same processes, podunit still sees them, members are still supervised with their argv intact", async () => {
    const pods = { reexecr: "runc", reexecn: "native" } as const;
    writeSpec(t.lab, "reexecr", twoMembers('restart = "always"') + ODD);
    writeSpec(t.lab, "reexecn", `share = ["net", "ipc", "uts", "pid"]\n${twoMembers('restart = "always"')}`);
    const ns = new Map<string, string[]>();
    const units = (pod: string) => ["sandbox", "a", "b", ...(pod === "reexecr" ? ["odd"] : [])].map((m) => `podunit-${pod}-${m}.service`);
    const pids = new Map<string, number>();
    for (const [pod, backend] of Object.entries(pods)) {
      await startOk(pod, "--backend", backend);
      ns.set(pod, await podNamespaces(t.lab, pod));
      for (const u of units(pod)) pids.set(u, await mainPid(u));
    }
    // The replaced transient files do not look changed on disk: systemctl asks for no daemon-reload.
    for (const pod of Object.keys(pods)) {
      for (const u of units(pod)) expect({ unit: u, reload: await show(u, "NeedDaemonReload") }).toEqual({ unit: u, reload: "no" });
    }
    const odd = "podunit-reexecr-odd.service";
    const lines = async () => {
      await t.lab.sh(["journalctl", "--sync"]);
      return (await t.lab.sh(["journalctl", "-u", odd, "-o", "cat", "--no-pager"])).split("\n").filter((l) => l.startsWith("<"));
    };
    expect(await eventually("the odd member's first line", async () => ((await lines()).length === 1 ? await lines() : undefined))).toEqual([ARGS]);

    for (const cmd of ["daemon-reexec", "daemon-reload"]) {
      await t.lab.sh(["systemctl", cmd]);
      // systemd takes its name on the bus again after re-executing.
      await eventually("systemd back on the bus", async () => (await podunit("status", "reexecr", "--json")).status === 0);
      for (const pod of Object.keys(pods)) {
        expect((await status(pod)).state).toBe("running");
        for (const u of units(pod)) {
          expect({ unit: u, pid: await mainPid(u), load: await show(u, "LoadState") }).toEqual({ unit: u, pid: pids.get(u)!, load: "loaded" });
        }
        expect(await startOk(pod)).toContain("already running");
      }
    }
    // systemd still supervises what it had before, and restarts it from the units it read again.
    for (const u of ["podunit-reexecr-a.service", "podunit-reexecn-a.service", odd]) {
      await t.lab.sh(["kill", "-KILL", String(pids.get(u))]);
      await eventually(`'${u}' to be restarted`, async () => (await show(u, "ActiveState")) === "active" && (await mainPid(u)) !== pids.get(u));
    }
    expect(await eventually("the odd member's second line", async () => ((await lines()).length === 2 ? await lines() : undefined))).toEqual([ARGS, ARGS]);
    for (const pod of Object.keys(pods)) await stopClean(pod, ns.get(pod)!);
    console.log(
      "faults: daemon-reexec and daemon-reload with a runc and a native (pid-sharing) pod: same main PIDs, units still loaded, status running; " +
        "members killed afterwards were restarted, an argv with $, ;, quotes, % and \\ intact; stop left nothing",
    );
  }, 120_000);
});

describe("the connection to systemd lost in the middle of a start", () => {
  const BUS = "/run/podunit-test-bus.sock";
  const PROXY = "podunit-test-busproxy";
  const gate = (pod: string) => `/run/podunit-test-gate-${pod}`;
  /** An init member that holds the start until its gate file appears, then exits with the number in it. */
  const gated = (pod: string) => `
[containers.gate]
kind = "init"
command = ["/bin/sh", "-c", "while [ ! -e ${gate(pod)} ]; do sleep 0.05; done; exit $(cat ${gate(pod)})"]
${twoMembers()}`;

  async function startProxy(): Promise<void> {
    const bun = join(REPO, "node_modules/.bin/bun");
    // A socket left by an earlier proxy (killed) must not pass for the new one's.
    await t.lab.sh(["rm", "-f", BUS]);
    await t.lab.sh(["systemd-run", "-q", "--collect", `--unit=${PROXY}`, bun, join(REPO, "test/system/busproxy.ts"), BUS]);
    await eventually("the bus proxy's socket", async () => (await t.lab.run(["test", "-S", BUS])).status === 0);
  }

  /** Starts `pod` and, once it waits for its gate, breaks the connection the way `how` says; returns podunit's result. */
  async function interruptedStart(pod: string, how: "drop the bus connection" | "kill podunit") {
    writeSpec(t.lab, pod, gated(pod));
    await t.lab.run(["rm", "-f", gate(pod)]);
    const env = how === "drop the bus connection" ? { ...POD_ENV, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${BUS}` } : POD_ENV;
    if (how === "drop the bus connection") await startProxy();
    const run = t.podunit(["start", pod], { env });
    const gateUnit = `podunit-${pod}-gate.service`;
    await eventually("the start to wait for the gate", async () => (await show(gateUnit, "ActiveState")) === "activating");
    const ns = await podNamespaces(t.lab, pod);
    if (how === "drop the bus connection") {
      await t.lab.sh(["systemctl", "kill", "-s", "KILL", `${PROXY}.service`]);
    } else {
      const pid = (await t.lab.sh(["pgrep", "-f", `^${join(REPO, "dist/podunit")} start ${pod}$`])).trim();
      expect(pid).toMatch(/^\d+$/);
      await t.lab.sh(["kill", "-KILL", pid]);
    }
    return { r: await run, ns };
  }

  test("dropped bus connection: start fails at once with exit code 4 and says how to repair; stop removes everything", async () => {
    const pod = "lostbus";
    const { r, ns } = await interruptedStart(pod, "drop the bus connection");
    expect(r.stderr).not.toContain("internal error");
    expect(r.stderr).toContain(`Failed to start pod '${pod}': the connection to systemd was lost while its units were starting`);
    expect(r.stderr).toContain(`Run 'podunit start ${pod}' to finish starting it, or 'podunit stop ${pod}' to remove it`);
    expect(r.status).toBe(4);
    const s = await status(pod);
    expect(s.state).toBe("starting");
    await stopClean(pod, ns);
    await t.lab.run(["rm", "-f", gate(pod)]);
    console.log(`faults: bus connection dropped mid-start: exit 4, state '${s.state}' afterwards; stop left nothing`);
  }, 60_000);

  for (const how of ["drop the bus connection", "kill podunit"] as const) {
    test(`${how} mid-start, then a member fails: start repairs what is missing`, async () => {
      const pod = how === "kill podunit" ? "killedstart" : "lostrepair";
      const { r, ns } = await interruptedStart(pod, how);
      if (how === "kill podunit") expect(r.status).not.toBe(0);
      else expect(r.status).toBe(4);
      // The jobs systemd was given go on without podunit; make the init member fail.
      await t.lab.sh(["bash", "-c", `echo 1 > ${gate(pod)}`]);
      const s = await eventually("the interrupted start to settle", async () => {
        const st = await status(pod);
        return st.state === "degraded" ? st : undefined;
      });
      expect(s.sandbox.state).toBe("active");
      expect(s.members.find((m: { name: string }) => m.name === "gate").state).toBe("failed");
      await t.lab.sh(["bash", "-c", `echo 0 > ${gate(pod)}`]);
      const out = await startOk(pod);
      expect(out).toContain(`Pod '${pod}' was partly running; started 'podunit-${pod}-gate.service'`);
      expect((await status(pod)).state).toBe("running");
      // The sandbox was kept: the members joined the namespaces it held all along.
      expect(await podNamespaces(t.lab, pod)).toEqual(ns);
      await stopClean(pod, ns);
      await t.lab.run(["rm", "-f", gate(pod)]);
      console.log(`faults: ${how} mid-start (exit ${r.status}), init member then failed: status '${s.state}'; start repaired in the same sandbox; stop left nothing`);
    }, 60_000);
  }
});

describe("/run/podunit removed behind podunit's back", () => {
  test("members run on, status names the lost pins, a restarting member fails; start starts the pod afresh; stop leaves nothing", async () => {
    const pod = "rmrun";
    writeSpec(t.lab, pod, twoMembers('restart = "always"\nrestart_sec = "100ms"'));
    await startOk(pod);
    const ns = await podNamespaces(t.lab, pod);
    const before = await mainPid(`podunit-${pod}-b.service`);
    await t.lab.sh(["bash", "-c", "findmnt -rn -o TARGET | grep '^/run/podunit/' | sort -r | xargs -r umount -l; rm -rf /run/podunit"]);
    expect((await t.lab.run(["test", "-e", "/run/podunit"])).status).not.toBe(0);

    let s = await status(pod);
    expect(s.state).toBe("running");
    expect(await mainPid(`podunit-${pod}-b.service`)).toBe(before);
    expect(s.problems.join("\n")).toContain(`the pins of its namespaces are gone ('/run/podunit/${pod}/ns/net'`);
    expect((await podunit("status", pod)).stdout).toContain(`problem: the pins of its namespaces are gone`);

    // A member that restarts now cannot join the pod.
    const a = `podunit-${pod}-a.service`;
    await t.lab.sh(["kill", "-KILL", String(await mainPid(a))]);
    s = await eventually("the member to give up", async () => {
      const st = await status(pod);
      return st.members.find((m: { name: string }) => m.name === "a").state === "failed" ? st : undefined;
    });
    expect(s.state).toBe("degraded");

    const out = await startOk(pod);
    expect(out).toContain("was partly running");
    s = await status(pod);
    expect(s.state).toBe("running");
    expect(s.problems).toEqual([]);
    await stopClean(pod, [...ns, ...(await podNamespaces(t.lab, pod).catch(() => []))]);
    console.log("faults: /run/podunit removed: members ran on, status named the lost pins, a restarted member failed; start started afresh; stop left nothing");
  }, 60_000);
});

describe("two starts and a stop racing", () => {
  test("every command succeeds and the pod ends fully up or fully gone, round after round", async () => {
    const pod = "racer";
    writeSpec(t.lab, pod, twoMembers());
    const ends: string[] = [];
    let ns: string[] = [];
    for (let round = 0; round < 5; round++) {
      const rs = await Promise.all([podunit("start", pod), podunit("stop", pod), podunit("start", pod)]);
      for (const r of rs) {
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
      }
      const s = await status(pod);
      ends.push(s.state);
      if (s.state === "running") {
        expect([s.sandbox, ...s.members].every((u: { state: string }) => u.state === "active")).toBe(true);
        ns = [...new Set([...ns, ...(await podNamespaces(t.lab, pod))])];
      } else {
        expect(s.state).toBe("stopped");
        expect(await leftovers(t.lab, pod, ns)).toEqual([]);
      }
    }
    await stopClean(pod, ns);
    console.log(`faults: start, stop and start racing, 5 rounds: ended ${ends.join(", ")}; never partial; stop left nothing`);
  }, 120_000);
});
