/**
 * Hostile and broken images: each is refused with its reason, nothing is written
 * outside the store's temporary area, and the store is byte for byte as before.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { openStore, type ImageStore } from "../../src/image/index.ts";
import { buildImage, compress, digestOf, makeTar, ociLayoutFiles, snapshotStore, writeArchive, writeDir, type BuiltImage, type TEntry } from "./image-helpers.ts";

const work = mkdtempSync(`${tmpdir()}/podunit-image-hostile-`);
/** The store sits in work/store; "outside" is its sibling that escapes aim at. */
const outside = `${work}/outside`;
let store: ImageStore;
let before: string[];
let n = 0;

beforeAll(async () => {
  mkdirSync(outside);
  store = openStore(`${work}/store`);
  // A store with an image in it already, to see that it stays as it is.
  await store.load(layout(buildImage([makeTar([{ name: "keep", content: "keep" }])], { compression: "gzip" }), "localhost/keep"));
  before = snapshotStore(store.root);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function layout(image: BuiltImage, ref = "localhost/hostile", files?: (f: Map<string, Uint8Array>) => void): string {
  const f = ociLayoutFiles([{ image, ref }]);
  files?.(f);
  return writeDir(`${work}/src-${++n}`, f);
}

async function refused(src: string, message: RegExp, exitCode?: number): Promise<void> {
  let err: unknown;
  try {
    await store.load(src);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toMatch(message);
  if (exitCode !== undefined) expect((err as { exitCode: number }).exitCode).toBe(exitCode);
  expect(snapshotStore(store.root)).toEqual(before);
  expect(readdirSync(`${store.root}/tmp`)).toEqual([]);
  expect(readdirSync(outside)).toEqual([]);
}

const layer = (entries: TEntry[]) => buildImage([makeTar(entries)]);
const PERMISSION = 6;

test("a '..' component", () =>
  refused(layout(layer([{ name: "a/../../outside/pwned", content: "x" }])), /entry 'a\/..\/..\/outside\/pwned' has a '..' component/, PERMISSION));

test("an absolute name", () => refused(layout(layer([{ name: `${outside}/pwned`, content: "x" }])), /has an absolute its name|has an absolute/, PERMISSION));

test("a write through a symbolic link made by an earlier entry", () =>
  refused(layout(layer([{ name: "esc", type: "2", linkname: outside }, { name: "esc/pwned", content: "x" }])), /entry 'esc\/pwned' would be written through the symbolic link 'esc'/, PERMISSION));

test("a write through a symbolic link to a relative path outside", () =>
  refused(layout(layer([{ name: "d/", type: "5" }, { name: "d/up", type: "2", linkname: "../../outside" }, { name: "d/up/pwned", content: "x" }])), /through the symbolic link 'd\/up'/, PERMISSION));

test("a directory entry through a symbolic link", () =>
  refused(layout(layer([{ name: "esc", type: "2", linkname: outside }, { name: "esc/sub/", type: "5" }])), /through the symbolic link 'esc'/, PERMISSION));

test("a hard link to a file outside the layer", () =>
  refused(layout(layer([{ name: "pw", type: "1", linkname: "/etc/passwd" }])), /entry 'pw' has an absolute its link target|absolute/, PERMISSION));

test("a hard link through '..'", () =>
  refused(layout(layer([{ name: "pw", type: "1", linkname: "../../../etc/passwd" }])), /has a '..' component in its link target/, PERMISSION));

test("a hard link through a symbolic link", () =>
  refused(layout(layer([{ name: "etc", type: "2", linkname: "/etc" }, { name: "pw", type: "1", linkname: "etc/passwd" }])), /hard link to 'etc\/passwd', which no earlier entry/, PERMISSION));

test("a hard link to a nonexistent target", () =>
  refused(layout(layer([{ name: "pw", type: "1", linkname: "nothing" }])), /hard link to 'nothing', which no earlier entry of the layer made/, PERMISSION));

test("a whiteout pointing outside", () => refused(layout(layer([{ name: "../outside/.wh.x", content: "" }])), /has a '..' component/, PERMISSION));

test("a whiteout for '..'", () => refused(layout(layer([{ name: "d/.wh...", content: "" }])), /is a whiteout for '..'/, PERMISSION));

test("an opaque marker below a symbolic link", () =>
  refused(layout(layer([{ name: "esc", type: "2", linkname: outside }, { name: "esc/.wh..wh..opq", content: "" }])), /through the symbolic link 'esc'/, PERMISSION));

test("a 10,000-character name", () => refused(layout(layer([{ name: "a/".repeat(5000), type: "5" }])), /longer than 4095 bytes \(PATH_MAX\)/, PERMISSION));

test("a 300-byte name component", () => refused(layout(layer([{ name: `d/${"x".repeat(300)}`, content: "x" }])), /component longer than 255 bytes/, PERMISSION));

test("a truncated gzip layer", async () => {
  const image = buildImage([makeTar([{ name: "f", content: "y".repeat(100000) }])], { compression: "gzip" });
  const blob = image.blobs.get(image.layerDigests[0]!)!;
  const cut = blob.subarray(0, blob.length - 50);
  // Re-describe the truncated blob so that only the gzip stream is wrong.
  const bad = buildImage([makeTar([{ name: "f", content: "y".repeat(100000) }])], {
    tweak: (m) => (m.layers[0] = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: digestOf(cut), size: cut.length }),
  });
  await refused(layout(bad, undefined, (f) => f.set(`blobs/sha256/${digestOf(cut).slice(7)}`, cut)), /layer 'sha256:[0-9a-f]{64}' is not valid gzip data/);
});

test("a layer that is not a tar", async () => {
  const junk = new TextEncoder().encode("this is not a tar archive at all\n".repeat(40));
  await refused(layout(buildImage([junk], { compression: "gzip" })), /is not a valid tar archive: it is not a tar archive/);
});

test("a layer blob whose digest does not match", async () => {
  const image = buildImage([makeTar([{ name: "f", content: "1" }])]);
  const other = makeTar([{ name: "f", content: "2" }]);
  await refused(layout(image, undefined, (f) => f.set(`blobs/sha256/${image.layerDigests[0]!.slice(7)}`, other)), new RegExp(`layer '${image.layerDigests[0]}' has digest 'sha256:`));
});

test("a config blob whose digest does not match", async () => {
  const image = buildImage([makeTar([{ name: "f", content: "1" }])]);
  const cfg = new TextEncoder().encode(new TextDecoder().decode(image.config).replace("amd64", "amd64 "));
  await refused(layout(image, undefined, (f) => f.set(`blobs/sha256/${image.configDigest.slice(7)}`, cfg)), /is \d+ bytes, but its descriptor says|has digest/);
});

test("a layer whose uncompressed digest is not the config's diff_id", async () => {
  const image = buildImage([makeTar([{ name: "f", content: "1" }])], { compression: "zstd", diffIds: [digestOf("something else")] });
  await refused(layout(image), /uncompressed has digest 'sha256:[0-9a-f]+', but the config's diff_id says/);
});

test("a manifest pointing at a missing blob", async () => {
  const image = buildImage([makeTar([{ name: "f", content: "1" }]), makeTar([{ name: "g", content: "2" }])]);
  const missing = image.layerDigests[1]!;
  await refused(layout(image, undefined, (f) => f.delete(`blobs/sha256/${missing.slice(7)}`)), new RegExp(`layer '${missing}' is not in it`));
});

test("an unsafe entry in the second layer leaves nothing of the first", async () => {
  const image = buildImage([makeTar([{ name: "ok", content: "fine" }]), makeTar([{ name: "/etc/shadow", content: "x" }])], { compression: "gzip" });
  await refused(writeArchive(`${work}/two-${++n}.tar`, ociLayoutFiles([{ image, ref: "localhost/two" }])), /absolute/);
});

test("an archive that is not a tar, and a gzip archive cut short", async () => {
  writeFileSync(`${work}/junk.tar`, "junk".repeat(300));
  await refused(`${work}/junk.tar`, /is not a tar archive/);
  const good = writeArchive(`${work}/good-${++n}.tar`, ociLayoutFiles([{ image: layer([{ name: "f", content: "1" }]), ref: "localhost/x" }]));
  const gz = compress("gzip", new Uint8Array(await Bun.file(good).arrayBuffer()));
  writeFileSync(`${work}/cut.tar.gz`, gz.subarray(0, gz.length / 2));
  await refused(`${work}/cut.tar.gz`, /is not valid gzip data/);
});

test("an unsupported entry type and a foreign digest algorithm", async () => {
  await refused(layout(layer([{ name: "s", type: "S" as never, content: "" }])), /has type 'S', which is not supported/);
  const image = layer([{ name: "f", content: "1" }]);
  await refused(layout(image, undefined, (f) => {
    f.set("index.json", new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha512:${"a".repeat(128)}`, size: 1 }] })));
  }), /uses an algorithm other than sha256/);
});
