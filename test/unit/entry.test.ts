/**
 * The binary's entry (src/podunit.ts): the verbs of a pod's life, `version`, the
 * helpers podunit's units run (`internal`) and the generator run without the command
 * table, and say the same as through it (src/main.ts, run in-process here).
 */
import { beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/main.ts";

const REPO = join(import.meta.dir, "../..");
const BIN = join(REPO, "dist/podunit");

beforeAll(() => {
  const r = Bun.spawnSync(["make", "-s", "build"], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`make build: ${r.stderr.toString()}`);
}, 240_000);

async function table(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => void out.push(t), err: (t) => void err.push(t), env: {} });
  return { code, out: out.join(""), err: err.join("") };
}

function binary(argv: string[], env: Record<string, string> = {}) {
  const r = Bun.spawnSync([BIN, ...argv], { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "", ...env } });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

test("usage errors of start, restart, stop, status and list: the same words and exit code as through the table", async () => {
  for (const argv of [["start"], ["restart", "a", "b"], ["stop", "--bogus", "web"], ["status"], ["list", "extra"], ["start", "web", "--backend", "nope"]]) {
    expect({ argv, ...binary(argv) }).toEqual({ argv, ...(await table(argv)) });
  }
});

test("--help after one of them is the table's help", async () => {
  for (const verb of ["start", "stop", "status", "list"]) {
    const r = binary([verb, "web", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toBe((await table(["help", verb])).out);
  }
});

test("trace marks are printed for a verb run alone", () => {
  const r = binary(["status"], { PODUNIT_TRACE: "1" });
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/podunit trace: +[\d.]+ ms +\+ *[\d.]+ +main\n/);
});

test("version and the internal helpers: the same words and exit code as through the table", async () => {
  for (const argv of [
    ["version", "--bogus"],
    ["internal", "bogus"],
    ["internal", "wait-exec"],
    ["internal", "ready", "--main-pid", "0"],
    ["internal", "prepare", "--sandbox"],
    ["internal", "network-down", "web"],
    ["internal", "mount-root", "/x"],
    ["internal", "umount-root", "relative"],
    ["internal", "volumes-up", "nonsense"],
    ["internal", "join-exec", "--cgroup-of", "1"],
  ]) {
    expect({ argv, ...binary(argv) }).toEqual({ argv, ...(await table(argv)) });
  }
  // Run alone, not through the table: only the lone path marks the verb's own modules.
  for (const argv of [["version"], ["internal", "bogus"]]) {
    expect({ argv, alone: binary(argv, { PODUNIT_TRACE: "1" }).err.includes("the verb's modules loaded") }).toEqual({ argv, alone: true });
  }
  expect(binary(["logs"], { PODUNIT_TRACE: "1" }).err).not.toContain("the verb's modules loaded");
  // Completion reads the command table, which the verb run alone loads itself.
  const words = binary(["internal", "complete", "--cword", "1", "--", "podunit", "ver"]);
  expect(words).toEqual({ code: 0, out: "version\n", err: "" });
});

test("started through the generator's link, the binary is the generator", () => {
  const dir = mkdtempSync(join(tmpdir(), "podunit-entry-"));
  try {
    const link = join(dir, "podunit-generator");
    symlinkSync(BIN, link);
    const r = Bun.spawnSync([link, "relative"], { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "" } });
    // The generator's own refusal of its arguments (exit 1; its message goes to the journal where
    // there is one), not the command table's "Unknown command 'relative'" (exit 2).
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).not.toContain("Unknown command");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
