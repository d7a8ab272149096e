/**
 * Boot-time pods on a real systemd: unit files from `podunit generate` started with
 * systemctl give the same pod as `podunit start` (held side by side); `enable` and
 * `disable`; the generator at daemon-reload, next to a broken spec.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { REPO } from "../lab/lab.ts";
import { BUSYBOX_ROOTFS, eventually, leftovers, makeRootfs, useLab, writeSpec, labHelpers } from "./harness.ts";
import { cgroupLimits, comparable, journalFields, processCgroup, prop, sharing, showUnit } from "./twins.ts";

const t = useLab("boot");
const { podunit } = labHelpers(t);
beforeAll(async () => {
  await makeRootfs(t.lab);
}, 60_000);

const sh = (...argv: string[]) => t.lab.sh(argv);
const esc = (pod: string) => pod.replaceAll("-", "\\x2d");
const unitOf = (pod: string, member: string) => `podunit-${esc(pod)}-${member}.service`;

async function ok(r: Promise<{ status: number; stdout: string; stderr: string }>): Promise<string> {
  const x = await r;
  if (x.status !== 0) throw new Error(`exited ${x.status}: ${x.stderr}${x.stdout}`);
  return x.stdout;
}

/** What of a pod still runs or is left in cgroups, /run, mounts or runc (unit files themselves may stay loaded). */
async function remnants(pod: string): Promise<string[]> {
  const running = await sh("systemctl", "list-units", "--plain", "--no-legend", `podunit-${esc(pod)}.*`, `podunit-${esc(pod)}-*`);
  return [...running.split("\n").filter(Boolean).map((l) => `running ${l.split(" ")[0]}`), ...(await leftovers(t.lab, pod)).filter((l) => !l.startsWith("unit "))];
}

/** A pod with a runtime sandbox and a rootfs member: crun's by default, runc's when asked for. */
const runtimePod = (runtime: string | undefined) => (rootfs: string) => `${runtime ? `runtime = "${runtime}"` : ""}
memory_max = "256M"
cpu_quota = "50%"
tasks_max = 100
[install]
[containers.prep]
kind = "init"
command = ["/bin/sh", "-c", "echo prepared"]
[containers.web]
command = ["/bin/busybox", "nc", "-ll", "-p", "8080", "-e", "/bin/echo", "hello"]
memory_max = "64M"
[containers.box]
rootfs = "${rootfs}"
command = ["/bin/sh", "-c", "while true; do echo tick from $(hostname); sleep 1; done"]
env = { GREETING = "hi" }
tasks_max = 20
cpu_quota = "25%"
after = ["web"]
`;

const TWINS = {
  crun: runtimePod(undefined),
  runc: runtimePod("runc"),
  native: () => `
sandbox = "native"
share = ["net", "ipc", "uts", "pid"]
hostname = "twins"
[install]
[containers.talk]
command = ["/bin/sh", "-c", "while true; do echo 'said $HOME 100%' as $(id -u); sleep 1; done"]
user = "1000:1000"
restart = "always"
stop_timeout = "5s"
[containers.idle]
command = ["/bin/sleep", "600"]
memory_max = "32M"
`,
};

