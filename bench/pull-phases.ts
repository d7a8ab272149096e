/**
 * Where a pull's time goes: the benchmark image of bench/image-data.ts from a local
 * registry, fetched by plain HTTP (five blobs at once), then also hashed, then also
 * decompressed and hashed again as a pull must (diff_ids), against `pull` itself
 * in this process; medians of 3. Run it in a network namespace of its own:
 *
 *   unshare --net sh -c 'ip link set lo up && exec bun bench/pull-phases.ts'
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { gunzipSync } from "node:zlib";
import { benchImage } from "./image-data.ts";
import { push, startRegistry } from "../test/unit/registry-helpers.ts";
import { openStore } from "../src/image/index.ts";
import { pull } from "../src/image/fetch.ts";
const work = mkdtempSync(`${tmpdir()}/podunit-bench-phases-`);
const { layout } = benchImage(work);
const reg = await startRegistry(`${work}/registry`);
const ref = `${reg.host}/bench/app:1`;
await push(layout, "localhost/bench:1", ref);
const etc = `${work}/etc`; mkdirSync(etc); writeFileSync(`${etc}/registries.toml`, `insecure = ["${reg.host}"]\n`);
const m = await (await fetch(`http://${reg.host}/v2/bench/app/manifests/1`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } })).json() as any;
const layers: string[] = m.layers.map((l: any) => l.digest);
const t = async (label: string, fn: () => Promise<unknown>) => { const ts: number[] = []; for (let i = 0; i < 3; i++) { const t0 = performance.now(); await fn(); ts.push(performance.now() - t0); } ts.sort((a, b) => a - b); console.log(label.padEnd(50), ts[1]!.toFixed(0), "ms"); };
const all = (f: (d: string) => Promise<unknown>) => Promise.all(layers.map(f));
await t("download only (5 at once)", () => all(async (d) => { const r = await fetch(`http://${reg.host}/v2/bench/app/blobs/${d}`); for await (const _ of r.body!) {} }));
await t("download + sha256 compressed", () => all(async (d) => { const h = new Bun.CryptoHasher("sha256"); const r = await fetch(`http://${reg.host}/v2/bench/app/blobs/${d}`); for await (const c of r.body!) h.update(c); h.digest(); }));
await t("download + sha256 + gunzipSync + sha256 plain", () => all(async (d) => { const b = new Uint8Array(await (await fetch(`http://${reg.host}/v2/bench/app/blobs/${d}`)).arrayBuffer()); new Bun.CryptoHasher("sha256").update(b).digest(); const p = gunzipSync(b); new Bun.CryptoHasher("sha256").update(p).digest(); }));
await t("podunit pull in-process (fresh store)", async () => { const s = `${work}/store-${Math.random()}`; await pull(openStore(s), ref, { configDir: etc }); rmSync(s, { recursive: true, force: true }); });
reg.stop(); rmSync(work, { recursive: true, force: true });
