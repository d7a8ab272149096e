/**
 * The second test lab: a small virtual machine with pure cgroup v2 that can
 * really reboot. QEMU runs Debian's kernel and a bookworm root file system
 * (test/vm/image.sh, cached between runs) on a throw-away copy-on-write overlay,
 * with no network device at all. A host directory shared over 9p carries the
 * scenario in (`in/`) and its results out (`out/`); in the guest,
 * podunit-vm-run.service runs `in/scenario BOOT OUT` once per boot, then reboots
 * when the scenario asks for it and powers off otherwise (guest/usr/local/lib/podunit-vm/run);
 * a reboot ends the QEMU process, and the host powers the same disk on again.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const HERE = import.meta.dir;

export interface VmImage {
  /** The cache directory holding vmlinuz, initrd.img, rootfs.img and manifest. */
  dir: string;
  /** Lines of its manifest (key, kernel, packages, build_seconds, ...). */
  manifest: Record<string, string>;
  /** Whether this call built it (false: it was in the cache). */
  built: boolean;
  /** How long this call took, in seconds (building, or finding it). */
  seconds: number;
}

/** Builds the VM image or finds it in the cache; throws with the build's output when that fails. */
export async function ensureImage(): Promise<VmImage> {
  const started = performance.now();
  const proc = Bun.spawn(["bash", join(HERE, "image.sh")], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let errText = "";
  const decoder = new TextDecoder();
  const errDone = (async () => {
    for await (const chunk of proc.stderr) {
      const s = decoder.decode(chunk);
      errText += s;
      process.stderr.write(s);
    }
  })();
  const [out, status] = await Promise.all([new Response(proc.stdout).text(), proc.exited, errDone]);
  const seconds = (performance.now() - started) / 1000;
  const dir = out.trim().split("\n").pop() ?? "";
  if (status !== 0 || !existsSync(join(dir, "done"))) {
    throw new Error(`Failed to build the VM image (test/vm/image.sh exited ${status}):\n${lastLines(errText, 40)}`);
  }
  return { dir, manifest: keyValues(readFileSync(join(dir, "manifest"), "utf8")), built: errText.includes("image.sh: built "), seconds };
}

/** One boot of the guest, as the shared directory recorded it. */
export interface Boot {
  n: number;
  /** Seconds from power-on until the scenario started, seen from the host. */
  seconds: number;
  /** The kernel's boot id, new on every boot. */
  bootId: string;
  /** The scenario's exit code; undefined when it never finished. */
  status: number | undefined;
  /** What the scenario recorded (out/boot-N.facts). */
  facts: Record<string, string>;
  /** Its output (out/boot-N.log). */
  log: string;
  /** What it asked for next ("reboot", or "" to power off). */
  next: string;
  /** How the kernel ended this boot, from its console: "reboot", "poweroff" or neither. */
  ended: string;
}

export interface VmResult {
  boots: Boot[];
  /** The last QEMU's exit status (null when it was killed). */
  qemuStatus: number | null;
  /** Why the run ended before the guest powered off by itself; undefined when it did. */
  error?: string;
  /** The last lines of the last boot's serial console. */
  console: string;
  /** How the guest ran: "tcg" or "kvm". */
  accel: string;
  /** Seconds from the first power-on until the last QEMU exited. */
  seconds: number;
}

export interface RunOptions {
  /** Powers on at most this many times (the guest stops asking for reboots after 3 boots itself). */
  maxBoots?: number;
  /** How long one boot may take until its scenario starts. */
  bootTimeoutMs?: number;
  /** How long one boot's scenario may run. */
  scenarioTimeoutMs?: number;
  /** How long the guest may take to power off after its last scenario. */
  poweroffTimeoutMs?: number;
}

/** Whether this CPU can run KVM guests (hardware virtualization flags; /dev/kvm alone proves nothing). */
export function canUseKvm(): boolean {
  if (process.env.PODUNIT_VM_ACCEL === "tcg") return false;
  if (!existsSync("/dev/kvm")) return false;
  return /^flags\s*:.*\b(vmx|svm)\b/m.test(readFileSync("/proc/cpuinfo", "utf8"));
}

/** VMs that are running, so an interrupted test run still kills them. */
const live = new Set<Vm>();
for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  process.on(sig, () => {
    for (const vm of live) vm.destroy();
    process.exit(code);
  });
}
process.on("exit", () => {
  for (const vm of live) vm.destroy();
});

export class Vm {
  private proc: ReturnType<typeof Bun.spawn> | undefined;
  private destroyed = false;

