/**
 * `podunit image load` of a ~100 MB, 5-layer gzip image (half random, half
 * compressible content) against the floor: `tar -xzf` of the same five layers
 * (and `podman load` when podman is installed), median of RUNS, with the cost of
 * starting `/bin/true` on this machine for scale.
 *
 *   bun bench/image.ts [RUNS]
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { openStore } from "../src/image/index.ts";
import { benchImage } from "./image-data.ts";

const runs = Number(process.argv[2] ?? 5);
const work = mkdtempSync(`${tmpdir()}/podunit-bench-image-`);
const { tars, gz, archive } = benchImage(work);

function spawn(argv: string[]): void {
  const r = Bun.spawnSync(argv, { stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`'${argv.join(" ")}' exited ${r.exitCode}: ${r.stderr.toString()}`);
}
async function time(fn: () => unknown): Promise<number> {
  const t0 = Bun.nanoseconds();
  await fn();
  return (Bun.nanoseconds() - t0) / 1e6;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const podman = Bun.which("podman");
const res: Record<string, number[]> = { load: [], tar: [], podman: [], true: [] };
for (let i = 0; i < runs; i++) {
  const store = `${work}/store-${i}`;
  res.load!.push(await time(() => openStore(store).load(archive)));
  rmSync(store, { recursive: true, force: true });
  const out = `${work}/tar-${i}`;
  mkdirSync(out);
  res.tar!.push(await time(() => gz.forEach((_, l) => spawn(["tar", "-xzf", `${work}/layer${l}.tar.gz`, "-C", out]))));
  rmSync(out, { recursive: true, force: true });
  if (podman) {
    res.podman!.push(await time(() => spawn([podman, "load", "-q", "-i", archive])));
    spawn([podman, "rmi", "-f", "localhost/bench:1"]);
  }
  res.true!.push(await time(() => spawn(["/bin/true"])));
}
rmSync(work, { recursive: true, force: true });

const mb = (tars.reduce((s, t) => s + t.length, 0) / 1e6).toFixed(0);
const gzmb = (gz.reduce((s, t) => s + t.length, 0) / 1e6).toFixed(0);
const f = (x: number) => x.toFixed(1).padStart(8);
console.log(`image: 5 layers, ${mb} MB uncompressed, ${gzmb} MB gzip; median of ${runs} runs, ms`);
console.log(`  podunit image load (library, OCI archive)  ${f(median(res.load!))}`);
console.log(`  tar -xzf of the 5 layers (the floor)       ${f(median(res.tar!))}   ratio ${(median(res.load!) / median(res.tar!)).toFixed(2)}x`);
if (podman) console.log(`  podman load                                ${f(median(res.podman!))}`);
else console.log("  podman load                                not installed");
console.log(`  /bin/true (baseline of a process start)    ${f(median(res.true!))}`);
