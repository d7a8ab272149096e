/**
 * Whether systemd's start of a unit slows down with the number of sibling slices:
 * boots a lab and runs bench/siblings-lab.ts in it (N slices below podunit.slice,
 * each with one `sleep` service, as N pods would have).
 *
 *   N=1000 bun bench/siblings.ts      (root)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Lab, REPO } from "../test/lab/lab.ts";

const N = Number(process.env.N ?? 1000);
const lab = await Lab.boot("siblings");
let r: { n: number; before: Record<string, number>; after: Record<string, number> };
try {
  const res = await lab.run([join(REPO, "node_modules/.bin/bun"), join(REPO, "bench/siblings-lab.ts"), "/srv/lab/siblings.json", String(N)], { timeoutMs: 60 * 60 * 1000 });
  if (res.status !== 0) throw new Error(`the run failed (exit ${res.status}):\n${res.stderr}${res.stdout}`);
  r = JSON.parse(readFileSync(join(lab.shareDir, "siblings.json"), "utf8"));
} finally {
  lab.shutdown();
}
const f = (x: number) => x.toFixed(1).padStart(7);
console.log(`systemd-run --wait /bin/true, medians of 11, ms (systemd's CPU time per start, mean):`);
console.log(`                                   no sibling slices   ${r.n} sibling slices below podunit.slice`);
console.log(`  in system.slice                  ${f(r.before.systemSlice!)} (${f(r.before.cpuSystemSlice!)})   ${f(r.after.systemSlice!)} (${f(r.after.cpuSystemSlice!)})`);
console.log(`  in a new slice below podunit.slice ${f(r.before.podunitSlice!)} (${f(r.before.cpuPodunitSlice!)})   ${f(r.after.podunitSlice!)} (${f(r.after.cpuPodunitSlice!)})`);