  private constructor(
    readonly image: VmImage,
    /** The run's directory: overlay.qcow2, console-N.log and qemu-N.log per boot, share/{in,out}. */
    readonly dir: string,
  ) {
    live.add(this);
  }

  /** Makes a run directory with a fresh overlay over the cached image; put the scenario's files in `inDir`. */
  static async create(image: VmImage, name: string): Promise<Vm> {
    const tag = process.env.PODUNIT_LAB_TAG ? `${process.env.PODUNIT_LAB_TAG}-` : "";
    const dir = mkdtempSync(join(tmpdir(), `podunit-vm-${tag}${name}-`));
    const vm = new Vm(image, dir);
    mkdirSync(vm.inDir, { recursive: true });
    mkdirSync(vm.outDir, { recursive: true });
    const r = Bun.spawnSync(
      ["qemu-img", "create", "-q", "-f", "qcow2", "-b", join(image.dir, "rootfs.img"), "-F", "raw", join(dir, "overlay.qcow2")],
      { stdout: "pipe", stderr: "pipe" },
    );
    if (r.exitCode !== 0) {
      vm.destroy();
      throw new Error(`Failed to create the VM's overlay (qemu-img exited ${r.exitCode}): ${r.stderr.toString()}`);
    }
    return vm;
  }

  /** Seen in the guest as /srv/vm/in. */
  get inDir(): string {
    return join(this.dir, "share/in");
  }

  /** Seen in the guest as /srv/vm/out. */
  get outDir(): string {
    return join(this.dir, "share/out");
  }

