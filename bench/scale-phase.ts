/**
 * The scale phase, inside a lab: SCALE pods (a sandbox and two `sleep` host
 * members, native backend) started one after the other and kept running; with
 * all of them up, `podunit list` and `podunit status` (and their `--json`);
 * then every pod stopped and what is left checked. The same pods made by
 * systemd-run (the floor) follow, in the same lab. bench/driver.ts runs it as
 * part of the pod benchmark, bench/scale.ts alone (through bench/scale-lab.ts).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";

export interface ScaleOptions {
  /** The podunit binary. */
  podunit: string;
  /** Where the pods' specs are written (PODUNIT_SPEC_DIR). */
  specDir: string;
  pods: number;
  /** Phase marks (PODUNIT_TRACE=1) of the first and last `traced` starts are kept. */
  traced?: number;
  /** Another podunit binary (an earlier build) whose list and status are timed too, alternating with `podunit`'s. */
  baseline?: string;
}

export interface ScaleResult {
  pods: number;
  /** ms per start, in order. */
  starts: number[];
  stops: number[];
  floorStarts: number[];
  floorStops: number[];
  /** The lab's memory cgroup growth with every pod running. */
  memoryGrowthBytes: number;
  floorMemoryGrowthBytes: number;
  /** Medians of 5, ms, with every pod running. */
  listMs: number;
  listJsonMs: number;
  statusMs: number;
  statusJsonMs: number;
  /**
   * systemd's own cost of one service, no pod involved: `systemd-run --wait /bin/true`
   * (a transient service, one fork of PID 1, its exit reaped), median of 11, ms,
   * before the first pod and with every pod running.
   */
  oneUnitMs: { before: number; after: number };
  /** Median of 5, ms: `systemctl list-units 'podunit-*'`, systemd's own answer for the same units. */
  systemctlListMs: number;
  /** The same four with the baseline binary, when there is one (medians of 5, alternating with the ones above). */
  baselineMs?: { list: number; listJson: number; status: number; statusJson: number };
  residentPodunit: string;
  /**
   * CPU time (ms) that systemd (PID 1), dbus-daemon and journald spent per start
   * during the first and last `traced` starts, for podunit and the floor.
   */
  daemonCpu: Record<"podunit" | "floor", Record<"first" | "last", Record<string, number>>>;
  /** Phase marks of the first and last starts, by label: ms since the previous mark. */
  traces: { first: Record<string, number[]>; last: Record<string, number[]> };
  /** What was left after every pod was stopped (empty when nothing). */
  leftovers: string[];
  floorLeftovers: string[];
}

const OUT = "/run/bench-scale-out";
const ERR = "/run/bench-scale-err";

function run(argv: string[], env: Record<string, string>): { out: string; err: string } {
  rmSync(OUT, { force: true });
  rmSync(ERR, { force: true });
  const r = Bun.spawnSync(argv, { env, stdout: Bun.file(OUT), stderr: Bun.file(ERR), stdin: "ignore" });
  const out = readFileSync(OUT, "utf8");
  const err = readFileSync(ERR, "utf8");
  if (r.exitCode !== 0) throw new Error(`'${argv.join(" ")}' exited ${r.exitCode}: ${err}${out}`);
  return { out, err };
}

function timed(argv: string[], env: Record<string, string>): { ms: number; err: string } {
  const t0 = Bun.nanoseconds();
  const { err } = run(argv, env);
  return { ms: (Bun.nanoseconds() - t0) / 1e6, err };
}

