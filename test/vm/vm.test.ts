/**
 * The VM test: podunit on pure cgroup v2, and a boot-time pod across a real
 * reboot, in a small virtual machine (test/vm/vm.ts; docs/testing.md, "The VM").
 * The whole file is one VM run: boot 1 starts and stops pods and enables one,
 * then reboots; boot 2 finds the enabled pod running, and one the generator
 * made from its spec alone. The guest only records
 * what it sees (test/vm/scenario.sh); the tests below assert on that and print
 * what they checked. When the VM cannot run, every test fails with the reason.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../lab/lab.ts";
import pkg from "../../package.json" with { type: "json" };
import { allocatedBytes, type Boot, ensureImage, lastLines, Vm, type VmImage, type VmResult } from "./vm.ts";

const MiB = 1024 * 1024;

/**
 * A pod with a memory-limited member. The hog waits for the scenario's go
 * (after it has read the limits), then allocates past its 32M. The native
 * sandbox keeps this test about memory: the runc sandbox has a pod of its own.
 */
const VMLIMIT = `
sandbox = "native"
memory_max = "128M"

[containers.steady]
command = ["/bin/sleep", "infinity"]

[containers.hog]
command = ["/bin/sh", "-c", "while [ ! -e /run/podunit-vm-go ]; do sleep 0.1; done; head -c 256M /dev/zero | tail"]
memory_max = "32M"
restart = "no"
`;

/** A member with a busybox root file system: runc runs it, under the member's service. */
const VMROOTFS = `
sandbox = "native"
runtime = "runc"

[containers.box]
rootfs = "/var/lib/podunit-test/busybox"
command = ["/bin/sleep", "600"]
memory_max = "64M"
`;

/** The runc sandbox (crun's is the default where crun is installed). */
const VMRUNC = `
sandbox = "runc"

[containers.app]
command = ["/bin/sleep", "600"]
memory_max = "24M"
`;

/** The crun sandbox and a rootfs member under crun: the default runtime, on pure cgroup v2 (containers forgotten by removing crun's state). */
const VMCRUN = `
sandbox = "crun"

[containers.box]
rootfs = "/var/lib/podunit-test/busybox"
command = ["/bin/sleep", "600"]
memory_max = "64M"
`;

/** A boot-time pod, enabled with `podunit enable --now` (so: unit files in /etc/systemd/system). */
const VMBOOT = `
sandbox = "native"

[install]
wanted_by = ["multi-user.target"]

[volumes.data]
mode = "0700"

[volumes.mem]
type = "tmpfs"
size = "4M"

[containers.idle]
command = ["/bin/sleep", "infinity"]
memory_max = "48M"
mounts = ["data:/srv/data", "mem:/srv/mem"]
`;

/** A boot-time pod that is only a spec in /etc/podunit/pods: the generator makes its units at boot. */
const VMGEN = `
sandbox = "native"

[install]

[containers.idle]
command = ["/bin/sleep", "infinity"]
memory_max = "40M"
`;

/** A bridged boot-time pod with a published port: busybox's httpd on the pod's port 80, published on 8080. */
const VMNET = `
sandbox = "native"
network = "bridge"
ports = ["8080:80"]

[install]
wanted_by = ["multi-user.target"]

[containers.web]
command = ["/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/var/lib/podunit-test/www"]
memory_max = "32M"
`;

/** A broken boot-time spec: the generator makes no units for it and says why in the journal. */
const VMBAD = `
memory_max = "plenty"

[install]

[containers.idle]
command = ["/bin/sleep", "infinity"]
`;

let image: VmImage | undefined;
let result: VmResult | undefined;
let setupError: Error | undefined;