for (const [backend, specOf] of Object.entries(TWINS)) {
  describe(`${backend}: a pod from unit files and the same pod from 'podunit start'`, () => {
    const files = `twin-${backend}-f`;
    const transient = `twin-${backend}-t`;
    const spec = specOf(BUSYBOX_ROOTFS);
    const members = backend !== "native" ? ["prep", "web", "box"] : ["talk", "idle"];
    const units = (pod: string) => [`podunit-${esc(pod)}.slice`, unitOf(pod, "sandbox"), ...members.map((m) => unitOf(pod, m))];

    test("generate --output, daemon-reload, systemctl start the target; podunit start the other", async () => {
      writeSpec(t.lab, files, spec);
      writeSpec(t.lab, transient, spec);
      const out = await ok(podunit("generate", files, "--output", "/etc/systemd/system"));
      expect(out).toContain(`Wrote ${members.length + 3} unit files of pod '${files}'`);
      // Reload before the transient pod exists: systemd 252 loses the Exec*Ex settings of transient units on reload.
      await sh("systemctl", "daemon-reload");
      await sh("systemctl", "start", `podunit-${esc(files)}.target`);
      await ok(podunit("start", transient));
      for (const pod of [files, transient]) for (const u of units(pod)) expect({ u, state: await prop(t.lab, u, "ActiveState") }).toEqual({ u, state: "active" });
      expect(await prop(t.lab, `podunit-${esc(files)}.target`, "ActiveState")).toBe("active");
      // The unit files run the container and the sandbox under the runtime the transient pod uses.
      if (backend !== "native") {
        for (const u of [unitOf(files, "box"), unitOf(files, "sandbox")]) expect(await prop(t.lab, u, "ExecStart")).toMatch(new RegExp(`path=/usr/s?bin/${backend} ;`));
      }
    });

    test("systemd holds the same settings for every unit, apart from the prepare, ready and wait steps and the target", async () => {
      for (const [f, tr] of units(files).map((u, i): [string, string] => [u, units(transient)[i]!])) {
        const a = await showUnit(t.lab, f, files);
        const b = await showUnit(t.lab, tr, transient);
        expect({ unit: f, ...comparable(a) }).toEqual({ unit: f, ...comparable(b) });
      }
      const sandboxPre = (await showUnit(t.lab, unitOf(files, "sandbox"), files)).get("ExecStartPre")!;
      expect(sandboxPre[0]).toContain("internal prepare --sandbox --digest");
      const sandboxPost = (await showUnit(t.lab, unitOf(files, "sandbox"), files)).get("ExecStartPost")!;
      // crun's PID reaches the unit through a shell step, the same in both (src/plan/runtime.ts, pidHandOff); the ready step reads crun's own file.
      const handOff = backend === "crun" ? [expect.stringContaining(" podunit-adopt /run/podunit/POD/sandbox.crun.pid /run/podunit/POD/sandbox.pid ")] : [];
      const pid = { native: "--main-pid ${MAINPID}", runc: "--pid-file /run/podunit/POD/sandbox.pid", crun: "--pid-file /run/podunit/POD/sandbox.crun.pid" }[backend];
      expect(sandboxPost).toEqual([...handOff, expect.stringContaining(`internal ready ${pid} --unit podunit-POD-sandbox.service --holder `)]);
      const transientPost = (await showUnit(t.lab, unitOf(transient, "sandbox"), transient)).get("ExecStartPost");
      if (handOff.length) expect(transientPost).toEqual(handOff);
      else expect(transientPost).toBeUndefined();
      expect((await showUnit(t.lab, `podunit-${esc(files)}.slice`, files)).get("PartOf")).toEqual(['"podunit-POD.target"']);
      expect(await prop(t.lab, unitOf(files, "sandbox"), "FragmentPath")).toBe(`/etc/systemd/system/${unitOf(files, "sandbox")}`);
    });

    test("the same cgroup tree, with each process in its unit's cgroup", async () => {
      for (const pod of [files, transient]) {
        // An init member that has finished has no processes and so no cgroup.
        const live = units(pod).slice(1).filter((u) => !u.endsWith("-prep.service"));
        for (const u of live) {
          expect(await prop(t.lab, u, "ControlGroup")).toBe(`/podunit.slice/podunit-${esc(pod)}.slice/${u}`);
          const where = await processCgroup(t.lab, await prop(t.lab, u, "MainPID"));
          expect(where).toStartWith(`/podunit.slice/podunit-${esc(pod)}.slice/${u}`);
        }
      }
    });

    test("the same namespace sharing, and two pods that share nothing with each other", async () => {
      const of = (pod: string) => sharing(t.lab, { sandbox: unitOf(pod, "sandbox"), others: members.filter((m) => m !== "prep").map((m) => unitOf(pod, m)) });
      const [a, b] = [await of(files), await of(transient)];
      expect(a).toEqual(b);
      expect(a.sandboxVsHost!.net).toBe("own");
      const netOf = async (pod: string) => sh("readlink", `/proc/${await prop(t.lab, unitOf(pod, "sandbox"), "MainPID")}/ns/net`);
      expect(await netOf(files)).not.toBe(await netOf(transient));
      const hostnameOf = async (pod: string, m: string) =>
        (await sh("nsenter", "-t", await prop(t.lab, unitOf(pod, m), "MainPID"), "-u", "hostname")).trim().replace(pod, "POD");
      expect(await hostnameOf(files, members.at(-1)!)).toBe(await hostnameOf(transient, members.at(-1)!));
    });

    test("the same limits in the cgroup files", async () => {
      const all = async (pod: string) =>
        Promise.all(units(pod).filter((u) => !u.endsWith("-prep.service")).map(async (u) => cgroupLimits(t.lab, await prop(t.lab, u, "ControlGroup"))));
      const [a, b] = [await all(files), await all(transient)];
      expect(a).toEqual(b);
      if (backend !== "native") {
        expect(a[0]!.memory).toBe(String(256 * 1024 * 1024));
        expect(a[0]!.tasks).toBe("100");
      }
    });

    test("the same journal fields for what members write", async () => {
      const marker: Record<string, string> = { prep: "prepared", box: "tick from", talk: "said $HOME 100% as 1000" };
      const fields = ["MESSAGE", "PRIORITY", "PODUNIT_POD", "PODUNIT_MEMBER", "SYSLOG_IDENTIFIER", "_SYSTEMD_UNIT", "_TRANSPORT", "_UID"];
      for (const m of members.filter((x) => marker[x])) {
        // journald reads the cgroup of a line's writer when the line arrives: an init member may be gone by then.
        const keep = m === "prep" ? fields : [...fields, "_SYSTEMD_SLICE", "_SYSTEMD_CGROUP"];
        const a = await eventually(`${m} in ${files}'s journal`, () => journalFields(t.lab, unitOf(files, m), marker[m]!, files, keep));
        const b = await eventually(`${m} in ${transient}'s journal`, () => journalFields(t.lab, unitOf(transient, m), marker[m]!, transient, keep));
        expect(a).toEqual(b);
        expect(a.PODUNIT_POD).toBe("POD");
        expect(a.PODUNIT_MEMBER).toBe(m);
        expect(a._SYSTEMD_UNIT).toBe(`podunit-POD-${m}.service`);
      }
    });

    test("podunit stop takes both down; nothing is left", async () => {
      for (const pod of [transient, files]) {
        await ok(podunit("stop", pod));
        expect(await remnants(pod)).toEqual([]);
      }
      expect(await prop(t.lab, `podunit-${esc(files)}.target`, "ActiveState")).toBe("inactive");
      // disable removes every unit file podunit wrote for the pod, also those of 'generate --output'.
      expect(await ok(podunit("disable", files))).toContain(`removed ${members.length + 3} unit files`);
    });
  });
}

