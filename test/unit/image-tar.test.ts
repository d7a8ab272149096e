/** The tar reader against archives GNU tar writes (ustar, gnu, pax with xattrs) and hand-made headers. */
import { afterAll, expect, test } from "bun:test";
import { fstatSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { FileSource, StreamSource } from "../../src/image/reader.ts";
import { readTar, type TarEntry } from "../../src/image/tar.ts";
import { makeTar } from "./image-helpers.ts";

const work = mkdtempSync(`${tmpdir()}/podunit-image-tar-`);
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function entries(path: string): Promise<(TarEntry & { data: string })[]> {
  const fd = openSync(path, "r");
  const out: (TarEntry & { data: string })[] = [];
  for await (const it of readTar(new FileSource(fd, fstatSync(fd).size))) {
    let data = "";
    for await (const c of it.body()) data += Buffer.from(c).toString();
    out.push({ ...it.entry, data });
  }
  return out;
}

const long = `${"d".repeat(120)}/${"f".repeat(130)}`;
for (const format of ["gnu", "pax", "ustar"]) {
  test(`GNU tar --format=${format}`, async () => {
    const src = `${work}/${format}`;
    mkdirSync(format === "ustar" ? `${src}/t` : `${src}/t/${"d".repeat(120)}`, { recursive: true });
    writeFileSync(`${src}/t/${format === "ustar" ? "short" : long}`, "long\n");
    writeFileSync(`${src}/t/file`, "hello\n", { mode: 0o4755 });
    symlinkSync("file", `${src}/t/link`);
    const tar = `${work}/${format}.tar`;
    const r = Bun.spawnSync(["tar", `--format=${format}`, "--sort=name", "-cf", tar, "-C", src, "t"]);
    expect(r.exitCode).toBe(0);
    const es = await entries(tar);
    const byName = new Map(es.map((e) => [e.name, e]));
    expect(byName.get("t/file")).toMatchObject({ type: "file", mode: 0o4755, data: "hello\n", size: 6 });
    expect(byName.get("t/link")).toMatchObject({ type: "symlink", linkname: "file" });
    if (format !== "ustar") expect(byName.get(`t/${long}`)).toMatchObject({ data: "long\n" });
  });
}

test("PAX records: path, linkpath, size, uid, gid, mtime and binary xattrs; global headers apply to what follows", async () => {
  const xv = new Uint8Array([0, 1, 2, 255, 10, 61]);
  const tar = makeTar([
    { name: "g", type: "g", content: "" },
    { name: "a", content: "abc", pax: { uid: "4000000", gid: "70000", mtime: "1700000000.5" }, xattrs: { "user.bin": xv } },
    { name: "l", type: "2", linkname: "t".repeat(300) },
  ]);
  const out: TarEntry[] = [];
  for await (const it of readTar(new StreamSource((async function* () { for (let i = 0; i < tar.length; i += 7) yield tar.subarray(i, i + 7); })()))) out.push(it.entry);
  expect(out[0]).toMatchObject({ name: "a", uid: 4000000, gid: 70000, mtime: 1700000000.5, size: 3 });
  expect([...out[0]!.xattrs.get("user.bin")!]).toEqual([...xv]);
  expect(out[1]!.linkname).toBe("t".repeat(300));
});

test("GNU base-256 numbers and a truncated archive", async () => {
  const tar = makeTar([{ name: "big", content: "x", uid: 1 }]);
  tar.set([0x80, 0, 0, 0, 0, 0, 0, 0x7f], 108); // uid 127 in base-256
  let sum = 0;
  tar.fill(32, 148, 156);
  for (let i = 0; i < 512; i++) sum += tar[i]!;
  tar.set(new TextEncoder().encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  writeFileSync(`${work}/b256.tar`, tar);
  expect((await entries(`${work}/b256.tar`))[0]).toMatchObject({ uid: 127 });
  writeFileSync(`${work}/cut.tar`, makeTar([{ name: "f", content: "y".repeat(2000) }]).subarray(0, 1024));
  await expect(entries(`${work}/cut.tar`)).rejects.toThrow(/ends inside the contents of 'f'/);
});
