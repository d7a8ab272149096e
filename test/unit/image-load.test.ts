/**
 * `load` in every format and compression; the unpacked tree compared entry by
 * entry with GNU tar's extraction of the same layer, whiteouts in overlay form,
 * layers shared between images, names, resolve, list, rm and prune.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { openStore, overlayLowerdir, unpackedLayerDirs } from "../../src/image/index.ts";
import {
  buildImage, compress, dockerNewFiles, dockerOldFiles, isRoot, makeTar, ociLayoutFiles, snapshotStore, snapshotTree, writeArchive,
  writeDir, type BuiltImage, type Compression,
} from "./image-helpers.ts";
import { baseEntries, baseTar, CAP_NET_RAW, LONG_FILE, upperTar } from "./image-fixtures.ts";

const work = mkdtempSync(`${tmpdir()}/podunit-image-load-`);
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const fresh = (what: string) => {
  const d = `${work}/${what}-${++n}`;
  mkdirSync(d, { recursive: true });
  return d;
};

const rootOnly = isRoot ? test : test.skip;
if (!isRoot) console.warn("image-load: not root; the tests that set owners and make devices and whiteouts are skipped");

type Format = "oci-dir" | "oci-archive" | "docker-old" | "docker-new";
function writeSource(format: Format, images: { image: BuiltImage; name: string }[], compression: Compression = "none"): string {
  const base = fresh(format);
  switch (format) {
    case "oci-dir":
      return writeDir(`${base}/layout`, ociLayoutFiles(images.map((i) => ({ image: i.image, ref: i.name }))));
    case "oci-archive":
      return writeArchive(`${base}/image.tar`, ociLayoutFiles(images.map((i) => ({ image: i.image, ref: i.name }))));
    case "docker-old":
      return writeArchive(`${base}/image.tar`, dockerOldFiles(images.map((i) => ({ image: i.image, tags: [i.name], compression }))));
    case "docker-new":
      return writeArchive(`${base}/image.tar`, dockerNewFiles(images.map((i) => ({ image: i.image, tags: [i.name] }))));
  }
}

/** GNU tar's extraction of a layer: the reference for everything but whiteouts. */
function gnuTarExtract(tar: Uint8Array): string {
  const dir = fresh("gnutar");
  writeFileSync(`${dir}.tar`, tar);
  const r = Bun.spawnSync(["tar", "--xattrs", "--xattrs-include=*", "--same-owner", "-xpf", `${dir}.tar`, "-C", dir, "--numeric-owner"]);
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return dir;
}

describe("every format and compression gives the same tree", () => {
  const reference = isRoot ? snapshotTree(gnuTarExtract(baseTar())) : undefined;
  const formats: Format[] = ["oci-dir", "oci-archive", "docker-old", "docker-new"];
  const compressions: Compression[] = ["none", "gzip", "zstd"];
  for (const format of formats) {
    for (const c of compressions) {
      rootOnly(`${format}, ${c}`, async () => {
        const image = buildImage([baseTar(), upperTar()], { compression: format === "docker-old" ? "none" : c });
        const src = format === "docker-old" ? writeDocker(c) : writeSource(format, [{ image, name: "localhost/test:1" }]);
        const store = openStore(fresh("store"));
        const r = await store.load(src);
        expect(r.images.map((i) => i.names)).toEqual([["localhost/test:1"]]);
        expect(r.newLayers).toBe(2);
        const img = store.resolve("localhost/test:1");
        expect(img.layers.map((l) => l.diffId)).toEqual(image.diffIds);
        const [lower, upper] = unpackedLayerDirs(img);
        expect(withoutImplicitDirTimes(snapshotTree(lower!))).toEqual(withoutImplicitDirTimes(reference!));
        checkUpper(snapshotTree(upper!));
        expect(overlayLowerdir(img)).toBe(`${upper}:${lower}`);
        expect(readdirSync(`${store.root}/tmp`)).toEqual([]);
      });
    }
  }
  /** docker save's old form with a compressed layer.tar (docker load accepts it). */
  function writeDocker(c: Compression): string {
    const image = buildImage([baseTar(), upperTar()], { compression: "none" });
    return writeArchive(`${fresh("docker-old")}/image.tar`, dockerOldFiles([{ image, tags: ["localhost/test:1"], compression: c }]));
  }
});