describe("a stopped unit-file pod starts again from an empty run directory; a changed spec is refused", () => {
  const pod = "again";
  const spec = (cmd: string) => `[install]\n[containers.a]\nrootfs = "${BUSYBOX_ROOTFS}"\ncommand = ["/bin/sleep", "${cmd}"]\n`;
  test("systemctl stop and start of the target", async () => {
    writeSpec(t.lab, pod, spec("600"));
    await ok(podunit("generate", pod, "--output", "/etc/systemd/system"));
    await sh("systemctl", "daemon-reload");
    await sh("systemctl", "start", `podunit-${pod}.target`);
    const first = await prop(t.lab, unitOf(pod, "a"), "MainPID");
    // The target's stop job ends first (it is ordered after the pod's units); the pod follows.
    await sh("systemctl", "stop", `podunit-${pod}.target`);
    await eventually("the sandbox to stop", async () => (await prop(t.lab, unitOf(pod, "sandbox"), "ActiveState")) === "inactive");
    expect(await prop(t.lab, unitOf(pod, "a"), "ActiveState")).toBe("inactive");
    expect(await t.lab.run(["test", "-e", `/run/podunit/${pod}`])).toMatchObject({ status: 1 });
    await sh("systemctl", "start", `podunit-${pod}.target`);
    expect(await prop(t.lab, unitOf(pod, "a"), "ActiveState")).toBe("active");
    expect(await prop(t.lab, unitOf(pod, "a"), "MainPID")).not.toBe(first);
    await sh("systemctl", "stop", `podunit-${pod}.slice`);
  });

  test("an edited spec without new unit files: the start fails and the sandbox's log says why", async () => {
    writeSpec(t.lab, pod, spec("700"));
    const r = await t.lab.run(["systemctl", "start", `podunit-${pod}.target`]);
    expect(r.status).not.toBe(0);
    const log = await eventually("the refusal in the journal", async () => {
      await sh("journalctl", "--sync");
      const j = await sh("journalctl", "-u", unitOf(pod, "sandbox"), "-o", "cat", "--no-pager");
      return j.includes("has changed since the unit files were written") ? j : undefined;
    });
    expect(log).toContain(`Failed to prepare the sandbox of pod '${pod}'`);
    await ok(podunit("stop", pod));
    expect(await remnants(pod)).toEqual([]);
    await ok(podunit("disable", pod));
  });
});

