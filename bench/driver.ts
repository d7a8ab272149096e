/**
 * The pod benchmark's inside half: runs in a lab (a real systemd), starts and
 * stops the same pod with podunit, Podman and plain systemd-run, alternating the
 * tools, and writes raw figures as JSON. bench/pods.ts boots the lab, runs this
 * and prints the tables. Any failed command aborts the whole run.
 *
 *   bun bench/driver.ts OUT.json REPS SCALE_PODS
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runPlugin } from "../src/host/cni.ts";
import { mountRoot, unmountRoot } from "../src/host/rootfs.ts";
import { busyboxLayer, writeImage } from "../test/system/images-build.ts";
import { floorStart, scalePhase } from "./scale-phase.ts";

const [out, repsArg, scaleArg] = process.argv.slice(2);
const REPS = Number(repsArg ?? 20);
const WARMUP = 3;
const SCALE = Number(scaleArg ?? 100);
const REPO = join(import.meta.dir, "..");
const PODUNIT = join(REPO, "dist/podunit");
const ROOTFS = "/var/lib/podunit/rootfs/busybox";
const SPECS = "/srv/lab/pods";
const ENV = { ...process.env, PODUNIT_SPEC_DIR: SPECS } as Record<string, string>;

/** The host port the bridged pods publish (podunit's and Podman's, never at once). */
const BRIDGED_PORT = 18080;

const OUT = "/run/bench-out";
const ERR = "/run/bench-err";

/**
 * Runs a command, throws with its output when it fails; returns stdout. Output goes
 * through files, not pipes: Podman's conmon inherits the descriptors and outlives
 * `podman run -d`, so a pipe would not reach end-of-file until the container ends.
 */
function sh(argv: string[], trace = false): string {
  // Fresh files: a shorter output would leave the end of the last one behind.
  rmSync(OUT, { force: true });
  rmSync(ERR, { force: true });
  const r = Bun.spawnSync(argv, { env: trace ? { ...ENV, PODUNIT_TRACE: "1" } : ENV, stdout: Bun.file(OUT), stderr: Bun.file(ERR), stdin: "ignore" });
  const out = readFileSync(OUT, "utf8");
  if (r.exitCode !== 0) throw new Error(`'${argv.join(" ")}' exited ${r.exitCode}: ${readFileSync(ERR, "utf8")}${out}`);
  return out;
}

/** A phase of a `PODUNIT_TRACE=1` run: ms since the previous mark, and since the process began. */
interface Phase {
  delta: number[];
  at: number[];
}

/** Phase times of traced runs, by tool, then by label (a plugin's own "(x ms)" cut off). */
const traces: Record<string, Record<"start" | "stop", Record<string, Phase>>> = {};

function recordTrace(tool: string, kind: "start" | "stop", stderr: string): void {
  const byLabel = ((traces[tool] ??= { start: {}, stop: {} })[kind]);
  for (const m of stderr.matchAll(/^podunit trace: +([\d.]+) ms +\+ *([\d.]+) +(.*)$/gm)) {
    const label = m[3]!.replace(/ \([\d.]+ ms\)$/, "");
    const phase = (byLabel[label] ??= { delta: [], at: [] });
    phase.delta.push(Number(m[2]));
    phase.at.push(Number(m[1]));
  }
}

/** Wall time of a sequence of commands, in ms. */
function timed(cmds: string[][], trace = false): number {
  const t0 = Bun.nanoseconds();
  for (const c of cmds) sh(c, trace);
  return (Bun.nanoseconds() - t0) / 1e6;
}

/** Polls a condition (not timed); the benchmark fails if it never holds. */
function until(what: string, ok: () => boolean, ms = 10_000): void {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    Bun.sleepSync(5);
  }
}

function isActive(units: string[]): boolean {
  return Bun.spawnSync(["systemctl", "is-active", "--quiet", ...units]).exitCode === 0;
}

// ---- set-up ---------------------------------------------------------------------------

