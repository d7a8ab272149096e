/**
 * The generator's wall time, as systemd runs it at boot and at daemon-reload: the
 * compiled binary through a `podunit-generator` link, over a spec directory with 0,
 * 10 and 100 good specs (each with [install], two host members and a rootfs member),
 * against `podunit version` in the same run (the floor: starting the binary). Output goes
 * to a tmpfs (/dev/shm) as systemd's does (/run/systemd/generator).
 * Only good specs: a failing one would be logged to the host's kernel log.
 *
 *   bun bench/generator.ts [RUNS]        (make bench)
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = join(import.meta.dir, "../dist/podunit");
const runs = Number(process.argv[2] ?? 20);
// systemd's generator directories are on /run, a tmpfs: write to one too where there is one.
const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "podunit-bench-generator-"));
const link = join(dir, "podunit-generator");
symlinkSync(BIN, link);

const SPEC = `memory_max = "256M"
[install]
[containers.db]
command = ["/usr/bin/sleep", "infinity"]
[containers.web]
command = ["/usr/bin/sleep", "infinity"]
after = ["db"]
[containers.app]
rootfs = "/var/lib/podunit/rootfs/app"
command = ["/bin/app"]
`;

function time(argv: string[], env: Record<string, string>): number {
  const t0 = Bun.nanoseconds();
  const r = Bun.spawnSync(argv, { env: { PATH: process.env.PATH ?? "", ...env }, stdout: "ignore", stderr: "pipe" });
  const ms = (Bun.nanoseconds() - t0) / 1e6;
  if (r.exitCode !== 0) throw new Error(`'${argv.join(" ")}' exited ${r.exitCode}: ${r.stderr.toString()}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  const floor = median(Array.from({ length: runs }, () => time([BIN, "version"], {})));
  console.log(`podunit version (the floor)      ${floor.toFixed(1).padStart(7)} ms`);
  for (const n of [0, 10, 100]) {
    const specs = join(dir, `specs-${n}`);
    mkdirSync(specs);
    for (let i = 0; i < n; i++) writeFileSync(join(specs, `pod${i}.toml`), SPEC);
    const samples: number[] = [];
    for (let r = 0; r < runs; r++) {
      const out = join(dir, `out-${n}-${r}`);
      mkdirSync(out);
      samples.push(time([link, out, `${out}.early`, `${out}.late`], { PODUNIT_SPEC_DIR: specs }));
      const written = readdirSync(out).filter((f) => f.endsWith(".target")).length;
      if (written !== n) throw new Error(`expected ${n} targets, found ${written}`);
      rmSync(out, { recursive: true });
    }
    console.log(`generator, ${String(n).padStart(3)} specs               ${median(samples).toFixed(1).padStart(7)} ms (median of ${runs})`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
