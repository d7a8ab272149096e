/**
 * The pod benchmark: podunit against Podman and against the systemd-run floor,
 * in one throw-away systemd (the test lab), in one run, alternating the tools.
 * Prints min/median/max and the ratios the project's claims rest on, and exits
 * non-zero when a tool failed (no partial table) or a claim does not hold.
 *
 *   make bench            (REPS=20 SCALE=100 by default)
 *   REPS=30 SCALE=100 bun bench/pods.ts
 */
import { $ } from "zx";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Lab, REPO } from "../test/lab/lab.ts";
import { closeExecCounting, execCountingUnavailable, execsOf, openExecCounting } from "./execs.ts";
import { buildBunFloor, describeStartup, startupCosts } from "./startup.ts";

$.verbose = false;
const PODUNIT_BIN = join(REPO, "dist/podunit");
const REPS = Number(process.env.REPS ?? 20);
const SCALE = Number(process.env.SCALE ?? 100);

type Stats = { min: number; median: number; max: number };
const stats = (xs: number[]): Stats => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};
const f1 = (x: number) => x.toFixed(1).padStart(7);
const mb = (b: number) => (b / 1024 / 1024).toFixed(2);

const machine = {
  cpus: (await $`nproc`).stdout.trim(),
  kernel: (await $`uname -r`).stdout.trim(),
  memory: (await $`free -h`).stdout.split("\n")[1]?.split(/\s+/)[1],
  podman: (await $`podman --version`).stdout.trim(),
  runc: (await $`runc --version`).stdout.split("\n")[0],
  crun: (await $`crun --version`).stdout.split("\n")[0],
};