function setup(): void {
  sh(["bash", join(REPO, "test/lab/mkrootfs.sh"), ROOTFS]);
  mkdirSync(SPECS, { recursive: true });
  const host = `[containers.a]\ncommand = ["/bin/sleep", "600"]\n[containers.b]\ncommand = ["/bin/sleep", "600"]\n`;
  const rootfs = `[containers.a]\nrootfs = "${ROOTFS}"\ncommand = ["/bin/sleep", "600"]\n[containers.b]\nrootfs = "${ROOTFS}"\ncommand = ["/bin/sleep", "600"]\n`;
  writeFileSync(`${SPECS}/bhost.toml`, host);
  // The rows named runc run their containers under runc; crun (the default where installed) has rows of its own.
  writeFileSync(`${SPECS}/broot.toml`, `runtime = "runc"\n${rootfs}`);
  writeFileSync(`${SPECS}/brootc.toml`, `runtime = "crun"\n${rootfs}`);
  // The same two members, each rooted at an overlay of an image of the same busybox.
  writeImage("/run/bench-image", "localhost/busybox:bench", [busyboxLayer()], { Cmd: ["/bin/sleep", "600"] });
  sh([PODUNIT, "image", "load", "/run/bench-image"]);
  writeFileSync(`${SPECS}/bimg.toml`, `runtime = "runc"\n[containers.a]\nimage = "localhost/busybox:bench"\n[containers.b]\nimage = "localhost/busybox:bench"\n`);
  for (let i = 1; i <= SCALE; i++) writeFileSync(`${SPECS}/s${i}.toml`, host);
  // The same pod on the bridge with one published port (the lab's own network namespace: nothing reaches the machine's).
  writeFileSync(`${SPECS}/bnet.toml`, `network = "bridge"\nports = ["${BRIDGED_PORT}:80"]\n${host}`);
  // Podman: storage on a tmpfs (its overlay driver cannot stack on the lab's overlay root),
  // no sysctls (the lab's /proc/sys is read-only), the systemd cgroup manager.
  mkdirSync("/var/lib/containers", { recursive: true });
  sh(["mount", "-t", "tmpfs", "-o", "size=4g", "containers", "/var/lib/containers"]);
  // Bridged Podman pods go through netavark (Debian's package), Podman 4's own network stack.
  writeFileSync("/etc/containers/containers.conf", '[containers]\ndefault_sysctls = []\n[engine]\ncgroup_manager = "systemd"\n[network]\nnetwork_backend = "netavark"\n');
  const tar = Bun.spawnSync(["tar", "-C", ROOTFS, "-c", "."], { stdout: "pipe" });
  const imp = Bun.spawnSync(["podman", "import", "-", "localhost/busybox:bench"], { stdin: tar.stdout, stdout: "pipe", stderr: "pipe" });
  if (imp.exitCode !== 0) throw new Error(`podman import failed: ${imp.stderr.toString()}`);
  // runc alone: a bundle of the same rootfs, for runc's own start time.
  mkdirSync("/run/bench-runc", { recursive: true });
  sh(["bash", "-c", `cd /run/bench-runc && runc spec && sed -i 's|"rootfs"|"${ROOTFS}"|; s|"sh"|"sleep", "600"|; s|"terminal": true|"terminal": false|' config.json`]);
  // crun alone: the same bundle.
  mkdirSync("/run/bench-crun", { recursive: true });
  sh(["cp", "/run/bench-runc/config.json", "/run/bench-crun/config.json"]);
}

// ---- the tools ------------------------------------------------------------------------

interface Tool {
  name: string;
  start(i: number | string): number;
  stop(i: number | string): number;
}

const podunit = (name: string, pod: string, backend: string, trace = false): Tool => ({
  name,
  start: () => {
    const ms = timed([[PODUNIT, "start", pod, "--backend", backend]], trace);
    if (trace) recordTrace(name, "start", readFileSync(ERR, "utf8"));
    until(`${name} running`, () => isActive([`podunit-${pod}-a.service`, `podunit-${pod}-b.service`]));
    return ms;
  },
  stop: () => {
    const ms = timed([[PODUNIT, "stop", pod]], trace);
    if (trace) recordTrace(name, "stop", readFileSync(ERR, "utf8"));
    if (isActive([`podunit-${pod}.slice`])) throw new Error(`${name}: slice still active after stop`);
    return ms;
  },
});

const podman: Tool = {
  name: "podman (crun, systemd cgroups)",
  start: (i) => {
    const img = "localhost/busybox:bench";
    const ms = timed([
      ["podman", "run", "-d", "--network", "none", "--pod", `new:bp${i}`, img, "sleep", "600"],
      ["podman", "run", "-d", "--pod", `bp${i}`, img, "sleep", "600"],
    ]);
    const running = sh(["podman", "ps", "-q", "--filter", `pod=bp${i}`, "--filter", "status=running"]).trim().split("\n").length;
    if (running < 3) throw new Error(`podman pod bp${i}: ${running} containers running, expected 3`);
    return ms;
  },
  stop: (i) => timed([["podman", "pod", "rm", "-f", "-t", "0", `bp${i}`]]),
};