describe("enable and disable", () => {
  const pod = "en-a";
  const target = `podunit-${esc(pod)}.target`;
  const link = `/etc/systemd/system/multi-user.target.wants/${target}`;
  const spec = `[install]\n[containers.a]\ncommand = ["/bin/sleep", "600"]\n[containers.b]\nrootfs = "${BUSYBOX_ROOTFS}"\ncommand = ["/bin/sleep", "600"]\n`;
  const isEnabled = async (unit: string) => (await t.lab.run(["systemctl", "is-enabled", unit])).stdout.trim();

  test("a spec without [install] is refused, and nothing is written", async () => {
    writeSpec(t.lab, "en-none", `[containers.a]\ncommand = ["/bin/sleep", "600"]\n`);
    const r = await podunit("enable", "en-none");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Failed to enable pod 'en-none': its spec '/srv/lab/pods/en-none.toml' has no [install] section");
    expect(await sh("bash", "-c", "ls /etc/systemd/system | grep -c 'podunit-en' || true")).toBe("0\n");
  });

  test("enable installs the unit files and the wants link and reloads; the pod is enabled, not started", async () => {
    writeSpec(t.lab, pod, spec);
    const out = await ok(podunit("enable", pod));
    expect(out).toContain(`Pod '${pod}' enabled: ${target} is wanted by multi-user.target (5 unit files in /etc/systemd/system).`);
    expect((await sh("readlink", link)).trim()).toBe(`/etc/systemd/system/${target}`);
    expect(await isEnabled(target)).toBe("enabled");
    expect(await prop(t.lab, target, "ActiveState")).toBe("inactive");
    expect(await prop(t.lab, target, "NeedDaemonReload")).toBe("no");
    expect(await ok(podunit("enable", pod))).toContain("was already enabled; nothing changed");
  });

  test("enable --now starts it as systemd would at boot; status sees it running", async () => {
    expect(await ok(podunit("enable", pod, "--now"))).toContain(`Pod '${pod}' started.`);
    expect(await prop(t.lab, target, "ActiveState")).toBe("active");
    const s = JSON.parse(await ok(podunit("status", pod, "--json")));
    expect(s.state).toBe("running");
    expect(await prop(t.lab, unitOf(pod, "b"), "FragmentPath")).toBe(`/etc/systemd/system/${unitOf(pod, "b")}`);
  });

  test("podunit stop, start and restart work on it, through its unit files", async () => {
    await ok(podunit("stop", pod));
    expect(await prop(t.lab, target, "ActiveState")).toBe("inactive");
    expect(await ok(podunit("start", pod))).toContain(`Pod '${pod}' started: sandbox and 2 members active.`);
    expect(await prop(t.lab, target, "ActiveState")).toBe("active");
    expect(await prop(t.lab, unitOf(pod, "a"), "Transient")).toBe("no");
    const before = await prop(t.lab, unitOf(pod, "a"), "MainPID");
    expect(await ok(podunit("restart", pod))).toContain("restarted");
    expect(await prop(t.lab, unitOf(pod, "a"), "MainPID")).not.toBe(before);
  });

  test("apply rewrites its unit files and reloads, with the same classes: limits live, one member restarted, one added, then removed", async () => {
    const show = async (u: string) => `${await prop(t.lab, u, "ActiveState")} ${await prop(t.lab, u, "MainPID")} ${await prop(t.lab, u, "InvocationID")}`;
    const [sandbox, a, b] = await Promise.all([show(unitOf(pod, "sandbox")), show(unitOf(pod, "a")), show(unitOf(pod, "b"))]);
    writeSpec(t.lab, pod, `memory_max = "64M"\n${spec.replace('command = ["/bin/sleep", "600"]\n', 'command = ["/bin/sleep", "600"]\nenv = { X = "1" }\n')}[containers.c]\ncommand = ["/bin/sleep", "600"]\n`);
    const out = await ok(podunit("apply", pod));
    expect(out).toContain("(its unit files written again, systemd reloaded)");
    expect(out).toContain("member 'a' restarts: Environment changed");
    expect(out).toContain("member 'c' is added and started");
    expect(await show(unitOf(pod, "sandbox"))).toBe(sandbox);
    expect(await show(unitOf(pod, "b"))).toBe(b);
    expect(await show(unitOf(pod, "a"))).not.toBe(a);
    expect(await prop(t.lab, unitOf(pod, "a"), "Environment")).toBe("X=1");
    expect(await prop(t.lab, unitOf(pod, "c"), "ActiveState")).toBe("active");
    expect(await prop(t.lab, unitOf(pod, "c"), "FragmentPath")).toBe(`/etc/systemd/system/${unitOf(pod, "c")}`);
    expect(await sh("grep", "-h", "MemoryMax", `/etc/systemd/system/podunit-${esc(pod)}.slice`)).toBe("MemoryMax=67108864\n");
    expect((await cgroupLimits(t.lab, `/podunit.slice/podunit-${esc(pod)}.slice`)).memory).toBe(String(64 << 20));
    for (const u of [target, unitOf(pod, "a"), unitOf(pod, "b"), unitOf(pod, "c")]) expect(await prop(t.lab, u, "NeedDaemonReload")).toBe("no");

    // Back to the first spec: c stopped and its file gone, the limit removed live, a restarted once more.
    writeSpec(t.lab, pod, spec);
    const back = await ok(podunit("apply", pod));
    expect(back).toContain("member 'c' is stopped and removed");
    expect(back).toContain("limits changed live on the pod: MemoryMax 67108864 -> (none)");
    expect(await prop(t.lab, unitOf(pod, "c"), "LoadState")).toBe("not-found");
    expect(await show(unitOf(pod, "b"))).toBe(b);
    expect(await prop(t.lab, `podunit-${esc(pod)}.slice`, "MemoryMax")).toBe("infinity");
    expect(await ok(podunit("apply", pod))).toContain("nothing to do");
  });

  test("disable --now stops it and removes its files and link; disable again says there is nothing", async () => {
    const out = await ok(podunit("disable", pod, "--now"));
    expect(out).toContain(`Pod '${pod}' disabled: removed 6 unit files and links from /etc/systemd/system.`);
    expect(out).toContain(`Pod '${pod}' stopped.`);
    expect(await remnants(pod)).toEqual([]);
    expect(await t.lab.run(["test", "-e", link])).toMatchObject({ status: 1 });
    expect(await sh("bash", "-c", "ls /etc/systemd/system | grep -c 'podunit-en' || true")).toBe("0\n");
    expect(await isEnabled(target)).not.toBe("enabled");
    expect(await ok(podunit("disable", pod))).toContain(`Pod '${pod}' was not enabled; nothing to remove.`);
  });

  test("a unit file podunit did not write is never overwritten", async () => {
    writeSpec(t.lab, "en-mine", spec);
    await sh("bash", "-c", `printf '[Service]\\nExecStart=/bin/true\\n' > '/etc/systemd/system/podunit-en\\x2dmine-a.service'`);
    const r = await podunit("enable", "en-mine");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("(podunit did not write it) would be overwritten");
    expect(await sh("bash", "-c", "ls /etc/systemd/system | grep 'podunit-en' || true")).toBe("podunit-en\\x2dmine-a.service\n");
    await sh("bash", "-c", `rm '/etc/systemd/system/podunit-en\\x2dmine-a.service'`);
  });

  test("enable --now of a pod that cannot start: rolled back, the cause named, still enabled", async () => {
    writeSpec(t.lab, "en-bad", `[install]\n[containers.a]\ncommand = ["/bin/sleep", "600"]\n[containers.b]\ncommand = ["/bin/sleep", "600"]\nuser = "nosuchuser"\n`);
    const r = await podunit("enable", "en-bad", "--now");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Failed to start pod 'en-bad': podunit-en\\x2dbad-b.service");
    expect(r.stderr).toContain("The pod stays enabled; 'podunit disable en-bad' undoes that.");
    expect(await remnants("en-bad")).toEqual([]);
    expect(await isEnabled("podunit-en\\x2dbad.target")).toBe("enabled");
    await ok(podunit("disable", "en-bad"));
  });
});

