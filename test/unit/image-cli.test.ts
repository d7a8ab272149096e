/** `podunit image` through its Command, with the store in PODUNIT_IMAGE_DIR. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { image, imageCommand } from "../../src/cli/image.ts";
import { imageStoreDir } from "../../src/pods/images.ts";
import { buildImage, makeTar, ociLayoutFiles, writeArchive } from "./image-helpers.ts";

const work = mkdtempSync(`${tmpdir()}/podunit-image-cli-`);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function io(dir: string) {
  const b = { out: "", err: "" };
  return { b, io: { out: (s: string) => void (b.out += s), err: (s: string) => void (b.err += s), env: { PODUNIT_IMAGE_DIR: dir } } };
}

test("load, list, inspect, rm, prune", async () => {
  const dir = `${work}/store`;
  const img = buildImage([makeTar([{ name: "hello", content: "hi" }])], { compression: "gzip" });
  const src = writeArchive(`${work}/hello.tar`, ociLayoutFiles([{ image: img, ref: "localhost/hello:1" }]));
  let x = io(dir);
  expect(await image.run(["load", src], x.io)).toBe(0);
  expect(x.b.out).toBe(`Loaded image localhost/hello:1 (${img.manifestDigest.slice(7, 19)}).\n1 new layer unpacked.\n`);
  x = io(dir);
  await image.run(["list"], x.io);
  expect(x.b.out).toMatch(new RegExp(`^NAME +ID +CREATED +SIZE\nlocalhost/hello:1 +${img.manifestDigest.slice(7, 19)} +2026-01-02 03:04:05Z +\\d+B\n$`));
  x = io(dir);
  await image.run(["list", "--json"], x.io);
  expect(JSON.parse(x.b.out).version).toBe(1);
  expect(JSON.parse(x.b.out).images[0]).toMatchObject({ manifestDigest: img.manifestDigest, names: ["localhost/hello:1"], layers: 1 });
  x = io(dir);
  await image.run(["inspect", "localhost/hello:1"], x.io);
  const j = JSON.parse(x.b.out);
  expect(j).toMatchObject({ version: 1, manifestDigest: img.manifestDigest, configDigest: img.configDigest, config: { architecture: "amd64" } });
  expect(j.layers[0]).toMatchObject({ digest: img.layerDigests[0], diffId: img.diffIds[0], path: `${dir}/layers/sha256/${img.diffIds[0]!.slice(7)}` });
  const busy = imageCommand({ inUse: () => (d) => (d === img.manifestDigest ? ["web"] : []) });
  await expect(busy.run(["rm", "localhost/hello:1"], io(dir).io)).rejects.toThrow(/is in use by 'web'/);
  x = io(dir);
  await image.run(["rm", "localhost/hello:1"], x.io);
  expect(x.b.out).toBe(`Untagged localhost/hello:1.\nRemoved image ${img.manifestDigest.slice(7, 19)} (3 blobs, 1 layers freed).\n`);
  x = io(dir);
  await image.run(["prune"], x.io);
  expect(x.b.out).toBe("Removed 0 unnamed images, 0 blobs (0B) and 0 unpacked layers.\n");
  x = io(dir);
  await image.run(["list"], x.io);
  expect(x.b.out).toBe("No images.\n");
});

test("usage errors and not found", async () => {
  const x = io(`${work}/empty`);
  await expect(image.run([], x.io)).rejects.toThrow(/needs a subcommand/);
  await expect(image.run(["frob"], x.io)).rejects.toThrow(/Unknown subcommand 'image frob'/);
  await expect(image.run(["load"], x.io)).rejects.toThrow(/takes one PATH/);
  await expect(image.run(["list", "--bogus"], x.io)).rejects.toThrow(/Unknown option '--bogus' for 'podunit image list'/);
  await expect(image.run(["inspect", "nothing"], x.io)).rejects.toMatchObject({ exitCode: 5 });
  await expect(image.run(["load", `${work}/no-such.tar`], x.io)).rejects.toMatchObject({ exitCode: 5 });
  expect(imageStoreDir({})).toBe("/var/lib/podunit/images");
});