/** Podman's bridged pod: `pod create --network bridge -p` (netavark), then the same two members. */
const podmanBridged: Tool = {
  name: "podman bridged, one port (netavark)",
  start: (i) => {
    const img = "localhost/busybox:bench";
    const ms = timed([
      ["podman", "pod", "create", "--network", "bridge", "-p", `${BRIDGED_PORT}:80`, "--name", `bn${i}`],
      ["podman", "run", "-d", "--pod", `bn${i}`, img, "sleep", "600"],
      ["podman", "run", "-d", "--pod", `bn${i}`, img, "sleep", "600"],
    ]);
    const running = sh(["podman", "ps", "-q", "--filter", `pod=bn${i}`, "--filter", "status=running"]).trim().split("\n").length;
    if (running < 3) throw new Error(`podman pod bn${i}: ${running} containers running, expected 3`);
    return ms;
  },
  stop: (i) => timed([["podman", "pod", "rm", "-f", "-t", "0", `bn${i}`]]),
};

/** The floor: the same units made with systemd-run (a sandbox scope holding the namespaces, two services joining them). */
const floor: Tool = {
  name: "systemd-run floor",
  start: (i) => floorStart(String(i), ENV),
  stop: (i) => timed([["systemctl", "stop", `fl${i}.slice`]]),
};

/** The Bun floor (bench/bun-floor.ts): the floor's units made by a compiled Bun program through podunit's D-Bus client. */
const BUN_FLOOR = join(REPO, "dist/bench/bun-floor");
const bunFloor: Tool = {
  name: "Bun floor (podunit's D-Bus client alone)",
  start: (i) => {
    const ms = timed([[BUN_FLOOR, "start", String(i)]]);
    until("the Bun floor's members", () => isActive([`bf${i}-a.service`, `bf${i}-b.service`]));
    return ms;
  },
  stop: (i) => timed([[BUN_FLOOR, "stop", String(i)]]),
};

/** A runtime alone: `runc|crun run -d` of one busybox container (its own start time), and `delete -f`. */
function runtimeAlone(runtime: "runc" | "crun", i: number): { start: number; stop: number } {
  const id = `bench-${runtime}${i}`;
  const start = timed([[runtime, "run", "-d", "--bundle", `/run/bench-${runtime}`, id]]);
  const stop = timed([[runtime, "delete", "-f", id]]);
  return { start, stop };
}

/**
 * An image member's root made and removed, N times: overlay by mount(2) through
 * bun:ffi (what podunit does) against util-linux's `mount -t overlay` and `umount`.
 */
function mountCost(n: number): { ffi: number[]; mountCommand: number[] } {
  const layers = readdirSync("/var/lib/podunit/images/layers/sha256").map((h) => `/var/lib/podunit/images/layers/sha256/${h}`);
  const r = (i: number) => ({
    member: "m",
    unit: "",
    image: "bench",
    manifestDigest: "",
    lowerdirs: layers,
    upper: `/run/bench-mount/${i}/upper`,
    work: `/run/bench-mount/${i}/work`,
    target: `/run/bench-mount/${i}/root`,
  });
  const ffi: number[] = [];
  const mountCommand: number[] = [];
  for (let i = 0; i < n; i++) {
    let t0 = Bun.nanoseconds();
    mountRoot(r(i));
    unmountRoot(r(i).target, `/run/bench-mount/${i}`);
    ffi.push((Bun.nanoseconds() - t0) / 1e6);
    const x = r(i + n);
    t0 = Bun.nanoseconds();
    // The directories as podunit makes them; only mount and umount are processes.
    for (const d of [x.upper, x.work, x.target]) mkdirSync(d, { recursive: true, mode: 0o700 });
    sh(["mount", "-t", "overlay", "overlay", "-o", `lowerdir=${x.lowerdirs.join(":")},upperdir=${x.upper},workdir=${x.work}`, x.target]);
    sh(["umount", x.target]);
    rmSync(`/run/bench-mount/${i + n}`, { recursive: true, force: true });
    mountCommand.push((Bun.nanoseconds() - t0) / 1e6);
  }
  rmSync("/run/bench-mount", { recursive: true, force: true });
  return { ffi, mountCommand };
}