/** Parents the layer has no entry for are made at unpacking time by both tools: their mtimes differ. */
function withoutImplicitDirTimes(t: ReturnType<typeof snapshotTree>): ReturnType<typeof snapshotTree> {
  const listed = new Set(baseEntries().map((e) => e.name.replace(/\/$/, "").replace(/^\.$/, ".") || "."));
  listed.add(".");
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.type === "dir" && !listed.has(k) ? { ...v, mtime: undefined } : v]));
}

function checkUpper(t: ReturnType<typeof snapshotTree>) {
  // A file whiteout is a 0/0 character device; an opaque directory has trusted.overlay.opaque=y.
  expect(t["etc/old"]).toMatchObject({ type: "char", rdev: 0 });
  expect(t["bin/gone"]).toMatchObject({ type: "char", rdev: 0 });
  expect(t["etc/.wh.old"]).toBeUndefined();
  expect(t["data/cache"]!.xattrs["trusted.overlay.opaque"]).toBe(Buffer.from("y").toString("hex"));
  expect(t["data/cache/c"]).toMatchObject({ type: "file", content: "c\n" });
  expect(t["data/cache/.wh..wh..opq"]).toBeUndefined();
  expect(t["srv"]).toMatchObject({ type: "dir", mode: 0o2775, gid: 50 });
  expect(t["etc/passwd"]!.content).toContain("user:x:1000");
}

rootOnly("the base layer: owners, setuid/setgid/sticky, links, capability, devices, long names (explicitly)", async () => {
  const image = buildImage([baseTar()]);
  const store = openStore(fresh("store"));
  await store.load(writeSource("oci-dir", [{ image, name: "localhost/base" }]));
  const t = snapshotTree(store.resolve("localhost/base").layers[0]!.path);
  expect(t["bin/su"]).toMatchObject({ type: "file", mode: 0o4755, uid: 0 });
  expect(t["bin/wall"]).toMatchObject({ mode: 0o2755, gid: 5 });
  expect(t["tmp"]).toMatchObject({ type: "dir", mode: 0o1777 });
  expect(t["home/user"]).toMatchObject({ mode: 0o700, uid: 1000, gid: 1000 });
  expect(t["bin/sh"]).toMatchObject({ type: "symlink", link: "busybox" });
  expect(t["abs-link"]).toMatchObject({ type: "symlink", link: "/etc/passwd" });
  expect(t["bin/ping"]!.xattrs["security.capability"]).toBe(Buffer.from(CAP_NET_RAW).toString("hex"));
  expect(t["etc/note"]!.xattrs["user.note"]).toBe(Buffer.from("hello").toString("hex"));
  expect(t["dev/null"]).toMatchObject({ type: "char", rdev: 0x103, mode: 0o666 });
  expect(t["run/fifo"]).toMatchObject({ type: "fifo", mode: 0o600 });
  expect(t[LONG_FILE]).toMatchObject({ content: "long gnu name\n" });
  expect(t["bin/busybox"]!.mtime).toBe(1_700_000_000);
  const p = store.resolve("localhost/base").layers[0]!.path;
  expect(statSync(`${p}/bin/ash`).ino).toBe(statSync(`${p}/bin/busybox`).ino);
});

rootOnly("two images sharing a base layer store it once; rm keeps what the other uses; prune", async () => {
  const root = fresh("store");
  const store = openStore(root);
  const base = baseTar();
  const a = buildImage([base, makeTar([{ name: "a", content: "a" }])], { compression: "gzip" });
  const b = buildImage([base, makeTar([{ name: "b", content: "b" }])], { compression: "zstd" });
  expect((await store.load(writeSource("oci-archive", [{ image: a, name: "docker.io/library/app-a" }]))).newLayers).toBe(2);
  expect((await store.load(writeSource("oci-dir", [{ image: b, name: "library/app-b:2" }]))).newLayers).toBe(1);
  expect(readdirSync(`${root}/layers/sha256`).length).toBe(3);
  const la = store.resolve("app-a").layers[0]!.path;
  expect(store.resolve("docker.io/library/app-b:2").layers[0]!.path).toBe(la);
  expect(store.list().map((i) => i.names)).toEqual([["docker.io/library/app-a:latest"], ["docker.io/library/app-b:2"]]);
  const r = await store.remove("app-a");
  expect(r).toMatchObject({ removed: true, untagged: ["docker.io/library/app-a:latest"], layers: 1 });
  expect(existsSync(la)).toBe(true);
  expect(readdirSync(`${root}/layers/sha256`).length).toBe(2);
  await store.remove(b.manifestDigest.slice(7, 19));
  expect(readdirSync(`${root}/layers/sha256`)).toEqual([]);
  expect(readdirSync(`${root}/blobs/sha256`)).toEqual([]);
  expect((await store.prune()).blobs).toBe(0);
});

