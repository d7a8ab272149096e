/**
 * A real counterpart: images written by skopeo (Debian's) load, and skopeo reads
 * the store as an OCI layout. Skipped when skopeo is not installed.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { openStore } from "../../src/image/index.ts";
import { buildImage, isRoot, ociLayoutFiles, snapshotTree, writeDir } from "./image-helpers.ts";
import { baseTar, upperTar } from "./image-fixtures.ts";

const skopeo = Bun.which("skopeo");
if (!skopeo) console.warn("image-skopeo: skopeo is not installed (apt-get install skopeo); skipped");
const run = skopeo && isRoot ? test : test.skip;
const work = mkdtempSync(`${tmpdir()}/podunit-image-skopeo-`);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function sk(...args: string[]): string {
  const r = Bun.spawnSync([skopeo!, "--insecure-policy", ...args], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`skopeo ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

run("skopeo's oci-archive (gzip layers) and docker-archive load; skopeo reads the store", async () => {
  const image = buildImage([baseTar(), upperTar()]);
  const layout = writeDir(`${work}/layout`, ociLayoutFiles([{ image, ref: "src" }]));
  sk("copy", `oci:${layout}:src`, `oci-archive:${work}/oci.tar:v1`);
  sk("copy", `oci:${layout}:src`, `docker-archive:${work}/docker.tar:localhost/from-skopeo:v2`);
  const store = openStore(`${work}/store`);
  const a = await store.load(`${work}/oci.tar`, { name: "localhost/skopeo-oci:1" });
  const b = await store.load(`${work}/docker.tar`);
  expect(b.images[0]!.names).toEqual(["localhost/from-skopeo:v2"]);
  // skopeo recompresses for oci-archive: other blobs, same diff_ids, so the unpacked layers are shared.
  const ia = store.resolve("localhost/skopeo-oci:1");
  const ib = store.resolve("localhost/from-skopeo:v2");
  expect(ia.layers.map((l) => l.mediaType)).toEqual(["application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.oci.image.layer.v1.tar+gzip"]);
  expect(ia.layers.map((l) => l.diffId)).toEqual(image.diffIds);
  expect(ib.layers.map((l) => l.path)).toEqual(ia.layers.map((l) => l.path));
  expect(snapshotTree(ia.layers[1]!.path)["etc/old"]).toMatchObject({ type: "char", rdev: 0 });

  for (const [ref, img] of [["localhost/skopeo-oci:1", a], ["localhost/from-skopeo:v2", b]] as const) {
    const info = JSON.parse(sk("inspect", `oci:${store.root}:${ref}`));
    expect(info.Digest).toBe(img.images[0]!.manifestDigest);
    expect(info.Layers.length).toBe(2);
    // A full copy out of the store: skopeo checks every blob's digest on the way.
    sk("copy", `oci:${store.root}:${ref}`, `dir:${work}/out-${ref.replace(/\W/g, "_")}`);
  }
});