/**
 * What the CNI plugins podunit no longer runs would cost here, same run: portmap
 * (the published port, snat) and firewall (FORWARD accepts), ADD and DEL against
 * a live bridged pod, with its bridge result, as podunit ran them before.
 */
async function replacedPlugins(n: number): Promise<Record<string, number[]>> {
  sh([PODUNIT, "start", "bnet", "--backend", "native"]);
  const state = JSON.parse(readFileSync("/run/podunit/_network/pods/bnet/state.json", "utf8"));
  const call = { containerId: "podunit-bench-plugins", netns: state.netnsFile, cniPath: "/usr/lib/cni" };
  const configs = [
    { type: "portmap", snat: true, capabilities: { portMappings: true }, runtimeConfig: { portMappings: [{ hostPort: BRIDGED_PORT + 1, containerPort: 80, protocol: "tcp" }] } },
    { type: "firewall", backend: "iptables" },
  ];
  const out: Record<string, number[]> = {};
  for (let i = 0; i < n; i++) {
    for (const command of ["ADD", "DEL"] as const) {
      for (const c of command === "ADD" ? configs : [...configs].reverse()) {
        const t0 = Bun.nanoseconds();
        await runPlugin(command, c, call, state.result);
        (out[`${c.type} ${command}`] ??= []).push((Bun.nanoseconds() - t0) / 1e6);
      }
    }
  }
  sh([PODUNIT, "stop", "bnet"]);
  return out;
}

// ---- memory ---------------------------------------------------------------------------

function labMemory(): number {
  const v1 = "/sys/fs/cgroup/memory/memory.usage_in_bytes";
  const file = existsSync(v1) ? v1 : "/sys/fs/cgroup/memory.current";
  const xs = Array.from({ length: 5 }, () => {
    Bun.sleepSync(20);
    return Number(readFileSync(file, "utf8"));
  }).sort((a, b) => a - b);
  return xs[2]!;
}

function pids(): Set<number> {
  return new Set(readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number));
}

function processInfo(pid: number): { pid: number; cmd: string; rssKb: number; pssKb: number } | undefined {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ").slice(0, 60);
    const roll = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(roll)?.[1] ?? 0);
    return { pid, cmd, rssKb: kb("Rss"), pssKb: kb("Pss") };
  } catch {
    return undefined;
  }
}

/** One pod's memory: the lab's memory cgroup before and after, new processes, the pod's cgroup. */
function memoryOnce(tool: Tool, cgroupOf: (i: number) => string, i: number) {
  Bun.sleepSync(300);
  const before = pids();
  const m0 = labMemory();
  tool.start(i);
  Bun.sleepSync(1000);
  const m1 = labMemory();
  const procs = [...pids()].filter((p) => !before.has(p)).map(processInfo).filter((x) => x !== undefined);
  const cg = cgroupOf(i);
  let podCgroup: number | undefined;
  for (const f of [`/sys/fs/cgroup/memory${cg}/memory.usage_in_bytes`, `/sys/fs/cgroup${cg}/memory.current`]) {
    if (existsSync(f)) podCgroup = Number(readFileSync(f, "utf8"));
  }
  tool.stop(i);
  return { tool: tool.name, labGrowthBytes: m1 - m0, podCgroupBytes: podCgroup, processes: procs };
}

/** The median (by the lab's growth) of three rounds, so one noisy reading does not decide. */
function memoryOf(tool: Tool, cgroupOf: (i: number) => string) {
  const rounds = [997, 998, 999].map((i) => memoryOnce(tool, cgroupOf, i));
  rounds.sort((a, b) => a.labGrowthBytes - b.labGrowthBytes);
  return { ...rounds[1]!, labGrowthRounds: rounds.map((r) => r.labGrowthBytes) };
}

// ---- one start, for bench/execs.ts to count what it executes ---------------------------

/** The cgroup (unified hierarchy) of a unit below a slice path such as `podunit.slice/podunit-p.slice`. */
function unifiedCgroup(path: string): string {
  return existsSync("/sys/fs/cgroup/unified") ? `/sys/fs/cgroup/unified/${path}` : `/sys/fs/cgroup/${path}`;
}

/** Whether a cgroup directory or one below it (a container's) holds a process named `comm`. */
function runs(dir: string, comm: string): boolean {
  try {
    if (readFileSync(`${dir}/cgroup.procs`, "utf8").split("\n").filter(Boolean).some((pid) => readFileSync(`/proc/${pid}/comm`, "utf8").trim() === comm)) return true;
    return readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory() && runs(`${dir}/${e.name}`, comm));
  } catch {
    return false;
  }
}