/** Directories directly below `dir` (none when it is missing) whose names start with `prefix`. */
function subdirs(dir: string, prefix = ""): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name.startsWith(prefix)).map((e) => `${dir}/${e.name}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function until(what: string, ok: () => boolean, ms = 10_000): void {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    Bun.sleepSync(5);
  }
}

/** The lab's memory use (its root memory cgroup), median of 5 readings. */
export function labMemory(): number {
  const v1 = "/sys/fs/cgroup/memory/memory.usage_in_bytes";
  const file = existsSync(v1) ? v1 : "/sys/fs/cgroup/memory.current";
  return median(Array.from({ length: 5 }, () => {
    Bun.sleepSync(20);
    return Number(readFileSync(file, "utf8"));
  }));
}

/** Adds the phase marks in `stderr` to `into`, the pod's name in a label replaced by POD. */
function traceMarks(stderr: string, pod: string, into: Record<string, number[]>): void {
  for (const m of stderr.matchAll(/^podunit trace: +[\d.]+ ms +\+ *([\d.]+) +(.*)$/gm)) {
    const label = m[2]!.replace(/ \([\d.]+ ms\)$/, "").replaceAll(`podunit-${pod}-`, "podunit-POD-").replaceAll(`podunit-${pod}.`, "podunit-POD.");
    (into[label] ??= []).push(Number(m[1]));
  }
}

/** Loaded units matching `unitPattern`, failed units, the cgroup directories `cgroups` finds in a hierarchy, entries of `runPath`. */
function leftovers(unitPattern: string, cgroups: (hierarchy: string) => string[], runPath?: string): string[] {
  const left: string[] = [];
  const units = Bun.spawnSync(["systemctl", "list-units", "--all", "--plain", "--no-legend", unitPattern]).stdout.toString().trim();
  if (units) left.push(`${units.split("\n").length} units loaded (${units.split("\n")[0]} ...)`);
  const failed = Bun.spawnSync(["systemctl", "list-units", "--failed", "--plain", "--no-legend"]).stdout.toString().trim();
  if (failed) left.push(`failed units: ${failed.split("\n").length}`);
  for (const h of readdirSync("/sys/fs/cgroup")) {
    const dirs = cgroups(`/sys/fs/cgroup/${h}`);
    if (dirs.length) left.push(`${dirs.length} cgroups (${dirs[0]} ...)`);
  }
  if (runPath && existsSync(runPath)) {
    // The lock directory and what all pods share (`_network`, its lock) are no pod's.
    const rest = readdirSync(runPath, { recursive: true }).map(String).filter((e) => e !== "locks" && !e.startsWith("_") && !e.startsWith("locks/_"));
    if (rest.length) left.push(`${rest.length} entries below ${runPath} (${rest.slice(0, 3).join(" ")} ...)`);
  }
  return left;
}

/** The daemons whose CPU time a start costs, by name, with their PIDs in the lab. */
function daemons(): Record<string, number> {
  const pid = (unit: string) => Number(Bun.spawnSync(["systemctl", "show", "-P", "MainPID", unit]).stdout.toString().trim());
  return { systemd: 1, "dbus-daemon": pid("dbus.service"), journald: pid("systemd-journald.service") };
}

/** utime + stime of a process, ms. */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

/** Adds each daemon's CPU time during `fn` to `into`, per call (divided by `per`). */
function daemonTime<T>(into: Record<string, number>, per: number, fn: () => T): T {
  const ds = daemons();
  const before = Object.fromEntries(Object.entries(ds).map(([n, p]) => [n, cpuMs(p)]));
  const r = fn();
  for (const [n, p] of Object.entries(ds)) into[n] = (into[n] ?? 0) + (cpuMs(p) - before[n]!) / per;
  return r;
}

function podunitProcesses(podunit: string): number[] {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/exe`) === podunit;
    } catch {
      return false;
    }
  });
}

/** The floor's pod: a sandbox scope holding the namespaces, two services joining them, made with systemd-run. */
export function floorStart(i: string, env: Record<string, string>): number {
  const t0 = Bun.nanoseconds();
  const sandbox = Bun.spawn(["systemd-run", "-q", "--scope", "--unit", `fl${i}-sandbox`, "--slice", `fl${i}.slice`, "unshare", "-n", "-i", "-u", "sleep", "600"], {
    stdout: "ignore",
    stderr: "inherit",
  });
  const self = readlinkSync("/proc/self/ns/net");
  const ns = (t: string) => `/proc/${sandbox.pid}/ns/${t}`;
  until("floor sandbox namespaces", () => {
    try {
      return readlinkSync(ns("net")) !== self && readFileSync(`/proc/${sandbox.pid}/comm`, "utf8").trim() === "sleep";
    } catch {
      return false;
    }
  });
  for (const m of ["a", "b"]) {
    run(["systemd-run", "-q", "-p", "Type=exec", "--unit", `fl${i}-${m}`, "--slice", `fl${i}.slice`,
      "-p", `NetworkNamespacePath=${ns("net")}`, "-p", `IPCNamespacePath=${ns("ipc")}`, "sleep", "600"], env);
  }
  sandbox.unref();
  return (Bun.nanoseconds() - t0) / 1e6;
}

