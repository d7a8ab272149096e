/**
 * The scale benchmark alone: boots a lab, starts SCALE pods (a sandbox and two
 * `sleep` host members) one after the other and keeps them running, times
 * `podunit list` and `status` with all of them up, stops them all and checks
 * that nothing is left; then the same pods made by systemd-run (the floor).
 * The machine's own costs (starting /bin/true and an empty Bun binary) are
 * measured in the same run.
 *
 *   SCALE=1000 bun bench/scale.ts      (after make build; root)
 *
 * BASELINE=FILE (another podunit binary, e.g. built from an earlier commit) times
 * its list and status too, in the same lab with the same pods, alternating.
 */
import { $ } from "zx";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Lab, REPO } from "../test/lab/lab.ts";
import type { ScaleResult } from "./scale-phase.ts";

$.verbose = false;
const SCALE = Number(process.env.SCALE ?? 100);
const BASELINE = process.env.BASELINE;
const BUN = join(REPO, "node_modules/.bin/bun");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const f1 = (x: number) => x.toFixed(1).padStart(7);
const mib = (b: number) => (b / 1024 / 1024).toFixed(2);

/** Median wall time of `argv`, ms, over 31 runs after 3 warm-ups. */
function processCost(argv: string[]): number {
  const once = () => {
    const t0 = Bun.nanoseconds();
    const r = Bun.spawnSync(argv, { stdout: "ignore", stderr: "ignore" });
    if (r.exitCode !== 0) throw new Error(`'${argv.join(" ")}' exited ${r.exitCode}`);
    return (Bun.nanoseconds() - t0) / 1e6;
  };
  for (let i = 0; i < 3; i++) once();
  return median(Array.from({ length: 31 }, once));
}

const tmp = mkdtempSync(join(tmpdir(), "podunit-scale-"));
writeFileSync(join(tmp, "empty.ts"), "");
await $`${BUN} build --compile --outfile ${join(tmp, "empty")} ${join(tmp, "empty.ts")}`;
const trueMs = processCost(["/bin/true"]);
const emptyBunMs = processCost([join(tmp, "empty")]);
rmSync(tmp, { recursive: true, force: true });

const lab = await Lab.boot("scale");
let r: ScaleResult;
let systemd = "";
try {
  systemd = (await lab.sh(["systemctl", "--version"])).split("\n")[0]!;
  // The lab sees the checkout and its share directory; a baseline binary goes into the latter.
  if (BASELINE) copyFileSync(BASELINE, join(lab.shareDir, "podunit-baseline"));
  const args = [String(SCALE), ...(BASELINE ? ["/srv/lab/podunit-baseline"] : [])];
  const res = await lab.run([BUN, join(REPO, "bench/scale-lab.ts"), "/srv/lab/scale.json", ...args], { timeoutMs: 4 * 60 * 60 * 1000 });
  if (res.status !== 0) throw new Error(`the scale run failed (exit ${res.status}):\n${res.stderr}${res.stdout}`);
  r = JSON.parse(readFileSync(join(lab.shareDir, "scale.json"), "utf8"));
} finally {
  lab.shutdown();
}

const cpus = (await $`nproc`).stdout.trim();
const kernel = (await $`uname -r`).stdout.trim();
const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
console.log(`machine: ${cpus} CPUs, kernel ${kernel}, ${systemd}, cgroups ${lab.cgroupMode}; load average after the run ${load}`);
console.log(`  /bin/true ${trueMs.toFixed(2)} ms, an empty Bun binary ${emptyBunMs.toFixed(2)} ms (medians of 31)\n`);

const first = (xs: number[]) => median(xs.slice(0, 10));
const last = (xs: number[]) => median(xs.slice(-10));
console.log(`${r.pods} pods of a sandbox and two \`sleep\` members, started one after the other and kept running, ms:`);
console.log(`                       first 10   last 10   last/first   all (s)`);
const row = (name: string, xs: number[]) =>
  console.log(`  ${name.padEnd(18)} ${f1(first(xs))}   ${f1(last(xs))}   ${(last(xs) / first(xs)).toFixed(2).padStart(9)}x  ${(sum(xs) / 1000).toFixed(1).padStart(8)}`);
row("podunit start", r.starts);
row("floor start", r.floorStarts);
row("podunit stop", r.stops);
row("floor stop", r.floorStops);
console.log(`\nwith ${r.pods} pods running (medians of 5), ms:`);
console.log(`  podunit list ${f1(r.listMs)}   list --json ${f1(r.listJsonMs)}`);
console.log(`  podunit status ${f1(r.statusMs)}   status --json ${f1(r.statusJsonMs)}`);
console.log(`  systemctl list-units --all 'podunit-*' ${f1(r.systemctlListMs)}`);
if (r.baselineMs) {
  const b = r.baselineMs;
  console.log(`  the baseline (${BASELINE}), alternating with the above: list ${f1(b.list)}   list --json ${f1(b.listJson)}   status ${f1(b.status)}   status --json ${f1(b.statusJson)}`);
}
console.log(`\nmemory (the lab's memory cgroup growth / pods): podunit ${mib(r.memoryGrowthBytes / r.pods)} MiB, floor ${mib(r.floorMemoryGrowthBytes / r.pods)} MiB per pod`);
console.log(`resident podunit processes: ${r.residentPodunit || "none"}`);
console.log(`after stopping all: podunit ${r.leftovers.length ? r.leftovers.join("; ") : "nothing left"}; floor ${r.floorLeftovers.length ? r.floorLeftovers.join("; ") : "nothing left"}`);
console.log(`\nsystemd's own cost of one service (systemd-run --wait /bin/true, median of 11): ${f1(r.oneUnitMs.before)} ms with no pod, ${f1(r.oneUnitMs.after)} ms with ${r.pods} running`);
console.log(`\nCPU time of the daemons per start (ms, mean over the first and the last 10 starts; clock ticks of 10 ms):`);
for (const tool of ["podunit", "floor"] as const) {
  const d = r.daemonCpu[tool];
  console.log(`  ${tool.padEnd(8)} ${Object.keys(d.first).map((n) => `${n} ${d.first[n]!.toFixed(1)} -> ${d.last[n]?.toFixed(1) ?? "-"}`).join(", ")}`);
}
console.log(`\npodunit start phase by phase (PODUNIT_TRACE=1; medians, ms since the previous mark): first 10, last 10`);
for (const label of Object.keys({ ...r.traces.first, ...r.traces.last })) {
  const a = r.traces.first[label];
  const b = r.traces.last[label];
  console.log(`  ${a ? f1(median(a)) : "      -"} ${b ? f1(median(b)) : "      -"}  ${label}`);
}
