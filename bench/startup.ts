/**
 * What starting a process costs on this machine, measured in the same run as
 * the figures it explains: `/bin/true` (the floor of any process start), an
 * empty program compiled by the same Bun with the same flags as podunit (the
 * floor of any Bun executable), and `podunit version` (podunit's own start-up:
 * its entry and the modules every command loads, node:fs among them, and one line
 * of output; like the verbs of a pod's life, it does not load the command table).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const REPO = join(import.meta.dir, "..");
export const PODUNIT_BIN = join(REPO, "dist/podunit");
const EMPTY_BIN = join(REPO, "dist/bench/empty-bun");

export interface StartupCosts {
  trueMs: number;
  emptyBunMs: number;
  podunitVersionMs: number;
  runs: number;
}

/** The Makefile's flags for podunit (BUILD_FLAGS), without its --define of the revision and date. */
const BUILD_FLAGS = ["--compile", "--bytecode", "--splitting", "--format=esm", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig"];

/** Builds the empty Bun executable (dist/bench/empty-bun) like the Makefile builds podunit. */
export function buildEmptyBun(): string {
  mkdirSync(join(REPO, "dist/bench"), { recursive: true });
  const src = join(REPO, "dist/bench/empty.ts");
  writeFileSync(src, "");
  const r = Bun.spawnSync([join(REPO, "node_modules/.bin/bun"), "build", ...BUILD_FLAGS, "--outfile", EMPTY_BIN, src], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`building the empty Bun executable failed: ${r.stderr.toString()}`);
  return EMPTY_BIN;
}

/** Builds bench/bun-floor.ts as dist/bench/bun-floor, with podunit's flags. */
export function buildBunFloor(): string {
  const out = join(REPO, "dist/bench/bun-floor");
  mkdirSync(join(REPO, "dist/bench"), { recursive: true });
  const r = Bun.spawnSync([join(REPO, "node_modules/.bin/bun"), "build", ...BUILD_FLAGS, "--outfile", out, join(REPO, "bench/bun-floor.ts")], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`building the Bun floor failed: ${r.stderr.toString()}`);
  return out;
}

/** Wall time of one run of `argv` to its exit, in ms; throws when it fails. */
export function timeStart(argv: string[]): number {
  const t0 = Bun.nanoseconds();
  const r = Bun.spawnSync(argv, { stdout: "ignore", stderr: "pipe" });
  const ms = (Bun.nanoseconds() - t0) / 1e6;
  if (r.exitCode !== 0) throw new Error(`'${argv.join(" ")}' exited ${r.exitCode}: ${r.stderr.toString()}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Medians of `runs` starts of each, alternating, after 3 warm-up rounds. */
export function startupCosts(runs = 21): StartupCosts {
  const empty = buildEmptyBun();
  const cmds = { trueMs: ["/bin/true"], emptyBunMs: [empty], podunitVersionMs: [PODUNIT_BIN, "version"] };
  const xs: Record<keyof typeof cmds, number[]> = { trueMs: [], emptyBunMs: [], podunitVersionMs: [] };
  for (let i = -3; i < runs; i++) {
    for (const [k, argv] of Object.entries(cmds) as Array<[keyof typeof cmds, string[]]>) {
      const ms = timeStart(argv);
      if (i >= 0) xs[k].push(ms);
    }
  }
  return { trueMs: median(xs.trueMs), emptyBunMs: median(xs.emptyBunMs), podunitVersionMs: median(xs.podunitVersionMs), runs };
}

/** The machine line's cost part. */
export function describeStartup(c: StartupCosts): string {
  return `starting /bin/true costs ${c.trueMs.toFixed(2)} ms here, an empty Bun executable ${c.emptyBunMs.toFixed(1)} ms, \`podunit version\` ${c.podunitVersionMs.toFixed(1)} ms (medians of ${c.runs})`;
}