test("an archive with several images and tags loads them all; --name only for one image", async () => {
  const a = buildImage([makeTar([{ name: "a", content: "a" }])]);
  const b = buildImage([makeTar([{ name: "b", content: "b" }])], { compression: "gzip" });
  for (const format of ["oci-archive", "docker-new", "docker-old"] as Format[]) {
    const store = openStore(fresh("store"));
    const src = writeSource(format, [{ image: a, name: "registry.example:5000/team/a:1" }, { image: b, name: "localhost/b:2" }]);
    await expect(store.load(src, { name: "x" })).rejects.toThrow(/--name names one image, but .* holds 2/);
    const r = await store.load(src);
    expect(r.images.flatMap((i) => i.names).sort()).toEqual(["localhost/b:2", "registry.example:5000/team/a:1"]);
    expect(store.resolve("registry.example:5000/team/a:1").layers.length).toBe(1);
  }
  const store = openStore(fresh("store"));
  await store.load(writeSource("oci-dir", [{ image: a, name: "whatever" }]), { name: "localhost/named:7" });
  expect(store.list()[0]!.names).toEqual(["localhost/named:7"]);
});

test("names: a tag-only ref.name, an unnamed image, a name moving to a new image, digests and ids", async () => {
  const store = openStore(fresh("store"));
  const a = buildImage([makeTar([{ name: "a", content: "a" }])]);
  const b = buildImage([makeTar([{ name: "b", content: "b" }])]);
  const dir = fresh("src");
  writeArchive(`${dir}/My App.tar`, ociLayoutFiles([{ image: a, ref: "v1" }]));
  expect((await store.load(`${dir}/My App.tar`)).images[0]!.names).toEqual(["localhost/my-app:v1"]);
  await store.load(writeSource("oci-dir", [{ image: b, name: "localhost/my-app:v1" }]));
  const list = store.list();
  expect(list.map((i) => [i.manifestDigest, i.names])).toEqual([[b.manifestDigest, ["localhost/my-app:v1"]], [a.manifestDigest, []]]);
  expect(store.resolve(a.manifestDigest).names).toEqual([]);
  expect(store.resolve(`localhost/my-app@${a.manifestDigest}`).manifestDigest).toBe(a.manifestDigest);
  expect(store.resolve(a.manifestDigest.slice(7, 19)).manifestDigest).toBe(a.manifestDigest);
  expect(() => store.resolve("localhost/nothing")).toThrow(/No image 'localhost\/nothing'/);
  try {
    store.resolve("busybox");
  } catch (e) {
    expect((e as { hint: string }).hint).toContain("podunit image load");
    expect((e as { hint: string }).hint).toContain("podunit image pull");
    expect((e as { exitCode: number }).exitCode).toBe(5);
  }
  expect((await store.prune()).images).toEqual([a.manifestDigest]);
  expect(store.list().length).toBe(1);
});

test("rm refuses an image in use; --force keeps it unnamed until prune finds it unused", async () => {
  const store = openStore(fresh("store"));
  const a = buildImage([makeTar([{ name: "a", content: "a" }])]);
  await store.load(writeSource("oci-dir", [{ image: a, name: "localhost/used" }]));
  const users = new Map([[a.manifestDigest, ["web"]]]);
  const inUse = (d: string) => users.get(d) ?? [];
  await expect(store.remove("localhost/used", { inUse })).rejects.toThrow(/in use by 'web'/);
  const r = await store.remove("localhost/used", { inUse, force: true });
  expect(r).toMatchObject({ removed: false, inUseBy: ["web"], untagged: ["localhost/used:latest"] });
  expect((await store.prune({ inUse })).images).toEqual([]);
  expect(store.resolve(a.manifestDigest).layers.length).toBe(1);
  users.clear();
  expect(await store.prune({ inUse })).toMatchObject({ images: [a.manifestDigest], layers: 1, blobs: 3 });
});

