/**
 * The spec fuzz: thousands of generated specs (random keys and values of every
 * type, odd names with '/', '..', '\x2d', newlines and odd Unicode, huge numbers,
 * long strings), damaged fixtures and pathological inputs (deep nesting, huge
 * files, bytes that are not UTF-8). Each must give a clean SpecError or a plan
 * that stays inside its pod's namespace (test/unit/fuzz/check.ts); every seventh
 * also goes through `podunit check` and `podunit plan`. Cases run in a worker,
 * so one that hangs is stopped and named rather than hanging the run.
 */
import { expect, test } from "bun:test";
import { COUNTS, TOTAL, makeCase } from "./fuzz/gen.ts";
import type { Outcome } from "./fuzz/check.ts";

/** No case may take longer than this (a hang bound, not a timing assertion). */
const HANG_MS = 30_000;
const CLI_EVERY = 7;

type Msg = { done: true } | { id: number; begin: true } | { id: number; outcome: Outcome; ms: number } | { id: number; error: string; ms: number };

test(`fuzz: ${TOTAL} specs give a clean error or a plan inside their pod's namespace, never a crash or a hang`, async () => {
  const results: Array<Exclude<Msg, { done: true } | { begin: true }>> = [];
  const worker = new Worker(new URL("./fuzz/worker.ts", import.meta.url).href);
  const started = performance.now();
  try {
    await new Promise<void>((resolve, reject) => {
      let current = -1;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => reject(new Error(`fuzz case ${current} did not finish within ${HANG_MS / 1000} s:\n${preview(current)}`)), HANG_MS);
      };
      worker.onmessage = (e: MessageEvent<Msg>) => {
        const m = e.data;
        if ("done" in m) {
          clearTimeout(timer);
          resolve();
        } else if ("begin" in m) {
          current = m.id;
          arm();
        } else {
          results.push(m);
        }
      };
      worker.onerror = (e) => {
        clearTimeout(timer);
        reject(new Error(`the fuzz worker died at case ${current}: ${e.message}`));
      };
      arm();
      worker.postMessage({ from: 0, to: TOTAL, cliEvery: CLI_EVERY });
    });
  } finally {
    worker.terminate();
  }
  const secs = (performance.now() - started) / 1000;

  const failures = results.filter((r): r is { id: number; error: string; ms: number } => "error" in r);
  const outcomes = results.flatMap((r) => ("outcome" in r ? [r.outcome] : []));
  const invalid = outcomes.filter((o) => o.outcome === "invalid").length;
  const planned = outcomes.filter((o): o is Extract<Outcome, { outcome: "planned" }> => o.outcome === "planned");
  const plans = planned.reduce((n, o) => n + o.plans, 0);
  const refused = planned.reduce((n, o) => n + o.refused, 0);
  const units = planned.reduce((n, o) => n + o.units, 0);
  const slowest = results.reduce((a, b) => (b.ms > a.ms ? b : a), { id: -1, ms: 0 } as { id: number; ms: number });
  console.log(
    `fuzz: ${results.length} specs (${COUNTS.generated} generated, ${COUNTS.mutated} mutated fixtures, ${COUNTS.pathological} pathological) in ${secs.toFixed(1)} s: ` +
      `${invalid} refused with a SpecError, ${planned.length} valid → ${plans} plans (${units} units checked for names, cgroups, ids, paths and unit-file agreement), ` +
      `${refused} plans refused with a PodunitError; every ${CLI_EVERY}th through 'podunit check' and 'podunit plan'; slowest case ${slowest.id} (${slowest.ms.toFixed(0)} ms); ${failures.length} failures`,
  );
  for (const f of failures.slice(0, 5)) console.log(`fuzz case ${f.id}: ${f.error}\n${preview(f.id)}`);
  expect(results.length).toBe(TOTAL);
  expect(failures.map((f) => `case ${f.id}: ${f.error.split("\n")[0]}`)).toEqual([]);
  // Both outcomes must be common, or the generator tests only one side.
  expect(invalid).toBeGreaterThan(TOTAL / 10);
  expect(planned.length).toBeGreaterThan(TOTAL / 20);
  expect(slowest.ms).toBeLessThan(HANG_MS);
}, 900_000);

function preview(id: number): string {
  if (id < 0) return "";
  const input = makeCase(id).input;
  const text = typeof input === "string" ? input : `bytes ${Buffer.from(input.slice(0, 200)).toString("hex")}`;
  return `--- case ${id} (${text.length} characters) ---\n${text.length > 600 ? `${text.slice(0, 600)}...` : text}`;
}
