/**
 * The benchmark image of bench/image.ts and bench/pull.ts: ~100 MB in 5 gzip
 * layers (half random, half compressible content), written as an OCI layout
 * (tag "bench", named localhost/bench:1) and an archive of it.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";

export function benchImage(work: string) {
  const te = new TextEncoder();

  function header(name: string, size: number, type = "0", mode = 0o644): Uint8Array {
    const h = new Uint8Array(512);
    const put = (s: string, off: number) => h.set(te.encode(s), off);
    const oct = (n: number, len: number) => n.toString(8).padStart(len - 1, "0") + "\0";
    put(name, 0);
    put(oct(mode, 8), 100);
    put(oct(0, 8), 108);
    put(oct(0, 8), 116);
    put(oct(size, 12), 124);
    put(oct(1_700_000_000, 12), 136);
    put("        ", 148);
    put(type, 156);
    put("ustar\0" + "00", 257);
    let sum = 0;
    for (const c of h) sum += c;
    put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    return h;
  }

  /** A layer of ~20 MB: 40 files of 512 KiB, every other one random. */
  function layer(i: number): Uint8Array {
    const parts: Uint8Array[] = [header(`l${i}/`, 0, "5", 0o755)];
    for (let f = 0; f < 40; f++) {
      const data = f % 2 ? randomBytes(512 << 10) : te.encode(`layer ${i} file ${f} some compressible text\n`.repeat(20000)).subarray(0, 512 << 10);
      parts.push(header(`l${i}/f${f}`, data.length), data);
      if (data.length % 512) parts.push(new Uint8Array(512 - (data.length % 512)));
    }
    parts.push(new Uint8Array(1024));
    return Buffer.concat(parts);
  }

  const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
  const tars = [0, 1, 2, 3, 4].map(layer);
  const gz = tars.map((t) => Bun.gzipSync(t as Uint8Array<ArrayBuffer>));
  const layout = `${work}/layout`;
  mkdirSync(`${layout}/blobs/sha256`, { recursive: true });
  const put = (b: Uint8Array) => {
    const d = sha(b);
    writeFileSync(`${layout}/blobs/sha256/${d.slice(7)}`, b);
    return d;
  };
  gz.forEach((g, i) => writeFileSync(`${work}/layer${i}.tar.gz`, g));
  const config = te.encode(JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: tars.map(sha) } }));
  const manifest = te.encode(JSON.stringify({
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: put(config), size: config.length },
    layers: gz.map((g) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: put(g), size: g.length })),
  }));
  const md = put(manifest);
  writeFileSync(`${layout}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(`${layout}/index.json`, JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: md, size: manifest.length, annotations: { "org.opencontainers.image.ref.name": "localhost/bench:1" } }] }));
  const archive = `${work}/image.tar`;
  Bun.spawnSync(["tar", "-cf", archive, "-C", layout, "oci-layout", "index.json", "blobs"]);
  return { tars, gz, layout, archive };
}