describe("the generator, at daemon-reload", () => {
  const put = (name: string, toml: string) => t.lab.run(["bash", "-c", `mkdir -p /etc/podunit/pods && cat > /etc/podunit/pods/${name}`], { stdin: toml });
  const generated = async () => (await sh("bash", "-c", "ls /run/systemd/generator | grep '^podunit-' || true")).split("\n").filter(Boolean);

  test("make install (podunit system install) puts the binary, podunit.slice and the generator link in place and reloads systemd", async () => {
    await sh("make", "-s", "-C", REPO, "-o", "dist/podunit", "install");
    expect((await sh("readlink", "/usr/local/lib/systemd/system-generators/podunit-generator")).trim()).toBe("../../../bin/podunit");
    expect(await prop(t.lab, "podunit.slice", "FragmentPath")).toBe("/usr/local/lib/systemd/system/podunit.slice");
    expect((await sh("/usr/local/bin/podunit", "version")).trim()).toStartWith("podunit ");
  });

  test("a spec with [install] becomes a target that starts; a broken spec next to it is in the journal; one without [install] is left out", async () => {
    await put("gen-ok.toml", `[install]\n[containers.a]\ncommand = ["/bin/sleep", "600"]\n[containers.b]\nrootfs = "${BUSYBOX_ROOTFS}"\ncommand = ["/bin/sleep", "600"]\n`);
    await put("gen-bad.toml", `memory_max = "lots"\n[install]\n[containers.a]\ncommand = ["/bin/true"]\n`);
    await put("gen-none.toml", `[containers.a]\ncommand = ["/bin/true"]\n`);
    await sh("systemctl", "daemon-reload");
    expect(await generated()).toEqual(["podunit-gen\\x2dok-a.service", "podunit-gen\\x2dok-b.service", "podunit-gen\\x2dok-sandbox.service", "podunit-gen\\x2dok.slice", "podunit-gen\\x2dok.target"]);
    expect((await sh("readlink", "/run/systemd/generator/multi-user.target.wants/podunit-gen\\x2dok.target")).trim()).toBe("../podunit-gen\\x2dok.target");
    expect((await t.lab.run(["systemctl", "is-enabled", "podunit-gen\\x2dok.target"])).stdout.trim()).toBe("generated");
    await sh("systemctl", "start", "podunit-gen\\x2dok.target");
    expect(JSON.parse(await ok(t.podunit(["status", "gen-ok", "--json"]))).state).toBe("running");
    expect(await prop(t.lab, unitOf("gen-ok", "sandbox"), "ExecStartPre")).toContain("path=/usr/local/bin/podunit");
    const entry = await eventually("the generator's message in the journal", async () => {
      await sh("journalctl", "--sync");
      const lines = (await sh("journalctl", "-t", "podunit-generator", "-o", "json", "--no-pager")).split("\n").filter(Boolean);
      return lines.map((l) => JSON.parse(l) as Record<string, string>).find((e) => e.PODUNIT_SPEC_FILE === "/etc/podunit/pods/gen-bad.toml");
    });
    expect(entry.MESSAGE).toBe('/etc/podunit/pods/gen-bad.toml: invalid pod spec: line 1, column 1: memory_max: expected a size such as "512M" or "1.5G", found "lots"');
    expect(entry.PRIORITY).toBe("3");
  });

  test("a pod enabled with podunit enable is left to its files; disable hands it back to the generator and says so", async () => {
    await ok(t.podunit(["enable", "gen-ok"]));
    expect(await generated()).toEqual([]);
    expect(await prop(t.lab, "podunit-gen\\x2dok.target", "FragmentPath")).toBe("/etc/systemd/system/podunit-gen\\x2dok.target");
    const out = await ok(t.podunit(["disable", "gen-ok"]));
    expect(out).toContain("from '/run/systemd/generator/podunit-gen\\x2dok.target': the podunit generator makes it");
    expect((await generated()).length).toBe(5);
  });

  test("taking the specs away takes the units away", async () => {
    await ok(t.podunit(["stop", "gen-ok"]));
    await sh("bash", "-c", "rm /etc/podunit/pods/gen-*.toml && systemctl daemon-reload");
    expect(await generated()).toEqual([]);
    expect(await remnants("gen-ok")).toEqual([]);
  });
});