  /** QEMU's command line: no network device, the overlay, the shared directory, the serial console to a file. */
  qemuArgv(consoleLog: string): string[] {
    const kvm = canUseKvm();
    const img = this.image.dir;
    const cmdline = ["console=ttyS0", "root=/dev/vda", "rw", "systemd.unified_cgroup_hierarchy=1", "systemd.show_status=auto"];
    // More kernel arguments for looking into a boot, e.g. PODUNIT_VM_APPEND=systemd.log_level=debug.
    if (process.env.PODUNIT_VM_APPEND) cmdline.push(...process.env.PODUNIT_VM_APPEND.split(/\s+/).filter(Boolean));
    return [
      "qemu-system-x86_64",
      "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none", "-no-reboot",
      "-machine", "pc",
      ...(kvm ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg,thread=multi", "-cpu", "max"]),
      "-smp", String(Math.min(2, navigator.hardwareConcurrency || 1)),
      "-m", "1536",
      "-kernel", join(img, "vmlinuz"), "-initrd", join(img, "initrd.img"), "-append", cmdline.join(" "),
      "-drive", `file=${join(this.dir, "overlay.qcow2")},format=qcow2,if=virtio,cache=unsafe`,
      "-virtfs", `local,path=${join(this.dir, "share")},mount_tag=podunit-vm,security_model=none,id=share`,
      "-device", "virtio-rng-pci",
      "-nic", "none",
      "-serial", `file:${consoleLog}`,
    ];
  }

  /**
   * Powers the guest on and follows each boot by the markers in the shared
   * directory. QEMU runs with -no-reboot: when the guest reboots (systemd's whole
   * reboot path, down to the kernel's restart), QEMU exits, and when the scenario
   * asked for that reboot, the same disk is powered on again for the next boot.
   * Past a bound, QEMU is killed and the result says why.
   */
  async run(opts: RunOptions = {}): Promise<VmResult> {
    const maxBoots = opts.maxBoots ?? 2;
    const started = performance.now();
    const boots: Boot[] = [];
    let error: string | undefined;
    let qemuStatus: number | null = null;
    for (let n = 1; n <= maxBoots; n++) {
      const one = await this.boot(n, opts);
      qemuStatus = one.qemuStatus;
      boots.push(this.recorded(n, one.seconds));
      if (one.error) {
        error = one.error;
        break;
      }
      const b = boots[n - 1]!;
      if (b.next !== "reboot") break;
      if (b.ended !== "reboot") {
        error = `boot ${n} asked for a reboot, but the guest's kernel did not restart (console: ${b.ended})`;
        break;
      }
    }
    return {
      boots,
      qemuStatus,
      error,
      console: lastLines(readText(join(this.dir, `console-${boots.length || 1}.log`)), 60),
      accel: canUseKvm() ? "kvm" : "tcg",
      seconds: (performance.now() - started) / 1000,
    };
  }

  /** One power-on: boot `n`, its scenario, until QEMU exits. */
  private async boot(n: number, opts: RunOptions): Promise<{ seconds: number; qemuStatus: number | null; error?: string }> {
    const bootTimeout = opts.bootTimeoutMs ?? 300_000;
    const scenarioTimeout = opts.scenarioTimeoutMs ?? 960_000; // the guest stops its scenario after 900 s
    const poweroffTimeout = opts.poweroffTimeoutMs ?? 120_000;
    const log = Bun.file(join(this.dir, `qemu-${n}.log`));
    // The image stays in the cache while a run holds this shared lock (image.sh prunes only unlocked images).
    const lock = ["flock", "--shared", "--no-fork", join(this.image.dir, "in-use")];
    const argv = ["setpriv", "--pdeathsig", "KILL", "--", ...lock, ...this.qemuArgv(join(this.dir, `console-${n}.log`))];
    const proc = Bun.spawn(argv, { stdin: "ignore", stdout: log, stderr: log });
    this.proc = proc;
    const out = (f: string) => join(this.outDir, f);
    let phaseStart = performance.now();
    let phase: "booting" | "running" | "shutting down" = "booting";
    let seconds = NaN;
    let error: string | undefined;
    while (proc.exitCode === null && proc.signalCode === null) {
      const now = performance.now();
      if (phase === "booting" && existsSync(out(`boot-${n}.started`))) {
        seconds = (now - phaseStart) / 1000;
        [phase, phaseStart] = ["running", now];
      } else if (phase === "running" && existsSync(out(`boot-${n}.rc`))) {
        [phase, phaseStart] = ["shutting down", now];
      }
      const limit = phase === "booting" ? bootTimeout : phase === "running" ? scenarioTimeout : poweroffTimeout;
      if (now - phaseStart > limit) {
        const what = { booting: "did not reach its scenario", running: "did not finish its scenario", "shutting down": "did not shut down" }[phase];
        error = `boot ${n} ${what} within ${limit / 1000} s`;
        proc.kill("SIGKILL");
        break;
      }
      await Bun.sleep(200);
    }
    const status = await proc.exited;
    this.proc = undefined;
    if (!error && !existsSync(out(`boot-${n}.rc`))) {
      error = `QEMU exited (status ${status}) before boot ${n}'s scenario finished\n--- qemu ---\n${lastLines(readText(join(this.dir, `qemu-${n}.log`)), 20)}`;
    }
    return { seconds, qemuStatus: proc.signalCode ? null : status, error };
  }

  /** What boot `n` left in the shared directory and on its console. */
  private recorded(n: number, seconds: number): Boot {
    const out = (f: string) => join(this.outDir, f);
    const rc = readText(out(`boot-${n}.rc`)).trim();
    const text = readText(join(this.dir, `console-${n}.log`));
    const ended = /reboot: Restarting system/.test(text) ? "reboot" : /reboot: Power down/.test(text) ? "poweroff" : "neither reboot nor power-off";
    return {
      n,
      seconds,
      bootId: keyValues(readText(out(`boot-${n}.started`))).boot_id ?? "",
      status: rc === "" ? undefined : Number(rc),
      facts: keyValues(readText(out(`boot-${n}.facts`))),
      log: readText(out(`boot-${n}.log`)),
      next: readText(out(`boot-${n}.next`)).trim(),
      ended,
    };
  }

  /** Kills QEMU if it still runs and removes the run directory (kept when PODUNIT_VM_KEEP is set). Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      try {
        process.kill(proc.pid, "SIGKILL");
      } catch {}
      const end = Date.now() + 5000;
      while (existsSync(`/proc/${proc.pid}`) && !isZombie(proc.pid) && Date.now() < end) Bun.sleepSync(20);
    }
    if (process.env.PODUNIT_VM_KEEP) process.stderr.write(`vm: kept ${this.dir}\n`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Disk space the cache holds, in bytes actually allocated (the image is sparse). */
export function allocatedBytes(path: string): number {
  const r = Bun.spawnSync(["du", "-s", "--block-size=1", path], { stdout: "pipe", stderr: "ignore" });
  return Number(r.stdout.toString().split(/\s/)[0] ?? 0);
}

/** `key=value` lines to a record (later lines win). */
export function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

function readText(file: string): string {
  try {
    return statSync(file).isFile() ? readFileSync(file, "utf8") : "";
  } catch {
    return "";
  }
}

function isZombie(pid: number): boolean {
  try {
    return (readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1] ?? "").startsWith("Z");
  } catch {
    return true;
  }
}

export function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}
