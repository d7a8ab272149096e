/**
 * The test lab: a throw-away real systemd (PID 1 of its own pid, mount, uts,
 * ipc, cgroup and network namespaces) with its own D-Bus system bus and
 * journald. Tests boot one per suite, run podunit inside it, and shut it down.
 *
 * Teardown is synchronous so it also runs from an exit or signal handler; the
 * launcher carries PR_SET_PDEATHSIG, so a test runner that dies outright takes
 * the lab with it, and the next boot removes empty cgroups left from such a run.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const HERE = import.meta.dir;
/** The checkout, bound read-only into every lab at the same path. */
export const REPO = resolve(HERE, "../..");
const SIGRTMIN_PLUS_4 = 38; // systemd: power off

export type CgroupMode = "legacy" | "hybrid" | "unified";

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  stdin?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** The host's cgroup layout, as the lab will see it too. */
export function hostCgroupMode(): CgroupMode {
  const top = Bun.spawnSync(["stat", "-fc", "%T", "/sys/fs/cgroup"]).stdout.toString().trim();
  if (top === "cgroup2fs") return "unified";
  return existsSync("/sys/fs/cgroup/unified/cgroup.controllers") ? "hybrid" : "legacy";
}

/** What cannot be checked in a cgroup mode (said in test output, never faked). */
export function uncheckable(mode: CgroupMode): string[] {
  if (mode === "unified") return [];
  return [
    "MemoryHigh/MemoryLow/MemorySwapMax (cgroup v2 only)",
    "CPU usage accounting (cpu and cpuacct are separate v1 hierarchies)",
    "IO limits",
  ];
}

/** Labs that are up, so an interrupted run still tears them down. */
const live = new Set<Lab>();
for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  process.on(sig, () => {
    for (const lab of live) lab.shutdown();
    process.exit(code);
  });
}

export class Lab {
  private down = false;
  private readonly onExit = () => this.shutdown();

  private constructor(
    readonly name: string,
    readonly dir: string,
    /** Host PID of the launcher (unshare). */
    readonly launcherPid: number,
    /** Host PID of the lab's systemd. */
    readonly pid: number,
    readonly cgroupMode: CgroupMode,
  ) {
    process.on("exit", this.onExit);
    live.add(this);
  }

  /** The lab's bus, reachable from the host. */
  get busAddress(): string {
    return `unix:path=${this.dir}/dbus/system_bus_socket`;
  }

  /** A host directory seen inside the lab as /srv/lab. */
  get shareDir(): string {
    return join(this.dir, "share");
  }

  /** Boots a lab and waits until its systemd is running; throws with the reason otherwise. */
  static async boot(name: string, opts: { binds?: string[]; timeoutMs?: number } = {}): Promise<Lab> {
    if (process.getuid?.() !== 0) throw new Error("The test lab needs root (it creates namespaces, cgroups and mounts).");
    removeStaleCgroups();
    // The directory's name is also the lab's cgroup name: unique, and tagged with the
    // test run that owns it (PODUNIT_LAB_TAG, set by test/run.ts) so parallel runs
    // can tell their labs apart.
    const tag = process.env.PODUNIT_LAB_TAG ? `${process.env.PODUNIT_LAB_TAG}-` : "";
    const dir = mkdtempSync(join(tmpdir(), `podunit-lab-${tag}${name}-`));
    const binds = [`${REPO}:${REPO}:ro`, ...(opts.binds ?? [])];
    const log = Bun.file(join(dir, "launch.log"));
    const proc = Bun.spawn(["setpriv", "--pdeathsig", "KILL", "--", "bash", join(HERE, "launch.sh"), dir, name, ...binds], {
      stdin: "ignore",
      stdout: log,
      stderr: log,
    });
    const mode = hostCgroupMode();
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    let pid = 0;
    let lab: Lab | undefined;
    try {
      while (Date.now() < deadline) {
        if (proc.exitCode !== null) throw new Error(`the lab's launcher exited with status ${proc.exitCode}`);
        if (!pid) {
          pid = childOf(proc.pid) ?? 0;
          if (pid) {
            writeFileSync(join(dir, "pid"), `${pid}\n`);
            lab = new Lab(name, dir, proc.pid, pid, mode);
          }
        }
        if (lab) {
          const state = lab.systemState();
          if (state === "running" || state === "degraded") return lab;
        }
        await Bun.sleep(50);
      }
      throw new Error(`systemd did not reach 'running' within ${(opts.timeoutMs ?? 30_000) / 1000} s`);
    } catch (err) {
      const console = tail(join(dir, "console.log"), 30);
      const launch = tail(join(dir, "launch.log"), 30);
      if (lab) lab.shutdown();
      else {
        tryKill(proc.pid, 9);
        waitGone(proc.pid, 5000);
        removeLabCgroups(dir);
        rmSync(dir, { recursive: true, force: true });
      }
      throw new Error(
        `The test lab '${name}' did not boot: ${(err as Error).message}\n--- launcher ---\n${launch}\n--- console ---\n${console}`,
      );
    }
  }

