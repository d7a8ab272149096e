/**
 * Time to validate and plan a 50-member spec (test/fixtures/specs/good/many-members.toml),
 * in process, against a baseline measured in the same run: parsing the same
 * TOML text alone with @iarna/toml.
 *
 *   bun bench/plan.ts [RUNS]        (make bench)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import TOML from "@iarna/toml";
import { parseSpec } from "../src/podspec/parse.ts";
import { plan } from "../src/plan/plan.ts";
import { render } from "../src/plan/unitfiles.ts";
import { detectHostFacts } from "../src/plan/hostfacts.ts";

const file = join(import.meta.dir, "../test/fixtures/specs/good/many-members.toml");
const text = readFileSync(file, "utf8");
const host = detectHostFacts({});
const runs = Number(process.argv[2] ?? 200);

function measure(fn: () => unknown): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = Bun.nanoseconds();
    fn();
    out.push((Bun.nanoseconds() - t0) / 1e6);
  }
  return out.sort((a, b) => a - b);
}

const members = parseSpec(text, file).members.length;
// Warm-up, as the JIT would have it in a long run; the first run is reported separately.
const t0 = Bun.nanoseconds();
plan(parseSpec(text, file), host);
const first = (Bun.nanoseconds() - t0) / 1e6;
for (let i = 0; i < 20; i++) {
  TOML.parse(text);
  render(plan(parseSpec(text, file), host));
}
const toml = measure(() => TOML.parse(text));
const full = measure(() => plan(parseSpec(text, file), host));
const withRender = measure(() => render(plan(parseSpec(text, file), host)));
const row = (name: string, xs: number[]) =>
  `  ${name.padEnd(34)} ${xs[0]!.toFixed(2).padStart(7)} ${xs[Math.floor(xs.length / 2)]!.toFixed(2).padStart(7)} ${xs[xs.length - 1]!.toFixed(2).padStart(7)}`;
console.log(`${members}-member spec, ${runs} runs, ms:          min  median     max`);
console.log(row("TOML parse only (baseline)", toml));
console.log(row("parse + validate + plan", full));
console.log(row("parse + validate + plan + render", withRender));
console.log(`  first run (cold, before JIT)        ${first.toFixed(2)}`);
console.log(`  ratio of medians, plan/baseline     ${(full[runs >> 1]! / toml[runs >> 1]!).toFixed(1)}x`);