const startup = startupCosts();
buildBunFloor();
const lab = await Lab.boot("bench");
let data: any;
/** Programs executed by one start, beyond the way it is run in the lab; undefined with the reason when not counted. */
let execs: Record<string, string[]> | string;
try {
  const systemd = (await lab.sh(["systemctl", "--version"])).split("\n")[0];
  console.log(`machine: ${machine.cpus} CPUs, ${machine.memory} RAM, kernel ${machine.kernel}; ${systemd}; ${machine.podman}; ${machine.runc}; ${machine.crun}; cgroups ${lab.cgroupMode}`);
  console.log(`  ${describeStartup(startup)}`);
  console.log(`lab booted; ${REPS} repetitions after 3 warm-up rounds, tools alternating; ${SCALE} pods for the scale run\n`);
  const out = "/srv/lab/bench.json";
  const bun = join(REPO, "node_modules/.bin/bun");
  const driver = join(REPO, "bench/driver.ts");
  // BENCH_ONLY=execs: only the count of programs executed (for working on it).
  const r = await lab.run(process.env.BENCH_ONLY === "execs" ? [bun, driver, "--once", "setup"] : [bun, driver, out, String(REPS), String(SCALE)], {
    timeoutMs: 60 * 60 * 1000,
  });
  if (r.status !== 0) throw new Error(`the benchmark driver failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  if (process.env.BENCH_ONLY !== "execs") {
    data = JSON.parse(readFileSync(join(lab.shareDir, "bench.json"), "utf8"));
    rmSync(join(lab.shareDir, "bench.json"));
  }
  execs = execCountingUnavailable() ?? {};
  if (typeof execs !== "string") {
    openExecCounting();
    try {
      // Output to a file: the floor's sandbox keeps the descriptors it inherits, and a pipe would stay open.
      const quiet = (mode: string) => ["sh", "-c", '"$@" >/run/bench-once.out 2>&1 || { cat /run/bench-once.out; exit 1; }', "sh", bun, driver, "--once", mode];
      const harness = await execsOf(lab, quiet("nothing"), [], undefined);
      const once = (mode: string, after: string[]) => execsOf(lab, quiet(mode), harness, after);
      execs["podunit, host members"] = await once("podunit-host", [PODUNIT_BIN, "stop", "bhost"]);
      execs["systemd-run floor"] = await once("floor", ["systemctl", "stop", "flx.slice"]);
      execs["podunit, rootfs members (runc)"] = await once("podunit-rootfs", [PODUNIT_BIN, "stop", "broot"]);
      execs["podunit, crun sandbox and members"] = await once("podunit-crun", [PODUNIT_BIN, "stop", "brootc"]);
    } finally {
      closeExecCounting();
    }
  }
} finally {
  lab.shutdown();
}
if (process.env.BENCH_ONLY === "execs") {
  for (const [what, progs] of Object.entries(typeof execs === "string" ? { [execs]: [] } : execs)) console.log(`${what}: ${progs.length}: ${progs.join(" ")}`);
  process.exit(0);
}

// ---- latency --------------------------------------------------------------------------
const lat: Record<string, { start: Stats; stop: Stats }> = {};
console.log("start and stop of a pod of a sandbox and two `sleep` members, ms:");
console.log(`  ${"".padEnd(34)}   start: min  median     max    stop: min  median     max`);
for (const [name, v] of Object.entries(data.latency as Record<string, { start: number[]; stop: number[] }>)) {
  lat[name] = { start: stats(v.start), stop: stats(v.stop) };
  const a = lat[name]!;
  console.log(`  ${name.padEnd(34)} ${f1(a.start.min)} ${f1(a.start.median)} ${f1(a.start.max)}    ${f1(a.stop.min)} ${f1(a.stop.median)} ${f1(a.stop.max)}`);
}
const med = (n: string, k: "start" | "stop") => lat[n]![k].median;
const hostNative = "podunit native, host members";
const runcRoot = "podunit runc, rootfs members";
const podman = "podman (crun, systemd cgroups)";
const floorName = "systemd-run floor";
const runcAlone = med("runc run -d alone", "start");

// ---- where a host pod's start and stop go ----------------------------------------------
console.log("\nwhere the host pod's time goes:");
const hostAt = printPhases(hostNative, "the host pod");
const atMark = (kind: "start" | "stop", label: string) => hostAt[kind][label]?.median ?? NaN;
console.log(`  podunit start: its own code runs (and connects to systemd) after ${f1(atMark("start", "main"))} ms (an empty Bun executable takes ${startup.emptyBunMs.toFixed(1)} ms to start and exit), the spec is read and checked after ${f1(atMark("start", "spec loaded and checked"))} ms, the connection is up after ${f1(atMark("start", "connected to systemd"))} ms; the floor's three systemd-run and its wait: ${f1(med(floorName, "start"))} ms in all`);
const stopJob = hostAt.stop["slice stopped (job done)"] ? stats((data.traces[hostNative] as Phases).stop["slice stopped (job done)"]!.delta).median : NaN;
console.log(`  podunit stop: the slice's stop job ${f1(stopJob)} ms of ${f1(med(hostNative, "stop"))} ms; ${f1(atMark("stop", "main"))} ms to its own code; the floor's \`systemctl stop\` of its slice, process and job: ${f1(med(floorName, "stop"))} ms`);

const bunFloorName = "Bun floor (podunit's D-Bus client alone)";
for (const kind of ["start", "stop"] as const) {
  const [p, b, f] = [med(hostNative, kind), med(bunFloorName, kind), med(floorName, kind)];
  console.log(`  ${kind}: podunit ${f1(p)} ms = the Bun floor ${f1(b)} ms (the floor's units made by a compiled Bun program with podunit's D-Bus client, nothing else) ${p >= b ? "+" : "-"} ${Math.abs(p - b).toFixed(1)} ms of podunit's own; the Bun floor is the systemd-run floor ${f1(f)} ms ${b >= f ? "+" : "-"} ${Math.abs(b - f).toFixed(1)} ms`);
}

// ---- programs executed per start -------------------------------------------------------
let execClaim: [boolean, string];
if (typeof execs === "string") {
  console.log(`\nprograms executed per pod start: not counted (${execs})`);
  execClaim = [false, `not counted: ${execs}`];
} else {
  console.log("\nprograms executed per pod start (the kernel's sched_process_exec events of the command and of what systemd forks for it; fewest of 3):");
  for (const [what, progs] of Object.entries(execs)) {
    console.log(`  ${what.padEnd(26)} ${String(progs.length).padStart(3)}  ${progs.map((p) => p.split("/").pop()).join(" ")}`);
  }
  const podunitN = execs["podunit, host members"]!.length;
  const floorN = execs["systemd-run floor"]!.length;
  execClaim = [podunitN <= floorN + 2, `podunit ${podunitN}, the floor ${floorN}`];
}

// ---- image members --------------------------------------------------------------------
const imageRoot = "podunit runc, image members";
const imgExtra = med(imageRoot, "start") - med(runcRoot, "start");
const mnt = { ffi: stats(data.mounts.ffi), command: stats(data.mounts.mountCommand) };
console.log(`\nimage members: a two-member image pod starts in ${f1(med(imageRoot, "start"))} ms, the same pod with rootfs members in ${f1(med(runcRoot, "start"))} ms (${imgExtra >= 0 ? "+" : ""}${imgExtra.toFixed(1)} ms)`);
console.log(`  one member root (overlay) mounted and removed: mount(2) through bun:ffi ${f1(mnt.ffi.median)} ms, util-linux mount + umount ${f1(mnt.command.median)} ms (medians of ${data.mounts.ffi.length})`);
console.log(`  a /bin/true start costs ${data.trueMs.toFixed(2)} ms here`);

// ---- crun beside runc -------------------------------------------------------------------
const crunRoot = "podunit crun, rootfs members";
console.log(`\ncrun beside runc (medians, ms): run -d alone ${f1(med("crun run -d alone", "start"))} vs ${f1(runcAlone)}; a rootfs pod (sandbox and two members under one runtime) ${f1(med(crunRoot, "start"))} vs ${f1(med(runcRoot, "start"))} to start, ${f1(med(crunRoot, "stop"))} vs ${f1(med(runcRoot, "stop"))} to stop`);

// ---- bridged pods ----------------------------------------------------------------------
const bridged = "podunit native, bridged, one port";
const podmanBridged = "podman bridged, one port (netavark)";
const netExtra = med(bridged, "start") - med(hostNative, "start");
console.log(`\nbridged pods (one published port, the same two members): podunit ${f1(med(bridged, "start"))} ms, the loopback-only pod ${f1(med(hostNative, "start"))} ms (network +${netExtra.toFixed(1)} ms), Podman ${f1(med(podmanBridged, "start"))} ms (${(med(podmanBridged, "start") / med(bridged, "start")).toFixed(1)}x podunit's)`);
console.log(`  stop: podunit ${f1(med(bridged, "stop"))} ms (loopback-only ${f1(med(hostNative, "stop"))} ms), Podman ${f1(med(podmanBridged, "stop"))} ms`);
type Phases = Record<"start" | "stop", Record<string, { delta: number[]; at: number[] }>>;
/** Prints a traced tool's phases; returns the median time of each mark since the process began. */
function printPhases(tool: string, what: string): Record<"start" | "stop", Record<string, Stats>> {
  const at = { start: {}, stop: {} } as Record<"start" | "stop", Record<string, Stats>>;
  for (const kind of ["start", "stop"] as const) {
    console.log(`  podunit ${kind} of ${what}, phase by phase (PODUNIT_TRACE=1 marks; ms since the previous mark, min/median/max of ${data.reps}; then the median since the process began):`);
    for (const [label, p] of Object.entries((data.traces[tool] as Phases)[kind])) {
      const st = stats(p.delta);
      at[kind][label] = stats(p.at);
      console.log(`    ${f1(st.min)} ${f1(st.median)} ${f1(st.max)}  ${label.padEnd(58)} ${f1(at[kind][label]!.median)}`);
    }
  }
  return at;
}
printPhases(bridged, "the bridged pod");
console.log(`  CNI plugins podunit no longer runs, run here the way it ran them (ms, min/median/max of ${data.reps}):`);
for (const [what, xs] of Object.entries(data.plugins as Record<string, number[]>)) {
  const st = stats(xs);
  console.log(`    ${what.padEnd(14)} ${f1(st.min)} ${f1(st.median)} ${f1(st.max)}`);
}

// ---- memory ---------------------------------------------------------------------------
console.log("\nmemory resident because of one running pod of two `sleep` members (median of 3 rounds by the lab's growth):");
for (const m of data.memory as Array<{ tool: string; labGrowthBytes: number; labGrowthRounds: number[]; podCgroupBytes?: number; processes: Array<{ cmd: string; rssKb: number; pssKb: number }> }>) {
  console.log(`  ${m.tool}: lab memory cgroup growth in 3 rounds: ${m.labGrowthRounds.map(mb).join(", ")} MiB`);
  const rss = m.processes.reduce((s, p) => s + p.rssKb, 0);
  const pss = m.processes.reduce((s, p) => s + p.pssKb, 0);
  console.log(`  ${m.tool}: lab memory cgroup +${mb(m.labGrowthBytes)} MiB; pod cgroup ${m.podCgroupBytes === undefined ? "-" : mb(m.podCgroupBytes) + " MiB"}; ${m.processes.length} new processes, RSS ${(rss / 1024).toFixed(2)} MiB, PSS ${(pss / 1024).toFixed(2)} MiB`);
  for (const p of m.processes) console.log(`      ${String(p.rssKb).padStart(6)} KiB RSS ${String(p.pssKb).padStart(6)} KiB PSS  ${p.cmd}`);
}
const memOf = (prefix: string) => (data.memory as Array<{ tool: string; processes: Array<{ pssKb: number }> }>).find((m) => m.tool.startsWith(prefix))!;
const growthOf = (prefix: string) => (memOf(prefix) as unknown as { labGrowthBytes: number }).labGrowthBytes;

// ---- scale ----------------------------------------------------------------------------
const sc = data.scale;
const first = stats(sc.starts.slice(0, 10));
const last = stats(sc.starts.slice(-10));
console.log(`\nscale: ${sc.pods} pods started one after the other and kept running (podunit native, host members):`);
console.log(`  first pod ${f1(sc.starts[0])} ms, last pod ${f1(sc.starts[sc.pods - 1])} ms; median of the first 10 ${f1(first.median)} ms, of the last 10 ${f1(last.median)} ms`);
const floorFirst = stats(sc.floorStarts.slice(0, 10));
const floorLast = stats(sc.floorStarts.slice(-10));
console.log(`  the floor at the same scale: median of the first 10 ${f1(floorFirst.median)} ms, of the last 10 ${f1(floorLast.median)} ms (${(floorLast.median / floorFirst.median).toFixed(2)}x)`);
console.log(`  total ${(sc.starts.reduce((a: number, b: number) => a + b, 0) / 1000).toFixed(2)} s; memory growth ${mb(sc.memoryGrowthBytes / sc.pods)} MiB per pod`);
console.log(`  with ${sc.pods} pods running: podunit list ${f1(sc.listMs)} ms, podunit status ${f1(sc.statusMs)} ms; resident podunit processes: ${sc.residentPodunit || "none"}`);
console.log(`  stopping them all: ${(sc.stops.reduce((a: number, b: number) => a + b, 0) / 1000).toFixed(2)} s`);

// ---- the claims -----------------------------------------------------------------------
const ratio = (a: number, b: number) => (a / b).toFixed(2);
const crunAlone = med("crun run -d alone", "start");
const checks: Array<[string, boolean, string]> = [
  [`host pod, native: start no slower than the systemd-run floor`, med(hostNative, "start") <= med(floorName, "start"),
    `podunit/floor ${ratio(med(hostNative, "start"), med(floorName, "start"))}`],
  [`host pod, native: >= 6x faster than Podman`, med(podman, "start") / med(hostNative, "start") >= 6,
    `${(med(podman, "start") / med(hostNative, "start")).toFixed(1)}x`],
  [`stop: within 1.5x of the floor`, med(hostNative, "stop") <= 1.5 * med(floorName, "stop"),
    `podunit/floor ${ratio(med(hostNative, "stop"), med(floorName, "stop"))}`],
  [`rootfs pod, crun: no slower than the floor + two \`crun run -d\``, med(crunRoot, "start") <= med(floorName, "start") + 2 * crunAlone,
    `${f1(med(crunRoot, "start"))} ms vs ${f1(med(floorName, "start") + 2 * crunAlone)} ms`],
  [`rootfs pod, runc: no slower than the floor + two \`runc run -d\``, med(runcRoot, "start") <= med(floorName, "start") + 2 * runcAlone,
    `${f1(med(runcRoot, "start"))} ms vs ${f1(med(floorName, "start") + 2 * runcAlone)} ms`],
  [`bridged pod with one port: >= 2x faster than Podman's (netavark)`, med(podmanBridged, "start") / med(bridged, "start") >= 2,
    `${(med(podmanBridged, "start") / med(bridged, "start")).toFixed(1)}x`],
  [`image pod start within 5 ms of the same pod with rootfs members`, imgExtra <= 5, `${imgExtra.toFixed(1)} ms`],
  [`programs executed per start: at most one per member more than the floor`, ...execClaim],
  [`memory growth of one pod (the lab's memory cgroup) within 1.2x of the floor`, growthOf("podunit") <= 1.2 * growthOf("systemd-run"),
    `podunit/floor ${ratio(growthOf("podunit"), growthOf("systemd-run"))}`],
  [`memory growth of one pod at most half of Podman's`, growthOf("podunit") <= 0.5 * growthOf("podman"),
    `podunit/podman ${ratio(growthOf("podunit"), growthOf("podman"))}`],
  [`pod ${sc.pods} starts within 1.2x of the first (medians of 10)`, last.median <= 1.2 * first.median,
    `${ratio(last.median, first.median)}x (the floor: ${ratio(floorLast.median, floorFirst.median)}x)`],
  [`list and status with ${sc.pods} pods running: under 100 ms each`, sc.listMs < 100 && sc.statusMs < 100, `list ${sc.listMs.toFixed(1)} ms, status ${sc.statusMs.toFixed(1)} ms`],
  [`no podunit process resident after start`, !sc.residentPodunit && !memOf("podunit").processes.some((p: any) => p.cmd.startsWith(PODUNIT_BIN)), ""],
];
console.log("\nclaims:");
for (const [what, ok, detail] of checks) console.log(`  ${ok ? "holds " : "FAILS "} ${what}${detail ? `: ${detail}` : ""}`);
process.exit(checks.every((c) => c[1]) ? 0 : 1);
