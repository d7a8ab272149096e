import { describe, expect, test } from "bun:test";
import { checkCommand } from "../../src/cli/check.ts";
import type { Io } from "../../src/cli/common/command.ts";
import { NotFoundError, PodunitError, SpecError, UsageError } from "../../src/errors.ts";
import type { ReadFile } from "../../src/podspec/load.ts";

const MEMBER = '[containers.app]\ncommand = ["/bin/true"]\n';
const files: Record<string, string> = {
  "/pods/web.toml": MEMBER + '[containers.db]\ncommand = ["/bin/true"]\n',
  "/pods/one.toml": MEMBER,
  "/pods/bad.toml": 'memory_max = "1Q"\n' + MEMBER,
  "/pods/worse.toml": "cpu_quota = 1\ntasks_max = 0\n" + MEMBER,
  "/pods/admin.toml": MEMBER + '[containers.tool]\ncommand = ["/bin/true"]\ncapabilities = { add = ["NET_ADMIN", "SYS_ADMIN"] }\n',
};
const readFile: ReadFile = async (path) => (files[path] === undefined ? undefined : new TextEncoder().encode(files[path]));
const check = checkCommand({ readFile, cwd: "/pods" });

function io(): Io & { stdout: string; stderr: string } {
  const b = { stdout: "", stderr: "", env: { PODUNIT_SPEC_DIR: "/pods" } as Record<string, string | undefined> };
  return Object.assign(b, { out: (t: string) => void (b.stdout += t), err: (t: string) => void (b.stderr += t) });
}

async function failure(args: string[], b = io()): Promise<{ e: unknown; out: string; err: string }> {
  try {
    await check.run(args, b);
  } catch (e) {
    return { e, out: b.stdout, err: b.stderr };
  }
  throw new Error("expected the check to fail");
}

describe("podunit check", () => {
  test("good specs: exit 0, one ok line each", async () => {
    const b = io();
    expect(await check.run(["web", "one.toml", "--dir", "/pods"], b)).toBe(0);
    expect(b.stdout).toBe("ok web: 2 members (/pods/web.toml)\nok one: 1 member (/pods/one.toml)\n");
    expect(b.stderr).toBe("");
  });

  test("add of SYS_ADMIN: allowed (exit 0) with a warning at its place, in text and JSON", async () => {
    const b = io();
    expect(await check.run(["admin"], b)).toBe(0);
    expect(b.stdout).toBe("ok admin: 2 members (/pods/admin.toml)\n");
    expect(b.stderr).toMatch(/^podunit: warning: \/pods\/admin\.toml:5:38: containers\.tool\.capabilities\.add\[1\]: adds CAP_SYS_ADMIN: CAP_SYS_ADMIN lets the member mount, enter other namespaces .*\.\n$/);
    const j = io();
    expect(await check.run(["admin", "--json"], j)).toBe(0);
    const spec = JSON.parse(j.stdout).specs[0];
    expect(spec.warnings).toHaveLength(1);
    expect(spec.warnings[0]).toMatchObject({ file: "/pods/admin.toml", line: 5, column: 38, path: "containers.tool.capabilities.add[1]" });
    expect(j.stderr).toBe("");
    const plain = io();
    expect(await check.run(["one", "--json"], plain)).toBe(0);
    expect(JSON.parse(plain.stdout).specs[0].warnings).toEqual([]);
  });

  test("one bad spec: its SpecError is thrown as it is", async () => {
    const { e, out } = await failure(["bad"]);
    expect(e).toBeInstanceOf(SpecError);
    expect((e as SpecError).issues).toHaveLength(1);
    expect((e as SpecError).exitCode).toBe(3);
    expect(out).toBe("");
  });

  test("several specs: all are checked, every problem is reported together", async () => {
    const { e, out } = await failure(["bad", "web", "worse"]);
    expect(out).toBe("ok web: 2 members (/pods/web.toml)\n");
    expect(e).toBeInstanceOf(SpecError);
    expect((e as SpecError).issues.map((i) => `${i.file}:${i.path}`)).toEqual([
      "/pods/bad.toml:memory_max",
      "/pods/worse.toml:cpu_quota",
      "/pods/worse.toml:tasks_max",
    ]);
  });

  test("a missing spec among others: each failure is printed, the first one's exit code wins", async () => {
    const { e, err } = await failure(["nope", "bad", "web"]);
    expect(e).toBeInstanceOf(PodunitError);
    expect((e as PodunitError).message).toBe("2 of 3 pod specs failed the check.");
    expect((e as PodunitError).exitCode).toBe(5);
    expect(err).toContain("podunit: No pod spec for 'nope'");
    expect(err).toContain("Invalid pod spec");
  });

  test("a single missing spec is NotFoundError", async () => {
    expect((await failure(["nope"])).e).toBeInstanceOf(NotFoundError);
  });

  test("--json lists every spec, with issues for the failed ones", async () => {
    const { e, out, err } = await failure(["web", "bad", "--json"]);
    expect(e).toBeInstanceOf(SpecError);
    expect(err).toBe("");
    const doc = JSON.parse(out);
    expect(doc.ok).toBe(false);
    expect(doc.specs[0]).toEqual({ ref: "web", ok: true, name: "web", file: "/pods/web.toml", members: ["app", "db"], warnings: [] });
    expect(doc.specs[1].ok).toBe(false);
    expect(doc.specs[1].error.exitCode).toBe(3);
    expect(doc.specs[1].error.issues).toEqual([
      { file: "/pods/bad.toml", line: 1, column: 1, path: "memory_max", message: 'expected a size such as "512M" or "1.5G", found "1Q"' },
    ]);
  });

  test("--json with good specs", async () => {
    const b = io();
    expect(await check.run(["--json", "one"], b)).toBe(0);
    expect(JSON.parse(b.stdout).ok).toBe(true);
  });

  test("no argument, or an unknown option, is a usage error", async () => {
    expect((await failure([])).e).toBeInstanceOf(UsageError);
    expect((await failure(["web", "--frobnicate"])).e).toBeInstanceOf(UsageError);
  });

  test("its name and usage", () => {
    expect(check.name).toBe("check");
    expect(check.usage).toBe("podunit check FILE|NAME... [--dir DIR] [--json]");
  });
});
