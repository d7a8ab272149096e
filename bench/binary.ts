/**
 * The compiled binary's size and start-up time (`podunit version`), against
 * baselines measured in the same run: an empty program compiled by the same Bun
 * (the floor of any Bun executable) and `/bin/true` (of any process start).
 *
 *   bun bench/binary.ts [RUNS]        (make bench)
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { buildEmptyBun, timeStart as time } from "./startup.ts";

const BIN = join(import.meta.dir, "../dist/podunit");
const runs = Number(process.argv[2] ?? 30);

function stats(xs: number[]): { min: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
}

const fmt = (x: number) => x.toFixed(1).padStart(7);
const size = statSync(BIN).size;
const empty = buildEmptyBun();
// Warm-up, then alternate them so that all see the same machine state.
for (let i = 0; i < 3; i++) {
  time([BIN, "version"]);
  time([empty]);
  time(["/bin/true"]);
}
const pod: number[] = [];
const bun: number[] = [];
const floor: number[] = [];
for (let i = 0; i < runs; i++) {
  pod.push(time([BIN, "version"]));
  bun.push(time([empty]));
  floor.push(time(["/bin/true"]));
}
const p = stats(pod);
const b = stats(bun);
const f = stats(floor);
console.log(`podunit binary: ${(size / 1024 / 1024).toFixed(1)} MiB (${size} bytes)`);
console.log(`start-up, ${runs} runs, ms:        min  median     max`);
console.log(`  podunit version          ${fmt(p.min)} ${fmt(p.median)} ${fmt(p.max)}`);
console.log(`  empty Bun executable     ${fmt(b.min)} ${fmt(b.median)} ${fmt(b.max)}`);
console.log(`  /bin/true (baseline)     ${fmt(f.min)} ${fmt(f.median)} ${fmt(f.max)}`);
console.log(`  ratio of medians         ${(p.median / f.median).toFixed(1)}x`);
