/**
 * The compiled binary's size and start-up time (`podunit version`), against a
 * baseline measured in the same run: starting `/bin/true`, the floor of any
 * process start on this machine.
 *
 *   bun bench/binary.ts [RUNS]        (make bench)
 */
import { statSync } from "node:fs";
import { join } from "node:path";

const BIN = join(import.meta.dir, "../dist/podunit");
const runs = Number(process.argv[2] ?? 30);

function time(argv: string[]): number {
  const t0 = Bun.nanoseconds();
  const r = Bun.spawnSync(argv, { stdout: "ignore", stderr: "pipe" });
  const ms = (Bun.nanoseconds() - t0) / 1e6;
  if (r.exitCode !== 0) throw new Error(`'${argv.join(" ")}' exited ${r.exitCode}: ${r.stderr.toString()}`);
  return ms;
}

function stats(xs: number[]): { min: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
}

const fmt = (x: number) => x.toFixed(1).padStart(7);
const size = statSync(BIN).size;
// Warm-up, then alternate the two so that both see the same machine state.
for (let i = 0; i < 3; i++) {
  time([BIN, "version"]);
  time(["/bin/true"]);
}
const pod: number[] = [];
const floor: number[] = [];
for (let i = 0; i < runs; i++) {
  pod.push(time([BIN, "version"]));
  floor.push(time(["/bin/true"]));
}
const p = stats(pod);
const f = stats(floor);
console.log(`podunit binary: ${(size / 1024 / 1024).toFixed(1)} MiB (${size} bytes)`);
console.log(`start-up, ${runs} runs, ms:        min  median     max`);
console.log(`  podunit version          ${fmt(p.min)} ${fmt(p.median)} ${fmt(p.max)}`);
console.log(`  /bin/true (baseline)     ${fmt(f.min)} ${fmt(f.median)} ${fmt(f.max)}`);
console.log(`  ratio of medians         ${(p.median / f.median).toFixed(1)}x`);
