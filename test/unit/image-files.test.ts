/** Reading a file of an image from its unpacked layers, as overlayfs merges them: top layer first, whiteouts and opaque directories honoured. */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readImageFile } from "../../src/image/files.ts";
import { lsetxattr, mknod, S_IFCHR } from "../../src/host/libc.ts";
import { isRoot } from "./image-helpers.ts";

const work = mkdtempSync(join(tmpdir(), "podunit-image-files-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A layer directory with the given files; a value of null is a whiteout, "opaque" an opaque directory. */
function layer(name: string, files: Record<string, string | null | "opaque">): { path: string } {
  const root = join(work, name);
  for (const [p, v] of Object.entries(files)) {
    const full = join(root, p);
    mkdirSync(v === "opaque" ? full : join(full, ".."), { recursive: true });
    if (v === null) expect(mknod(full, S_IFCHR, 0, 0)).toBe(0);
    else if (v === "opaque") expect(lsetxattr(full, "trusted.overlay.opaque", new TextEncoder().encode("y"))).toBe(0);
    else writeFileSync(full, v);
  }
  mkdirSync(root, { recursive: true });
  return { path: root };
}

test.if(isRoot)("the top layer's file wins; a whiteout of the file or of a directory above hides lower ones; an opaque directory hides lower contents", () => {
  const base = layer("base", { "etc/passwd": "base\n", "etc/group": "g-base\n", "opt/x": "x\n", "srv/y": "y\n" });
  const mid = layer("mid", { "etc/passwd": "mid\n", opt: null, srv: "opaque" });
  const top = layer("top", { "etc/group": null, "etc/hosts": "h\n" });
  const image = { layers: [base, mid, top] } as never;
  expect(readImageFile(image, "etc/passwd")).toBe("mid\n");
  expect(readImageFile(image, "etc/group")).toBeUndefined();
  expect(readImageFile(image, "etc/hosts")).toBe("h\n");
  expect(readImageFile(image, "opt/x")).toBeUndefined();
  expect(readImageFile(image, "srv/y")).toBeUndefined();
  expect(readImageFile(image, "etc/shadow")).toBeUndefined();
  expect(readImageFile({ layers: [base] } as never, "srv/y")).toBe("y\n");
});