/** Waits (with file reads only: nothing executed) until each cgroup runs a process named `comm`. */
function untilRunning(cgroups: string[], comm: string): void {
  until(`${comm} in ${cgroups.join(", ")}`, () => cgroups.every((cg) => runs(unifiedCgroup(cg), comm)));
}

/** `--once MODE`: one start and nothing else, until every member runs its own program. */
function once(mode: string): void {
  const members = (slice: string, prefix: string) => ["a", "b"].map((m) => `${slice}/${prefix}-${m}.service`);
  switch (mode) {
    case "nothing":
      return;
    case "setup":
      return setup();
    case "podunit-host":
    case "podunit-rootfs":
    case "podunit-crun": {
      const pod = { "podunit-host": "bhost", "podunit-rootfs": "broot", "podunit-crun": "brootc" }[mode];
      sh([PODUNIT, "start", pod, "--backend", mode === "podunit-crun" ? "crun" : "native"]);
      return untilRunning(members(`podunit.slice/podunit-${pod}.slice`, `podunit-${pod}`), "sleep");
    }
    case "floor":
      floor.start("x");
      return untilRunning(members("flx.slice", "flx"), "sleep");
    default:
      throw new Error(`unknown --once mode '${mode}'`);
  }
}

// ---- run ------------------------------------------------------------------------------

if (out === "--once") {
  once(repsArg!);
  process.exit(0);
}
setup();
const tools: Tool[] = [
  podunit("podunit native, host members", "bhost", "native", true),
  podunit("podunit runc, host members", "bhost", "runc"),
  podunit("podunit native, rootfs members", "broot", "native"),
  podunit("podunit runc, rootfs members", "broot", "runc"),
  podunit("podunit crun, rootfs members", "brootc", "crun"),
  podunit("podunit runc, image members", "bimg", "runc"),
  podunit("podunit native, bridged, one port", "bnet", "native", true),
  podman,
  podmanBridged,
  floor,
  bunFloor,
];
const results: Record<string, { start: number[]; stop: number[] }> = {};
for (const t of tools) results[t.name] = { start: [], stop: [] };
results["runc run -d alone"] = { start: [], stop: [] };
results["crun run -d alone"] = { start: [], stop: [] };

for (let rep = -WARMUP; rep < REPS; rep++) {
  if (rep === 0) for (const k of Object.keys(traces)) delete traces[k];
  // Rotate the order every repetition so no tool always runs right after another.
  const order = tools.map((_, k) => tools[(k + rep + WARMUP) % tools.length]!);
  for (const t of order) {
    const start = t.start(rep + WARMUP);
    const stop = t.stop(rep + WARMUP);
    if (rep >= 0) {
      results[t.name]!.start.push(start);
      results[t.name]!.stop.push(stop);
    }
  }
  // Alternating which runtime goes first, as the tools do.
  for (const rt of rep % 2 ? (["crun", "runc"] as const) : (["runc", "crun"] as const)) {
    const r = runtimeAlone(rt, rep + WARMUP);
    if (rep >= 0) {
      results[`${rt} run -d alone`]!.start.push(r.start);
      results[`${rt} run -d alone`]!.stop.push(r.stop);
    }
  }
}

const mounts = mountCost(REPS);
const plugins = await replacedPlugins(REPS);
/** A `/bin/true` start on this machine, for scale. */
const trueMs = Array.from({ length: 21 }, () => timed([["/bin/true"]])).sort((a, b) => a - b)[10]!;

const memory = [
  memoryOf(tools[0]!, () => "/podunit.slice/podunit-bhost.slice"),
  memoryOf(podman, (i) => {
    const id = sh(["podman", "pod", "inspect", "--format", "{{.ID}}", `bp${i}`]).trim();
    return `/machine.slice/machine-libpod_pod_${id}.slice`;
  }),
  memoryOf(floor, (i) => `/fl${i}.slice`),
];

// Scale: pods started one after the other and kept running, then the floor at the same scale (bench/scale-phase.ts).
const scale = scalePhase({ podunit: PODUNIT, specDir: SPECS, pods: SCALE });

writeFileSync(
  out!,
  JSON.stringify({
    reps: REPS,
    warmup: WARMUP,
    latency: results,
    mounts,
    trueMs,
    traces,
    plugins,
    memory,
    scale,
  }),
);
