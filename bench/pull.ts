/**
 * Pulling the ~100 MB, 5-layer image of bench/image-data.ts from a local
 * registry (Debian's docker-registry on 127.0.0.1, plain HTTP): `podunit image
 * pull` (the compiled binary, into a fresh store each run), `podman pull` (into a
 * fresh storage root each run, the registry given with --tls-verify=false) and
 * `skopeo copy` to an OCI layout (downloads only, no unpacking), in the same run;
 * medians of RUNS, with the cost of starting `/bin/true` for scale.
 *
 *   make build && bun bench/pull.ts [RUNS]
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchImage } from "./image-data.ts";
import { push, startRegistry } from "../test/unit/registry-helpers.ts";

const runs = Number(process.argv[2] ?? 5);
const podunit = join(import.meta.dir, "../dist/podunit");
if (!existsSync(podunit)) throw new Error("dist/podunit is missing: run 'make build' first");
const work = mkdtempSync(`${tmpdir()}/podunit-bench-pull-`);
const { tars, gz, layout } = benchImage(work);
const reg = await startRegistry(`${work}/registry`);
const ref = `${reg.host}/bench/app:1`;
await push(layout, "localhost/bench:1", ref);
const etc = `${work}/etc`;
mkdirSync(etc);
writeFileSync(`${etc}/registries.toml`, `insecure = ["${reg.host}"]\n`);

async function time(argv: string[], env: Record<string, string> = {}): Promise<number> {
  const t0 = Bun.nanoseconds();
  const p = Bun.spawn(argv, { env: { ...process.env, ...env }, stdout: "ignore", stderr: "pipe" });
  const code = await p.exited;
  const ms = (Bun.nanoseconds() - t0) / 1e6;
  if (code !== 0) throw new Error(`'${argv.join(" ")}' exited ${code}: ${await new Response(p.stderr).text()}`);
  return ms;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const podman = Bun.which("podman");
const skopeo = Bun.which("skopeo")!;
const res: Record<string, number[]> = { podunit: [], podman: [], skopeo: [], true: [] };
try {
  for (let i = 0; i < runs; i++) {
    const store = `${work}/store-${i}`;
    res.podunit!.push(await time([podunit, "image", "pull", "-q", ref], { PODUNIT_IMAGE_DIR: store, PODUNIT_CONFIG_DIR: etc }));
    rmSync(store, { recursive: true, force: true });
    if (podman) {
      const root = `${work}/podman-${i}`;
      res.podman!.push(await time([podman, "--root", `${root}/root`, "--runroot", `${root}/run`, "--storage-driver", "overlay", "pull", "-q", "--tls-verify=false", ref]));
      await time([podman, "--root", `${root}/root`, "--runroot", `${root}/run`, "--storage-driver", "overlay", "system", "reset", "-f"]).catch(() => 0);
      rmSync(root, { recursive: true, force: true });
    }
    const out = `${work}/oci-${i}`;
    res.skopeo!.push(await time([skopeo, "--insecure-policy", "copy", "-q", "--src-tls-verify=false", `docker://${ref}`, `oci:${out}:app`]));
    rmSync(out, { recursive: true, force: true });
    res.true!.push(await time(["/bin/true"]));
  }
} finally {
  reg.stop();
  rmSync(work, { recursive: true, force: true });
}

const mb = (tars.reduce((s, t) => s + t.length, 0) / 1e6).toFixed(0);
const gzmb = (gz.reduce((s, t) => s + t.length, 0) / 1e6).toFixed(0);
const f = (x: number) => x.toFixed(1).padStart(8);
console.log(`pull from a local registry: 5 layers, ${mb} MB uncompressed, ${gzmb} MB gzip; median of ${runs} runs, ms`);
console.log(`  podunit image pull (download, verify, unpack)   ${f(median(res.podunit!))}`);
console.log(podman ? `  podman pull (download, verify, unpack)          ${f(median(res.podman!))}` : "  podman pull                                     not installed");
console.log(`  skopeo copy to an OCI layout (download only)    ${f(median(res.skopeo!))}`);
console.log(`  /bin/true (baseline of a process start)         ${f(median(res.true!))}`);
