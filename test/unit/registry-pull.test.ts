/**
 * `pull` against Debian's distribution registry without authentication (an
 * insecure registry, plain HTTP): two-layer images, a two-platform index, a
 * shared base layer not downloaded again, short names through a mirror, a
 * missing tag, and the pull policies of `ensureImages`.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { openStore, type PullEvent } from "../../src/image/index.ts";
import { ensureImages, pull, RegistryError } from "../../src/image/fetch.ts";
import { buildImage, isRoot, makeTar, ociLayoutFiles, snapshotStore, writeDir } from "./image-helpers.ts";
import { baseTar, upperTar } from "./image-fixtures.ts";
import { push, registryBin, skopeoBin, startRegistry, type Registry } from "./registry-helpers.ts";

const ready = registryBin && skopeoBin;
if (!ready) console.warn("registry-pull: docker-registry or skopeo is missing (contrib/setup-debian.sh installs them); skipped");
const run = ready ? test : test.skip;
const work = mkdtempSync(`${tmpdir()}/podunit-pull-`);
let reg: Registry;
const cfg = `${work}/etc`;
const devices = isRoot;

const base = buildImage([baseTar({ devices })], { compression: "gzip" });
const app = buildImage([baseTar({ devices }), upperTar()], { compression: "gzip" });
const zst = buildImage([makeTar([{ name: "z/", type: "5" }, { name: "z/file", content: "zstd layer\n" }])], { compression: "zstd" });
const arm = buildImage([makeTar([{ name: "arm", content: "arm64\n" }])], { compression: "gzip", architecture: "arm64" });

beforeAll(async () => {
  if (!ready) return;
  reg = await startRegistry(`${work}/registry`);
  writeDir(`${cfg}`, new Map([["registries.toml", new TextEncoder().encode(`insecure = ["${reg.host}"]\n[mirrors]\n"docker.io" = "${reg.host}"\n`)]]));
  const layout = writeDir(`${work}/layout`, ociLayoutFiles([{ image: base, ref: "base" }, { image: app, ref: "app" }, { image: zst, ref: "zst" }]));
  await push(layout, "base", `${reg.host}/team/base:1`);
  await push(layout, "app", `${reg.host}/team/app:1`);
  await push(layout, "zst", `${reg.host}/team/zst:1`);
  await push(layout, "app", `${reg.host}/library/busybox:latest`);
  // A two-platform index: this host's image and an arm64 one.
  const multi = `${work}/multi`;
  writeDir(multi, ociLayoutFiles([{ image: app }, { image: arm }]));
  const index = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: arm.manifestDigest, size: arm.manifest.length, platform: { architecture: "arm64", os: "linux" } },
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: app.manifestDigest, size: app.manifest.length, platform: { architecture: "amd64", os: "linux" } },
    ],
  };
  const ib = new TextEncoder().encode(JSON.stringify(index));
  const { digestOf } = await import("./image-helpers.ts");
  writeFileSync(`${multi}/blobs/sha256/${digestOf(ib).slice(7)}`, ib);
  writeFileSync(`${multi}/index.json`, JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: index.mediaType, digest: digestOf(ib), size: ib.length, annotations: { "org.opencontainers.image.ref.name": "multi" } }] }));
  await push(multi, "multi", `${reg.host}/team/multi:1`, { all: true });
}, 60_000);
afterAll(() => {
  reg?.stop();
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
const freshStore = () => openStore(`${work}/store-${++n}`);

run("a two-layer image: pulled, named, unpacked as load does; progress reported per layer", async () => {
  const store = freshStore();
  const events: PullEvent[] = [];
  const r = await pull(store, `${reg.host}/team/app:1`, { configDir: cfg, onEvent: (e) => events.push(e) });
  expect(r).toMatchObject({ manifestDigest: app.manifestDigest, name: `${reg.host}/team/app:1`, newLayers: 2, layers: 2 });
  const img = store.resolve(`${reg.host}/team/app:1`);
  expect(img.layers.map((l) => l.diffId)).toEqual(app.diffIds);
  expect(events[0]).toMatchObject({ type: "resolved", layers: app.layerDigests.map((digest) => ({ digest })) });
  const done = events.filter((e) => e.type === "layer-done" && app.layerDigests.includes(e.digest));
  expect(done.map((e) => (e as { cached: boolean }).cached)).toEqual([false, false]);
  expect(events.some((e) => e.type === "bytes")).toBe(true);
  // Pulled again: nothing downloaded but the manifest.
  const before = reg.blobGets().length;
  const again = await pull(store, `${reg.host}/team/app:1`, { configDir: cfg });
  expect(again.newLayers).toBe(0);
  expect(reg.blobGets().length).toBe(before);
});

run("a zstd layer; a pull by digest is stored without a name", async () => {
  const store = freshStore();
  await pull(store, `${reg.host}/team/zst:1`, { configDir: cfg });
  expect(store.resolve(`${reg.host}/team/zst:1`).layers[0]!.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+zstd");
  const r = await pull(store, `${reg.host}/team/base@${base.manifestDigest}`, { configDir: cfg });
  expect(r.name).toBeUndefined();
  expect(store.resolve(base.manifestDigest).names).toEqual([]);
});

run("an index with two platforms: this host's image is chosen; --platform chooses the other, which the store refuses", async () => {
  const store = freshStore();
  const r = await pull(store, `${reg.host}/team/multi:1`, { configDir: cfg });
  expect(r.manifestDigest).toBe(app.manifestDigest);
  const snap = snapshotStore(store.root);
  const e = await pull(store, `${reg.host}/team/multi:1`, { configDir: cfg, platform: "linux/arm64" }).catch((x) => x);
  expect(e.message).toContain("is for linux/arm64, but this host is linux/amd64");
  const none = await pull(store, `${reg.host}/team/multi:1`, { configDir: cfg, platform: "linux/s390x" }).catch((x) => x);
  expect(none.message).toContain("has no image for linux/s390x (it has: linux/arm64, linux/amd64)");
  expect(snapshotStore(store.root)).toEqual(snap);
});

run("a base the store has: only the new layer is downloaded", async () => {
  const store = freshStore();
  await pull(store, `${reg.host}/team/base:1`, { configDir: cfg });
  const before = reg.blobGets().length;
  const r = await pull(store, `${reg.host}/team/app:1`, { configDir: cfg });
  expect(r.newLayers).toBe(1);
  const got = reg.blobGets().slice(before);
  expect(got.filter((d) => app.layerDigests.includes(d))).toEqual([app.layerDigests[1]!]);
  expect(got).not.toContain(app.layerDigests[0]);
});

run("a short name goes to the registry docker.io is mirrored to", async () => {
  const store = freshStore();
  const r = await pull(store, "busybox", { configDir: cfg });
  expect(r.name).toBe("docker.io/library/busybox:latest");
  expect(store.resolve("busybox").manifestDigest).toBe(app.manifestDigest);
});

run("a missing tag or repository: not found, the store unchanged", async () => {
  const store = freshStore();
  await pull(store, `${reg.host}/team/base:1`, { configDir: cfg });
  const snap = snapshotStore(store.root);
  const e = await pull(store, `${reg.host}/team/app:nope`, { configDir: cfg }).catch((x) => x);
  expect(e).toBeInstanceOf(RegistryError);
  expect(e.kind).toBe("not-found");
  expect(e.message).toContain(`Registry '${reg.host}' has no image '${reg.host}/team/app:nope' (MANIFEST_UNKNOWN`);
  const e2 = await pull(store, `${reg.host}/team/nothing:1`, { configDir: cfg }).catch((x) => x);
  expect(e2.kind).toBe("not-found");
  expect(snapshotStore(store.root)).toEqual(snap);
});

run("a registry not listed as insecure is not spoken to over plain HTTP", async () => {
  const store = freshStore();
  const e = await pull(store, `${reg.host}/team/base:1`, { configDir: `${work}/no-config` }).catch((x) => x);
  expect(e).toBeInstanceOf(RegistryError);
  expect(e.message).toMatch(/Cannot reach registry|TLS failure/);
});

run("ensureImages: missing pulls once, never refuses what is missing, always checks the registry", async () => {
  const store = freshStore();
  const refs = [`${reg.host}/team/base:1`, `${reg.host}/team/app:1`, `${reg.host}/team/base:1`];
  const never = await ensureImages(store, refs, "never", { configDir: cfg }).catch((x) => x);
  expect(never.message).toContain("and the pull policy is 'never'");
  expect(snapshotStore(store.root)).toEqual([]);
  const first = await ensureImages(store, refs, "missing", { configDir: cfg });
  expect(first.map((x) => [x.manifestDigest, x.pulled])).toEqual([[base.manifestDigest, true], [app.manifestDigest, true], [base.manifestDigest, true]]);
  const second = await ensureImages(store, refs, "missing", { configDir: cfg });
  expect(second.every((x) => !x.pulled)).toBe(true);
  expect((await ensureImages(store, refs, "never", { configDir: cfg })).map((x) => x.manifestDigest)).toEqual(first.map((x) => x.manifestDigest));
  const always = await ensureImages(store, refs.slice(0, 1), "always", { configDir: cfg });
  expect(always[0]).toMatchObject({ pulled: true, manifestDigest: base.manifestDigest });
});
