import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { NotFoundError, SpecError, UsageError, formatSpecIssue } from "../../src/errors.ts";
import {
  DEFAULT_SPEC_DIR,
  MAX_SPEC_BYTES,
  decodeSpec,
  firstInvalidUtf8,
  isPathRef,
  listDirFromDisk,
  listSpecs,
  loadSpec,
  readFileFromDisk,
  specPath,
  type ReadFile,
} from "../../src/podspec/load.ts";

const MEMBER = '[containers.app]\ncommand = ["/bin/true"]\n';
const enc = (s: string) => new TextEncoder().encode(s);

/** A reader over an in-memory file system that records what was asked for. */
function memory(files: Record<string, string | Uint8Array>): ReadFile & { asked: string[] } {
  const asked: string[] = [];
  const read = async (path: string) => {
    asked.push(path);
    const f = files[path];
    return f === undefined ? undefined : typeof f === "string" ? enc(f) : f;
  };
  return Object.assign(read, { asked });
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

describe("loadSpec", () => {
  test("a name is looked up in --dir, then PODUNIT_SPEC_DIR, then /etc/podunit/pods", async () => {
    const readFile = memory({ "/d/web.toml": MEMBER, "/e/web.toml": MEMBER, [`${DEFAULT_SPEC_DIR}/web.toml`]: MEMBER });
    expect((await loadSpec("web", { dir: "/d", env: { PODUNIT_SPEC_DIR: "/e" }, readFile })).file).toBe("/d/web.toml");
    expect((await loadSpec("web", { env: { PODUNIT_SPEC_DIR: "/e" }, readFile })).file).toBe("/e/web.toml");
    expect((await loadSpec("web", { env: {}, readFile })).file).toBe(`${DEFAULT_SPEC_DIR}/web.toml`);
    expect((await loadSpec("web", { env: { PODUNIT_SPEC_DIR: "" }, readFile })).file).toBe(`${DEFAULT_SPEC_DIR}/web.toml`);
  });

  test("a path is taken as it is, relative to the working directory", async () => {
    const readFile = memory({ "/srv/pods/api.toml": MEMBER, "/srv/db.toml": MEMBER });
    const spec = await loadSpec("pods/api.toml", { env: {}, cwd: "/srv", readFile });
    expect(spec.file).toBe("/srv/pods/api.toml");
    expect(spec.name).toBe("api");
    expect((await loadSpec("db.toml", { env: {}, cwd: "/srv", readFile })).name).toBe("db");
    expect((await loadSpec("/srv/db.toml", { env: {}, cwd: "/", readFile })).name).toBe("db");
  });

  test("a missing spec is NotFoundError with a hint saying where podunit looked", async () => {
    const e = await rejection(loadSpec("web", { dir: "/d", env: {}, readFile: memory({}) }));
    expect(e).toBeInstanceOf(NotFoundError);
    expect((e as NotFoundError).message).toBe("No pod spec for 'web': '/d/web.toml' does not exist.");
    expect((e as NotFoundError).hint).toContain("Looked for /d/web.toml.");
    const p = await rejection(loadSpec("./x.toml", { env: {}, cwd: "/w", readFile: memory({}) }));
    expect((p as NotFoundError).message).toBe("No pod spec at '/w/x.toml': the file does not exist.");
    expect((p as NotFoundError).hint).toContain("Looked for /w/x.toml.");
  });

  test("a ref that is neither a name nor a path is a usage error, and nothing is read", async () => {
    const readFile = memory({});
    for (const ref of ["..", "Web", "", "a_b"]) {
      expect(await rejection(loadSpec(ref, { env: {}, readFile }))).toBeInstanceOf(UsageError);
    }
    expect(readFile.asked).toEqual([]);
  });

  test("the pod's name comes from the file's stem, and a bad stem names the file", async () => {
    const readFile = memory({ "/p/My_Pod.toml": MEMBER, "/p/web.conf": MEMBER });
    const e = (await rejection(loadSpec("/p/My_Pod.toml", { env: {}, readFile }))) as SpecError;
    expect(e).toBeInstanceOf(SpecError);
    expect(formatSpecIssue(e.issues[0]!)).toStartWith(`/p/My_Pod.toml: the pod's name comes from the file's name:`);
    const c = (await rejection(loadSpec("/p/web.conf", { env: {}, readFile }))) as SpecError;
    expect(c.issues[0]!.message).toContain(`found "web.conf"; rename the file`);
  });

  test("spec errors carry the absolute path", async () => {
    const readFile = memory({ "/d/web.toml": 'memory_max = "1Q"\n' + MEMBER });
    const e = (await rejection(loadSpec("web", { dir: "/d", env: {}, readFile }))) as SpecError;
    expect(e.issues.map(formatSpecIssue)).toEqual([`/d/web.toml:1:1: memory_max: expected a size such as "512M" or "1.5G", found "1Q"`]);
  });
});

describe("decodeSpec", () => {
  test("UTF-8 text passes", () => {
    expect(decodeSpec(enc("a = 'é😀'"), "f")).toBe("a = 'é😀'");
  });
  test("a file that is not UTF-8 is a SpecError at the first bad byte", () => {
    const e = (() => {
      try {
        decodeSpec(new Uint8Array([0x61, 0x0a, 0x62, 0xc3, 0xa9, 0xff]), "f.toml");
      } catch (e) {
        return e as SpecError;
      }
    })()!;
    expect(e.issues.map(formatSpecIssue)).toEqual(["f.toml:2:3: expected UTF-8 text, found the byte 0xff"]);
  });
  test("a file over 1 MiB is refused", () => {
    expect(() => decodeSpec(new Uint8Array(MAX_SPEC_BYTES + 1), "f")).toThrow(SpecError);
  });
  test.each([
    [[0x41], -1],
    [[0xc3, 0xa9], -1],
    [[0xf0, 0x9f, 0x98, 0x80], -1],
    [[0xc3], 0],
    [[0x41, 0xc0, 0x80], 1], // overlong
    [[0xe0, 0x80, 0x80], 0], // overlong
    [[0xed, 0xa0, 0x80], 0], // surrogate
    [[0xf4, 0x90, 0x80, 0x80], 0], // beyond U+10FFFF
    [[0x80], 0],
    [[0xe2, 0x82], 0], // truncated
  ])("firstInvalidUtf8(%p) = %p", (bytes, at) => expect(firstInvalidUtf8(new Uint8Array(bytes))).toBe(at));
});

describe("refs and directories", () => {
  test("isPathRef", () => {
    expect(isPathRef("web")).toBe(false);
    expect(isPathRef("web.toml")).toBe(true);
    expect(isPathRef("./web")).toBe(true);
    expect(isPathRef("/etc/podunit/pods/web.toml")).toBe(true);
  });
  test("specPath", () => {
    expect(specPath("web", { env: {}, cwd: "/" })).toBe("/etc/podunit/pods/web.toml");
    expect(specPath("web", { dir: "rel", env: {}, cwd: "/w" })).toBe("/w/rel/web.toml");
  });
  test("listSpecs gives the stems of *.toml files, sorted", async () => {
    const list = async () => ["web.toml", "db.toml", "notes.txt", ".toml", "api.toml.bak", "Z.toml"];
    expect(await listSpecs("/d", list)).toEqual(["Z", "db", "web"]);
    expect(await listSpecs("/missing", async () => undefined)).toEqual([]);
  });
});

describe("the real file system", () => {
  const good = join(import.meta.dir, "../fixtures/specs/good");
  test("readFileFromDisk reads a file, and says undefined for a missing one", async () => {
    const bytes = await readFileFromDisk(join(good, "minimal.toml"), MAX_SPEC_BYTES + 1);
    expect(new TextDecoder().decode(bytes)).toContain("[containers.app]");
    expect(await readFileFromDisk(join(good, "missing.toml"), 10)).toBeUndefined();
    expect(await readFileFromDisk(join(good, "minimal.toml", "below"), 10)).toBeUndefined();
  });
  test("readFileFromDisk stops at the limit and refuses what is not a file", async () => {
    expect((await readFileFromDisk(join(good, "web.toml"), 10))!.length).toBe(10);
    expect(await rejection(readFileFromDisk(good, 10))).toBeInstanceOf(Error);
    expect(await rejection(readFileFromDisk("/dev/zero", 10))).toBeInstanceOf(Error);
  });
  test("listDirFromDisk and listSpecs on the fixtures", async () => {
    const names = await listSpecs(good, listDirFromDisk);
    expect(names).toContain("web");
    expect(names).toContain("minimal");
    expect(await listDirFromDisk(join(good, "nope"))).toBeUndefined();
  });
  test("loadSpec reads the design sketch from disk", async () => {
    expect((await loadSpec("web", { dir: good, env: {} })).members.map((m) => m.name)).toEqual(["db", "app"]);
  });
});