beforeAll(async () => {
  try {
    if (process.getuid?.() !== 0) throw new Error("The VM test needs root (it builds an image with mmdebstrap).");
    image = await ensureImage();
    const vm = await Vm.create(image, "boot");
    try {
      const deb = Bun.spawnSync(["make", "-s", "-C", REPO, "deb"], { stdout: "pipe", stderr: "pipe" });
      if (deb.exitCode !== 0) throw new Error(`'make deb' failed:\n${deb.stderr.toString()}`);
      copyFileSync(join(REPO, `dist/podunit_${pkg.version}_amd64.deb`), join(vm.inDir, "podunit.deb"));
      const rootfs = Bun.spawnSync(["bash", join(REPO, "test/lab/mkrootfs.sh"), join(vm.inDir, "busybox")], { stderr: "pipe" });
      if (rootfs.exitCode !== 0) throw new Error(`test/lab/mkrootfs.sh failed:\n${rootfs.stderr.toString()}`);
      mkdirSync(join(vm.inDir, "pods"));
      for (const [pod, toml] of [["vmlimit", VMLIMIT], ["vmrootfs", VMROOTFS], ["vmrunc", VMRUNC], ["vmcrun", VMCRUN], ["vmboot", VMBOOT], ["vmgen", VMGEN], ["vmbad", VMBAD], ["vmnet", VMNET]] as const) {
        writeFileSync(join(vm.inDir, "pods", `${pod}.toml`), toml);
      }
      copyFileSync(join(import.meta.dir, "scenario.sh"), join(vm.inDir, "scenario"));
      Bun.spawnSync(["chmod", "755", join(vm.inDir, "scenario")]);
      result = await vm.run({ maxBoots: 2 });
    } finally {
      vm.destroy();
    }
    report(image, result);
  } catch (err) {
    // Not rethrown: every test then fails with this reason.
    setupError = err as Error;
  }
}, 45 * 60_000);

afterAll(() => {
  if (result) {
    const b = result.boots.map((x) => `boot ${x.n}: ${x.seconds.toFixed(1)} s to the scenario`).join(", ");
    console.log(`vm: ${result.accel} guest, ${b}; the run took ${result.seconds.toFixed(1)} s`);
  }
});

/** Appends the run's figures to the test run's report (read by test/run.ts). */
function report(img: VmImage, r: VmResult): void {
  const file = process.env.PODUNIT_VM_REPORT;
  if (!file) return;
  const f = r.boots[0]?.facts ?? {};
  appendFileSync(
    file,
    JSON.stringify({
      systemd: f.systemd ?? "",
      kernel: f.kernel ?? "",
      cgroupFs: f.cgroup_fs ?? "",
      accel: r.accel,
      imageBuilt: img.built,
      imageSeconds: img.seconds,
      imageBytes: allocatedBytes(img.dir),
      bootSeconds: r.boots.map((b) => b.seconds),
      runSeconds: r.seconds,
    }) + "\n",
  );
}

/** Boot `n` as recorded, or an error that says why there is none (the run's error, console and logs). */
function boot(n: number): Boot {
  if (!result) throw setupError ?? new Error("The VM did not run.");
  const b = result.boots[n - 1];
  const why = result.error ? `The VM run ended early: ${result.error}\n` : "";
  if (!b || b.status === undefined) {
    const logs = result.boots.map((x) => `--- boot ${x.n} scenario ---\n${lastLines(x.log, 30)}`).join("\n");
    throw new Error(`${why}Boot ${n} did not finish its scenario.\n${logs}\n--- console ---\n${result.console}`);
  }
  return b;
}

/** A fact of boot `n`; fails naming it when the scenario did not record it. */
function fact(n: number, key: string): string {
  const b = boot(n);
  const v = b.facts[key];
  if (v === undefined) throw new Error(`Boot ${n} recorded no '${key}'. Its scenario's output:\n${lastLines(b.log, 40)}`);
  return v;
}

function checked(what: string): void {
  console.log(`vm: checked ${what}`);
}