test("a multi-platform index: the host's image is picked; a foreign-only image is refused", async () => {
  const amd = buildImage([makeTar([{ name: "amd", content: "1" }])]);
  const arm = buildImage([makeTar([{ name: "arm", content: "2" }])], { architecture: "arm64" });
  const files = ociLayoutFiles([{ image: amd }, { image: arm }]);
  const idx = new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: arm.manifestDigest, size: arm.manifest.length, platform: { architecture: "arm64", os: "linux" } },
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: amd.manifestDigest, size: amd.manifest.length, platform: { architecture: "amd64", os: "linux" } },
    ],
  }));
  const { digestOf } = await import("./image-helpers.ts");
  files.set(`blobs/sha256/${digestOf(idx).slice(7)}`, idx);
  files.set("index.json", new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.index.v1+json", digest: digestOf(idx), size: idx.length, annotations: { "org.opencontainers.image.ref.name": "localhost/multi:1" } }] })));
  const store = openStore(fresh("store"));
  const r = await store.load(writeDir(`${fresh("src")}/l`, files));
  expect(r.images).toEqual([{ manifestDigest: amd.manifestDigest, names: ["localhost/multi:1"] }]);
  await expect(store.load(writeSource("oci-dir", [{ image: arm, name: "localhost/arm" }]))).rejects.toThrow(/is for linux\/arm64, but this host is linux\/amd64/);
});

test("a load that died is undone on the next open: its journal's paths the index does not name, and tmp/", async () => {
  const root = fresh("store");
  const store = openStore(root);
  const a = buildImage([makeTar([{ name: "a", content: "a" }])]);
  await store.load(writeSource("oci-dir", [{ image: a, name: "localhost/a" }]));
  const before = snapshotStore(root);
  // What a load killed between its renames and its index.json leaves.
  const orphan = "b".repeat(64);
  writeFileSync(`${root}/blobs/sha256/${orphan}`, "x");
  mkdirSync(`${root}/layers/sha256/${orphan}`);
  mkdirSync(`${root}/tmp/load-dead/layer-1/usr`, { recursive: true });
  writeFileSync(`${root}/tmp/commit.json`, JSON.stringify([`blobs/sha256/${orphan}`, `layers/sha256/${orphan}`]));
  openStore(root);
  expect(snapshotStore(root)).toEqual(before);
  expect(readdirSync(`${root}/tmp`)).toEqual([]);
});

test("two loads at once: the lock makes the second wait, both images end up in the index", async () => {
  const store = openStore(fresh("store"));
  const imgs = [0, 1, 2].map((i) => buildImage([makeTar([{ name: `f${i}`, content: "x".repeat(100000 * (i + 1)) }])], { compression: "gzip" }));
  const srcs = imgs.map((image, i) => writeSource("oci-archive", [{ image, name: `localhost/c${i}` }]));
  await Promise.all(srcs.map((s) => openStore(store.root).load(s)));
  expect(store.list().map((i) => i.names[0])).toEqual(["localhost/c0:latest", "localhost/c1:latest", "localhost/c2:latest"]);
});

test("unprivileged unpacking sets no owners and refuses devices and whiteouts with a clear reason", async () => {
  const store = openStore(fresh("store"), { privileged: false });
  const image = buildImage([baseTar({ devices: false })]);
  await store.load(writeSource("oci-dir", [{ image, name: "localhost/plain" }]));
  const dev = buildImage([baseTar()]);
  await expect(store.load(writeSource("oci-dir", [{ image: dev, name: "localhost/dev" }]))).rejects.toThrow(/'dev\/null' is a device node, which only root can make/);
  expect(baseEntries().length).toBeGreaterThan(10);
  void compress;
});
