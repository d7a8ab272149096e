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

const lab = await Lab.boot("bench");
let data: any;
try {
  const systemd = (await lab.sh(["systemctl", "--version"])).split("\n")[0];
  console.log(`machine: ${machine.cpus} CPUs, ${machine.memory} RAM, kernel ${machine.kernel}; ${systemd}; ${machine.podman}; ${machine.runc}; ${machine.crun}; cgroups ${lab.cgroupMode}`);
  console.log(`lab booted; ${REPS} repetitions after 3 warm-up rounds, tools alternating; ${SCALE} pods for the scale run\n`);
  const out = "/srv/lab/bench.json";
  const r = await lab.run([join(REPO, "node_modules/.bin/bun"), join(REPO, "bench/driver.ts"), out, String(REPS), String(SCALE)], {
    timeoutMs: 60 * 60 * 1000,
  });
  if (r.status !== 0) throw new Error(`the benchmark driver failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  data = JSON.parse(readFileSync(join(lab.shareDir, "bench.json"), "utf8"));
  rmSync(join(lab.shareDir, "bench.json"));
} finally {
  lab.shutdown();
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
for (const kind of ["start", "stop"] as const) {
  console.log(`  podunit ${kind} of the bridged pod, phase by phase (PODUNIT_TRACE=1 marks; ms since the previous mark, min/median/max of ${data.reps}):`);
  for (const [label, xs] of Object.entries(data.traces[kind] as Record<string, number[]>)) {
    const st = stats(xs);
    console.log(`    ${f1(st.min)} ${f1(st.median)} ${f1(st.max)}  ${label}`);
  }
}
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
const checks: Array<[string, boolean, string]> = [
  [`host pod, native: >= 6x faster than Podman`, med(podman, "start") / med(hostNative, "start") >= 6,
    `${(med(podman, "start") / med(hostNative, "start")).toFixed(1)}x`],
  [`bridged pod with one port: >= 2x faster than Podman's (netavark)`, med(podmanBridged, "start") / med(bridged, "start") >= 2,
    `${(med(podmanBridged, "start") / med(bridged, "start")).toFixed(1)}x`],
  [`host pod, native: no slower than the systemd-run floor`, med(hostNative, "start") <= med(floorName, "start"),
    `podunit/floor ${(med(hostNative, "start") / med(floorName, "start")).toFixed(2)}`],
  [`rootfs pod, runc: no slower than floor + runc's own start`, med(runcRoot, "start") <= med(floorName, "start") + runcAlone,
    `${f1(med(runcRoot, "start"))} ms vs ${f1(med(floorName, "start") + runcAlone)} ms`],
  [`image pod start within 5 ms of the same pod with rootfs members`, imgExtra <= 5, `${imgExtra.toFixed(1)} ms`],
  [`stop: within 1.5x of the floor`, med(hostNative, "stop") <= 1.5 * med(floorName, "stop"),
    `podunit/floor ${(med(hostNative, "stop") / med(floorName, "stop")).toFixed(2)}`],
  [`no podunit process resident after start`, !sc.residentPodunit && !memOf("podunit").processes.some((p: any) => p.cmd.startsWith(PODUNIT_BIN)), ""],
  [`memory growth of one pod (the lab's memory cgroup) within 1.3x of the floor`, growthOf("podunit") <= 1.3 * growthOf("systemd-run"),
    `podunit/floor ${(growthOf("podunit") / growthOf("systemd-run")).toFixed(2)}`],
  [`memory growth of one pod less than half of Podman's`, growthOf("podunit") < 0.5 * growthOf("podman"),
    `podunit/podman ${(growthOf("podunit") / growthOf("podman")).toFixed(2)}`],
  [`100th pod starts within 1.2x of the first (medians of 10)`, last.median <= 1.2 * first.median,
    `${(last.median / first.median).toFixed(2)}x (the floor: ${(floorLast.median / floorFirst.median).toFixed(2)}x)`],
];
console.log("\nclaims:");
for (const [what, ok, detail] of checks) console.log(`  ${ok ? "holds " : "FAILS "} ${what}${detail ? `: ${detail}` : ""}`);
process.exit(checks.every((c) => c[1]) ? 0 : 1);