describe("boot 1", () => {
  test("dpkg -i of the .deb on the bare image puts podunit in place", () => {
    expect(fact(1, "deb_install_rc"), `dpkg -i failed:\n${section(boot(1).log, "== installing", "== vmlimit")}`).toBe("0");
    checked("'dpkg -i podunit.deb' exited 0");
    expect(fact(1, "deb_status")).toBe("install ok installed");
    expect(fact(1, "podunit_path")).toBe("/usr/bin/podunit");
    expect(fact(1, "generator_link")).toBe("../../../bin/podunit");
    checked(`the package is installed: podunit is /usr/bin/podunit, the generator link points at it (${fact(1, "podunit_version")})`);
    // Debian 12 merges /lib into /usr/lib; systemd names the unit directory it found first.
    expect(fact(1, "slice_fragment")).toMatch(/^(\/usr)?\/lib\/systemd\/system\/podunit\.slice$/);
    checked("systemd knows podunit.slice from the package (postinst reloaded it)");
  });

  test("the guest runs pure cgroup v2 with the memory controller, has no network device and booted clean", () => {
    expect(fact(1, "cgroup_fs")).toBe("cgroup2fs");
    checked("stat -fc %T /sys/fs/cgroup = cgroup2fs");
    expect(fact(1, "controllers").split(" ")).toEqual(expect.arrayContaining(["memory", "cpu", "pids"]));
    checked(`cgroup.controllers has memory, cpu, pids (${fact(1, "controllers")})`);
    expect(fact(1, "links")).toBe("lo");
    checked("the only network link is lo");
    expect(fact(1, "failed_units")).toBe("");
    checked(`no failed units before the test (${fact(1, "systemd")}, kernel ${fact(1, "kernel")})`);
  });

  test("podunit start: a member's memory limit is its cgroup's memory.max, and the kernel OOM-kills past it", () => {
    expect(fact(1, "limit_start_rc")).toBe("0");
    checked("'podunit start vmlimit' exited 0");
    expect(Number(fact(1, "limit_hog_memory_max"))).toBe(32 * MiB);
    checked(`memory.max of ${fact(1, "limit_hog_cgroup")} = ${32 * MiB} (32M)`);
    expect(Number(fact(1, "limit_slice_memory_max"))).toBe(128 * MiB);
    checked(`memory.max of the pod's slice = ${128 * MiB} (128M)`);
    expect(Number(fact(1, "limit_oom_kill_before"))).toBe(0);
    expect(Number(fact(1, "limit_oom_kill_after"))).toBeGreaterThanOrEqual(1);
    checked(`the slice's memory.events oom_kill went from 0 to ${fact(1, "limit_oom_kill_after")} once the hog allocated`);
    expect(fact(1, "limit_hog_result")).toBe("oom-kill");
    expect(fact(1, "limit_hog_state")).toBe("failed");
    checked("systemd saw the OOM kill in the member's cgroup: the hog failed with result 'oom-kill'");
    expect(fact(1, "limit_steady_state")).toBe("active");
    checked("the pod's other member kept running");
    expect(fact(1, "limit_stop_rc")).toBe("0");
    expect(fact(1, "limit_leftovers")).toBe("");
    checked("'podunit stop vmlimit' exited 0 and left no unit, cgroup, run directory or mount");
  });

  const runcPods = [
    { pod: "vmrootfs", what: "a member with a busybox root file system (runc)", memoryMax: 64 * MiB },
    { pod: "vmrunc", what: "the runc sandbox", memoryMax: 24 * MiB },
    { pod: "vmcrun", what: "the crun sandbox and a rootfs member under crun", memoryMax: 64 * MiB },
  ];
  for (const { pod, what, memoryMax } of runcPods) {
    test(`podunit start/stop of a pod with ${what} works and leaves nothing behind`, () => {
      const why = `\n--- boot 1 scenario ---\n${section(boot(1).log, `== ${pod}:`, "== ")}`;
      expect(fact(1, `${pod}_start_rc`), `'podunit start ${pod}' failed${why}`).toBe("0");
      checked(`'podunit start ${pod}' exited 0`);
      expect(fact(1, `${pod}_member_state`)).toBe("active");
      expect(Number(fact(1, `${pod}_member_memory_max`))).toBe(memoryMax);
      checked(`its member is active, memory.max = ${memoryMax}`);
      expect(fact(1, `${pod}_stop_rc`), `'podunit stop ${pod}' failed${why}`).toBe("0");
      expect(fact(1, `${pod}_leftovers`), `'podunit stop ${pod}' left things behind${why}`).toBe("");
      checked(`'podunit stop ${pod}' exited 0 and left no unit, cgroup, run directory, mount or crun or runc container`);
    });
  }

  test("podunit enable --now starts a boot-time pod", () => {
    const err = fact(1, "enable_error");
    if (/Unknown command 'enable'/.test(err)) throw new Error(`podunit enable not available: this build says ${err}`);
    expect(fact(1, "enable_rc"), `'podunit enable --now vmboot' failed: ${err}`).toBe("0");
    checked("'podunit enable --now vmboot' exited 0");
    expect(fact(1, "boot1_target_state")).toBe("active");
    expect(fact(1, "boot1_idle_state")).toBe("active");
    checked("podunit-vmboot.target and its member are active");
    expect(boot(1).next).toBe("reboot");
  });
});

