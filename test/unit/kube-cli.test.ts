/** `podunit kube`: what it writes and prints (play without --start, generate), through the command table. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Io } from "../../src/cli/common/command.ts";
import { main } from "../../src/main.ts";

function io(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const it: Io = { out: (t) => void out.push(t), err: (t) => void err.push(t), env };
  return { io: it, out: () => out.join(""), err: () => err.join("") };
}
const DOCS = join(import.meta.dir, "../fixtures/kube/manifests/docs-style.yaml");
const SECRET = "s3cr3t-token-42";

describe("kube play", () => {
  test("writes the spec into the spec directory, root-only when it holds a Secret's value, never printing it; a second play is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kube-play-"));
    const a = io({ PODUNIT_SPEC_DIR: dir });
    expect(await main(["kube", "play", DOCS], a.io)).toBe(0);
    expect(a.out()).toContain(`Wrote pod 'shop' (from Deployment 'shop') to '${dir}/shop.toml', readable by its owner only`);
    expect(a.err()).toContain("not published (no hostPort)");
    expect(a.out() + a.err()).not.toContain(SECRET);
    expect(statSync(join(dir, "shop.toml")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "shop.toml"), "utf8")).toContain(`API_TOKEN = "${SECRET}\\n"`);
    // The ConfigMap volume's file, next to the spec.
    expect(readFileSync(join(dir, "shop.files/config/GREETING"), "utf8")).toBe("hello from the pod");
    expect(a.out()).toContain(`Wrote 1 file of volume 'config' to '${dir}/shop.files/config'.`);
    const b = io({ PODUNIT_SPEC_DIR: dir });
    expect(await main(["kube", "play", DOCS], b.io)).toBe(1);
    expect(b.err()).toContain("exists already");
  });
  test("a refused manifest writes nothing and names path and line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kube-play-"));
    const file = join(dir, "m.yaml");
    writeFileSync(file, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n    - name: a\n      image: busybox\n      lifecycle:\n        preStop: {exec: {command: [x]}}\n");
    const a = io({ PODUNIT_SPEC_DIR: dir });
    expect(await main(["kube", "play", file, "--output", join(dir, "x.toml")], a.io)).toBe(3);
    expect(a.err()).toContain(`${file}:9:7: spec.containers[0].lifecycle: not supported`);
    expect(() => statSync(join(dir, "x.toml"))).toThrow();
  });
  test("a Secret volume's files are written in a directory only its owner reads, never printed; a refused spec leaves no files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kube-play-"));
    const file = join(dir, "m.yaml");
    writeFileSync(file, `apiVersion: v1\nkind: Secret\nmetadata: {name: tls}\nstringData: {key.pem: ${SECRET}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: tlsweb}\nspec:\n  containers:\n    - name: a\n      image: busybox:1\n      volumeMounts: [{name: tls, mountPath: /tls}]\n  volumes: [{name: tls, secret: {secretName: tls}}]\n`);
    const a = io({ PODUNIT_SPEC_DIR: dir });
    expect(await main(["kube", "play", file], a.io)).toBe(0);
    expect(a.out() + a.err()).not.toContain(SECRET);
    expect(statSync(join(dir, "tlsweb.files/tls")).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "tlsweb.files/tls/key.pem")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "tlsweb.files/tls/key.pem"), "utf8")).toBe(SECRET);
    expect(readFileSync(join(dir, "tlsweb.toml"), "utf8")).not.toContain(SECRET);
    // Played again: the spec exists, nothing is written or removed.
    const b = io({ PODUNIT_SPEC_DIR: dir });
    expect(await main(["kube", "play", file], b.io)).toBe(1);
    expect(readFileSync(join(dir, "tlsweb.files/tls/key.pem"), "utf8")).toBe(SECRET);
  });
  test("--name renames the pod; a manifest without a pod is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kube-play-"));
    const a = io({ PODUNIT_SPEC_DIR: dir });
    expect(await main(["kube", "play", DOCS, "--name", "store"], a.io)).toBe(0);
    expect(readFileSync(join(dir, "store.toml"), "utf8")).toContain('name = "store"');
    const file = join(dir, "cm.yaml");
    writeFileSync(file, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {A: b}\n");
    const b = io({ PODUNIT_SPEC_DIR: dir });
    expect(await main(["kube", "play", file], b.io)).toBe(3);
    expect(b.err()).toContain("found no pod");
  });
});

describe("kube generate", () => {
  test("prints a Pod; refuses a host member naming member and key; --lossy lists what it left out", async () => {
    const fixtures = join(import.meta.dir, "../fixtures/specs/good");
    const a = io();
    expect(await main(["kube", "generate", join(import.meta.dir, "../fixtures/kube/specs/web-sidecar.toml")], a.io)).toBe(0);
    expect(a.out()).toStartWith("apiVersion: v1\nkind: Pod\n");
    const b = io();
    expect(await main(["kube", "generate", join(fixtures, "web.toml")], b.io)).toBe(3);
    expect(b.err()).toContain("containers.db.image: a member without an image");
    const c = io();
    expect(await main(["kube", "generate", "--lossy", join(fixtures, "images.toml")], c.io)).toBe(0);
    expect(c.err()).toContain("podunit: left out:");
    expect(c.err()).toContain("containers.tool.user");
  });
  test("help and the command table know the verb", async () => {
    const a = io();
    expect(await main(["help", "kube"], a.io)).toBe(0);
    expect(a.out()).toContain("podunit kube play FILE.yaml");
  });
});