/** Runs the scale phase; throws when a command fails. */
export function scalePhase(o: ScaleOptions): ScaleResult {
  const env = { ...process.env, PODUNIT_SPEC_DIR: o.specDir } as Record<string, string>;
  const traceEnv = { ...env, PODUNIT_TRACE: "1" };
  const traced = o.traced ?? 10;
  mkdirSync(o.specDir, { recursive: true });
  const host = `[containers.a]\ncommand = ["/bin/sleep", "600"]\n[containers.b]\ncommand = ["/bin/sleep", "600"]\n`;
  for (let i = 1; i <= o.pods; i++) writeFileSync(`${o.specDir}/s${i}.toml`, host);

  const traces = { first: {} as Record<string, number[]>, last: {} as Record<string, number[]> };
  const oneUnit = () => median(Array.from({ length: 11 }, () => timed(["systemd-run", "-q", "--wait", "-p", "Type=exec", "/bin/true"], env).ms));
  const oneUnitBefore = oneUnit();
  const m0 = labMemory();
  const starts: number[] = [];
  const daemonCpu = { podunit: { first: {}, last: {} }, floor: { first: {}, last: {} } } as ScaleResult["daemonCpu"];
  /** Which end of the run start `i` is in, if any. */
  const end = (i: number) => (i <= traced ? "first" : i > o.pods - traced ? "last" : undefined);
  for (let i = 1; i <= o.pods; i++) {
    const at = end(i);
    const start = () => timed([o.podunit, "start", `s${i}`, "--backend", "native"], traceEnv);
    const r = at ? daemonTime(daemonCpu.podunit[at], traced, start) : start();
    starts.push(r.ms);
    if (at) traceMarks(r.err, `s${i}`, traces[at]);
  }
  Bun.sleepSync(1000);
  const m1 = labMemory();
  const oneUnitMs = { before: oneUnitBefore, after: oneUnit() };
  const mid = `s${Math.ceil(o.pods / 2)}`;
  const verbs = { list: ["list"], listJson: ["list", "--json"], status: ["status", mid], statusJson: ["status", mid, "--json"] };
  const bins = o.baseline ? [o.podunit, o.baseline] : [o.podunit];
  const times = new Map(bins.map((b) => [b, { list: [] as number[], listJson: [] as number[], status: [] as number[], statusJson: [] as number[] }]));
  for (let round = 0; round < 5; round++) {
    for (const [k, args] of Object.entries(verbs) as Array<[keyof typeof verbs, string[]]>) {
      for (const b of round % 2 ? [...bins].reverse() : bins) times.get(b)![k].push(timed([b, ...args], env).ms);
    }
  }
  const med = (b: string) => {
    const t = times.get(b)!;
    return { list: median(t.list), listJson: median(t.listJson), status: median(t.status), statusJson: median(t.statusJson) };
  };
  const { list: listMs, listJson: listJsonMs, status: statusMs, statusJson: statusJsonMs } = med(o.podunit);
  const baselineMs = o.baseline ? med(o.baseline) : undefined;
  const systemctlListMs = median(Array.from({ length: 5 }, () => timed(["systemctl", "list-units", "--all", "--no-pager", "podunit-*"], env).ms));
  // What they say must be right too: every pod running with both members, and the pod asked for.
  const listed = (JSON.parse(run([o.podunit, "list", "--json"], env).out).pods as Array<{ pod: string; state: string; active: number }>)
    .filter((p) => p.state === "running" && p.active === 2).length;
  if (listed !== o.pods) throw new Error(`'podunit list' shows ${listed} running pods of ${o.pods}`);
  const st = JSON.parse(run([o.podunit, "status", mid, "--json"], env).out) as { pod: string; state: string; members: unknown[] };
  if (st.pod !== mid || st.state !== "running" || st.members.length !== 2) throw new Error(`'podunit status ${mid}' says ${JSON.stringify(st).slice(0, 200)}`);
  const residentPodunit = podunitProcesses(o.podunit).join(" ");
  const stops: number[] = [];
  for (let i = 1; i <= o.pods; i++) stops.push(timed([o.podunit, "stop", `s${i}`], env).ms);
  Bun.sleepSync(500);
  const left = leftovers("podunit-s*", (h) => subdirs(`${h}/podunit.slice`), "/run/podunit");

  // The floor at the same scale, its slices siblings in one parent as podunit's are in podunit.slice.
  const f0 = labMemory();
  const floorStarts: number[] = [];
  for (let i = 1; i <= o.pods; i++) {
    const at = end(i);
    const start = () => floorStart(`scale-${i}`, env);
    floorStarts.push(at ? daemonTime(daemonCpu.floor[at], traced, start) : start());
  }
  Bun.sleepSync(1000);
  const f1 = labMemory();
  const floorStops: number[] = [];
  for (let i = 1; i <= o.pods; i++) floorStops.push(timed(["systemctl", "stop", `flscale-${i}.slice`], env).ms);
  Bun.sleepSync(500);
  const floorLeft = leftovers("flscale-*", (h) => subdirs(h, "flscale-"));
  return {
    pods: o.pods,
    starts,
    stops,
    floorStarts,
    floorStops,
    memoryGrowthBytes: m1 - m0,
    floorMemoryGrowthBytes: f1 - f0,
    listMs,
    listJsonMs,
    statusMs,
    statusJsonMs,
    systemctlListMs,
    oneUnitMs,
    ...(baselineMs ? { baselineMs } : {}),
    residentPodunit,
    daemonCpu,
    traces,
    leftovers: left,
    floorLeftovers: floorLeft,
  };
}