describe("boot 2, after systemctl reboot", () => {
  test("the guest really rebooted: the kernel restarted, and a new boot id on the same disk", () => {
    const [one, two] = [boot(1), boot(2)];
    expect(one.ended).toBe("reboot");
    checked("boot 1 ended in the kernel's 'reboot: Restarting system' (systemctl reboot)");
    expect(two.bootId).not.toBe("");
    expect(two.bootId).not.toBe(one.bootId);
    checked(`boot ids differ (${one.bootId} → ${two.bootId})`);
    expect(fact(2, "cgroup_fs")).toBe("cgroup2fs");
    checked("still cgroup2fs");
    expect(two.ended).toBe("poweroff");
    checked("boot 2 ended in a power-off");
  });

  const bootPods = [
    { pod: "vmboot", how: "enabled by 'podunit enable --now' before the reboot", memoryMax: 48 * MiB },
    { pod: "vmgen", how: "made by the generator from its spec alone", memoryMax: 40 * MiB },
  ];
  for (const { pod, how, memoryMax } of bootPods) {
    test(`the pod ${how} is running, started during boot`, () => {
      const why = `\n--- boot 2 scenario ---\n${section(boot(2).log, `== ${pod} `, "== ")}`;
      const target = `podunit-${pod}.target`;
      expect(fact(2, `${pod}_target_load`), `${target} does not exist after the reboot${why}`).toBe("loaded");
      expect(fact(2, `${pod}_target_state`), `${target} is not active after the reboot${why}`).toBe("active");
      checked(`${target} is active (${fact(2, `${pod}_target_fragment`)}, unit file state '${fact(2, `${pod}_target_unit_file_state`)}')`);
      expect(fact(2, `${pod}_target_wanted_by`).split(" ")).toContain("multi-user.target");
      checked("multi-user.target wants it");
      const since = Number(fact(2, `${pod}_target_active_since`));
      expect(since).toBeGreaterThan(0);
      expect(since).toBeLessThan(Number(fact(2, "runner_started")));
      checked("it was active before the test's own unit started: the boot started it");
      expect(fact(2, `${pod}_sandbox_state`)).toBe("active");
      expect(fact(2, `${pod}_member_state`)).toBe("active");
      expect(Number(fact(2, `${pod}_member_memory_max`))).toBe(memoryMax);
      checked(`its sandbox and member are active, the member's memory.max = ${memoryMax}`);
      expect(fact(2, `${pod}_status_rc`)).toBe("0");
      checked(`'podunit status ${pod}' exited 0`);
    });
  }

  test("a persistent volume's data written before the reboot is there after it; its tmpfs volume is mounted again", () => {
    expect(fact(1, "volume_write_rc")).toBe("0");
    expect(fact(2, "vmboot_volume_data")).toBe("written in boot 1");
    checked("the member of 'vmboot' reads after the reboot what it wrote into its persistent volume before it");
    expect(fact(2, "vmboot_volume_mode")).toBe("700");
    expect(fact(2, "vmboot_volume_mem")).toBe("tmpfs");
    checked("the tmpfs volume is mounted again by the sandbox's ExecStartPre during boot");
  });

  test("the bridged pod enabled before the reboot answers on its published port after it", () => {
    const why = `\n--- boot 1 ---\n${section(boot(1).log, "== vmnet", "== ")}\n--- boot 2 ---\n${section(boot(2).log, "== vmnet", "== ")}`;
    expect(fact(1, "vmnet_enable_rc"), `'podunit enable --now vmnet' failed${why}`).toBe("0");
    checked("'podunit enable --now vmnet' exited 0 before the reboot");
    expect(fact(2, "vmnet_target_state"), `podunit-vmnet.target is not active after the reboot${why}`).toBe("active");
    expect(Number(fact(2, "vmnet_target_active_since"))).toBeLessThan(Number(fact(2, "runner_started")));
    checked("podunit-vmnet.target is active, started by the boot");
    const address = fact(2, "vmnet_address");
    expect(address, `no address in 'podunit status vmnet --json'${why}`).toMatch(/^10\.123\.\d+\.\d+$/);
    checked(`the pod has ${address} on the bridge (${fact(2, "vmnet_bridge_address")})`);
    expect(fact(2, "vmnet_http_loopback"), `no answer at 127.0.0.1:8080${why}`).toBe("hello-vmnet");
    checked("127.0.0.1:8080 answers with the pod's page");
    expect(fact(2, "vmnet_bridge_address")).toMatch(/^10\.123\.\d+\.\d+$/);
    expect(fact(2, "vmnet_http_bridge"), `no answer at the bridge's address${why}`).toBe("hello-vmnet");
    checked(`${fact(2, "vmnet_bridge_address")}:8080 (the VM's bridge address) answers too`);
  });

  test("apt-get remove podunit removes the package's files and leaves the specs", () => {
    expect(fact(2, "remove_rc"), `apt-get remove failed:\n${section(boot(2).log, "== apt-get remove", "== end")}`).toBe("0");
    checked("'apt-get remove -y podunit' exited 0");
    expect(fact(2, "remove_status")).not.toBe("install ok installed");
    expect(Number(fact(2, "package_files"))).toBeGreaterThan(5);
    expect(fact(2, "package_files_left")).toBe("");
    checked(`none of the package's ${fact(2, "package_files")} files and links is left`);
    expect(fact(2, "specs_left")).toContain("vmgen.toml");
    checked(`/etc/podunit/pods keeps its specs (${fact(2, "specs_left")})`);
  });

  test("the generator's message about a broken spec is in the boot's journal, and the broken pod has no units", () => {
    const messages = fact(2, "generator_messages");
    expect(messages, "no line from podunit-generator in this boot's journal").toContain("/etc/podunit/pods/vmbad.toml");
    expect(messages).toContain("memory_max");
    checked(`journalctl -b -t podunit-generator: ${messages}`);
    expect(fact(2, "vmbad_target_load")).toBe("not-found");
    checked("podunit-vmbad.target does not exist");
  });
});

/** The lines of `text` from the line starting with `from` up to the one starting with `to`. */
function section(text: string, from: string, to: string): string {
  const lines = text.split("\n");
  const a = lines.findIndex((l) => l.startsWith(from));
  const b = lines.findIndex((l, i) => i > a && l.startsWith(to));
  return lines.slice(Math.max(a, 0), b < 0 ? undefined : b).join("\n");
}