  /** SystemState over the lab's bus, or null when the bus does not answer yet. */
  systemState(): string | null {
    if (!existsSync(`${this.dir}/dbus/system_bus_socket`)) return null;
    const r = Bun.spawnSync(
      ["busctl", `--address=${this.busAddress}`, "--timeout=2", "get-property", "org.freedesktop.systemd1",
        "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "SystemState"],
      { stdout: "pipe", stderr: "pipe" },
    );
    if (r.exitCode !== 0) return null;
    const m = /"(\w+)"/.exec(r.stdout.toString());
    return m ? m[1]! : null;
  }

  /** Runs a command inside the lab (all its namespaces, its root cgroup). */
  async run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    const env = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", ...opts.env };
    const proc = Bun.spawn(["bash", join(HERE, "enter.sh"), this.dir, ...argv], {
      stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
      stdout: "pipe",
      stderr: "pipe",
      env,
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    const [stdout, stderr, status] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    clearTimeout(timer);
    return { status, stdout, stderr };
  }

  /** Like run, but throws with the output when the command fails. */
  async sh(argv: string[], opts: RunOptions = {}): Promise<string> {
    const r = await this.run(argv, opts);
    if (r.status !== 0) throw new Error(`'${argv.join(" ")}' in the lab exited ${r.status}:\n${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** Powers the lab off (SIGKILL after 5 s), then removes its cgroups and directory. Idempotent. */
  shutdown(): void {
    if (this.down) return;
    this.down = true;
    live.delete(this);
    process.removeListener("exit", this.onExit);
    tryKill(this.pid, SIGRTMIN_PLUS_4);
    waitGone(this.pid, 5000);
    tryKill(this.pid, 9);
    tryKill(this.launcherPid, 9);
    waitGone(this.pid, 5000);
    waitGone(this.launcherPid, 5000);
    removeLabCgroups(this.dir);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The child of the launcher once it has become unshare (before that, its children are set-up commands). */
function childOf(pid: number): number | undefined {
  try {
    if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "unshare") return undefined;
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return kids ? Number(kids.split(/\s+/)[0]) : undefined;
  } catch {
    return undefined;
  }
}

function tryKill(pid: number, sig: number): void {
  try {
    process.kill(pid, sig);
  } catch {}
}

function waitGone(pid: number, ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1] ?? "";
    } catch {
      return; // gone (reaped between two reads, or before the first)
    }
    if (stat.startsWith("Z")) return; // exited, waiting to be reaped by its parent
    Bun.sleepSync(20);
  }
}

function tail(file: string, n: number): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-n).join("\n");
  } catch {
    return "(none)";
  }
}

/** Kills whatever is left in a lab's cgroups, then removes them deepest first. */
function removeLabCgroups(dir: string): void {
  let roots: string[] = [];
  try {
    roots = readFileSync(join(dir, "cgroups"), "utf8").split("\n").filter(Boolean);
  } catch {
    return;
  }
  removeCgroupTrees(roots);
}

function removeCgroupTrees(roots: string[]): void {
  for (let attempt = 0; attempt < 50; attempt++) {
    let left = 0;
    for (const root of roots) {
      for (const cg of subtree(root).reverse()) {
        try {
          for (const p of readFileSync(join(cg, "cgroup.procs"), "utf8").split("\n").filter(Boolean)) tryKill(Number(p), 9);
          rmdirSync(cg);
        } catch (err) {
          if ((err as { code?: string }).code !== "ENOENT") left++;
        }
      }
    }
    if (left === 0) return;
    Bun.sleepSync(50);
  }
}

/** A cgroup directory and all below it, parents first. */
function subtree(root: string): string[] {
  if (!existsSync(root)) return [];
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    let names: string[] = [];
    try {
      names = readdirSync(out[i]!);
    } catch {}
    for (const n of names) {
      const p = join(out[i]!, n);
      try {
        if (statSync(p).isDirectory()) out.push(p);
      } catch {}
    }
  }
  return out;
}

/** Removes `podunit-lab-*` cgroups below this process's cgroups whose lab directory is gone (a killed run's). */
function removeStaleCgroups(): void {
  const roots: string[] = [];
  for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n").filter(Boolean)) {
    const [, ctl, path] = line.split(":") as [string, string, string];
    const name = ctl === "" ? "unified" : ctl.replace(/^name=/, "");
    const base = hostCgroupMode() === "unified" ? join("/sys/fs/cgroup", path) : join("/sys/fs/cgroup", name, path);
    let kids: string[] = [];
    try {
      kids = readdirSync(base).filter((k) => k.startsWith("podunit-lab-"));
    } catch {}
    for (const k of kids) {
      if (existsSync(join(tmpdir(), k))) continue; // a lab that is up, or booting
      const cg = join(base, k);
      const busy = subtree(cg).some((c) => {
        try {
          return readFileSync(join(c, "cgroup.procs"), "utf8").trim() !== "";
        } catch {
          return false;
        }
      });
      if (!busy) roots.push(cg);
    }
  }
  removeCgroupTrees(roots);
}
