/**
 * The generator's pure core and its argument handling: fixtures in, unit files and
 * messages out. The generator run by systemd is in test/system/boot.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { convertSpecs, failureText, generatorOutputDir, type SpecSource } from "../../src/boot/generator.ts";
import { isGeneratorInvocation } from "../../src/boot/generatorname.ts";
import { NotFoundError, PodunitError, SpecError } from "../../src/errors.ts";
import type { PodSpec } from "../../src/podspec/types.ts";
import { APP_DIGEST, HOST, HOST_NO_RUNC, TEST_IMAGES } from "./plan-helpers.ts";

const FIXTURES = join(import.meta.dir, "../fixtures");
const specs = (kind: "good" | "bad") => readdirSync(join(FIXTURES, "specs", kind)).filter((f) => f.endsWith(".toml")).sort();

/** A fixture as if it were in /etc/podunit/pods. */
function source(kind: "good" | "bad", file: string): SpecSource {
  return { file: `/etc/podunit/pods/${file}`, bytes: new Uint8Array(readFileSync(join(FIXTURES, "specs", kind, file))) };
}
const text = (file: string, toml: string): SpecSource => ({ file, bytes: new TextEncoder().encode(toml) });
const never = () => false;

describe("how podunit knows it runs as the generator", () => {
  test("argv[0] is the link's path or name", () => {
    expect(isGeneratorInvocation("/usr/lib/systemd/system-generators/podunit-generator")).toBe(true);
    expect(isGeneratorInvocation("/usr/local/lib/systemd/system-generators/podunit-generator")).toBe(true);
    expect(isGeneratorInvocation("podunit-generator")).toBe(true);
  });
  test("anything else is the normal command line (a compiled binary's process.argv[0] is 'bun')", () => {
    for (const a of ["/usr/local/bin/podunit", "podunit", "./dist/podunit", "bun", "podunit-generator-old", "/x/podunit-generator/podunit", "", undefined]) {
      expect(isGeneratorInvocation(a)).toBe(false);
    }
  });
});

describe("the generator's arguments", () => {
  test("normal, early and late directories: units go to the normal one", () => {
    expect(generatorOutputDir(["/run/systemd/generator", "/run/systemd/generator.early", "/run/systemd/generator.late"])).toBe("/run/systemd/generator");
  });
  test("one directory serves for all three", () => {
    expect(generatorOutputDir(["/tmp/out"])).toBe("/tmp/out");
  });
  test("none, two, four or relative directories are refused", () => {
    for (const args of [[], ["/a", "/b"], ["/a", "/b", "/c", "/d"], ["out"], ["/a", "b", "/c"]]) {
      expect(() => generatorOutputDir(args)).toThrow(/expected one or three absolute output directories/);
    }
  });
});

describe("convertSpecs", () => {
  test("every good fixture with [install] gives exactly its golden unit files and its wants", () => {
    const good = specs("good");
    const r = convertSpecs(good.map((f) => source("good", f)), HOST, never);
    expect(r.failures).toEqual([]);
    const withInstall = r.pods.map((p) => basename(p.file, ".toml"));
    expect(withInstall).toEqual(["all-keys", "web"]);
    expect(r.skipped.map((s) => basename(s.file, ".toml"))).toEqual(good.map((f) => basename(f, ".toml")).filter((n) => !withInstall.includes(n)));
    for (const p of r.pods) {
      const golden = join(FIXTURES, "golden", basename(p.file, ".toml"));
      const want = readdirSync(golden).filter((f) => f !== "plan.json").sort();
      expect(p.files.map((f) => f.name).sort()).toEqual(want);
      for (const f of p.files) expect({ name: f.name, content: f.content }).toEqual({ name: f.name, content: readFileSync(join(golden, f.name), "utf8") });
    }
    expect(r.pods.find((p) => p.pod === "web")!.wantedBy).toEqual(["multi-user.target"]);
  });

  test("every bad fixture gives one line naming what is wrong, and no units", () => {
    const bad = specs("bad");
    const r = convertSpecs(bad.map((f) => source("bad", f)), HOST, never);
    expect(r.pods).toEqual([]);
    expect(r.failures.map((f) => f.file)).toEqual(bad.map((f) => `/etc/podunit/pods/${f}`));
    for (const f of r.failures) {
      expect(f.message).toStartWith("invalid pod spec: ");
      expect(f.message).not.toContain("\n");
    }
    const size = r.failures.find((f) => f.file.endsWith("/bad-size.toml"))!;
    expect(size.message).toMatch(/^invalid pod spec: line \d+, column \d+: [a-z_.]*memory_max: expected a size/);
  });

  test("a broken spec next to good ones: the good ones are still converted", () => {
    const r = convertSpecs(
      [
        text("/etc/podunit/pods/a.toml", `[install]\n[containers.x]\ncommand = ["/bin/true"]\n`),
        text("/etc/podunit/pods/b.toml", `memory_max = "lots"\n[install]\n[containers.x]\ncommand = ["/bin/true"]\n`),
        { file: "/etc/podunit/pods/c.toml", error: new PodunitError("Failed to read '/etc/podunit/pods/c.toml': permission denied.") },
        text("/etc/podunit/pods/d.toml", `[install]\nwanted_by = ["graphical.target", "podunit-lab.target"]\n[containers.x]\ncommand = ["/bin/true"]\n`),
      ],
      HOST,
      never,
    );
    expect(r.pods.map((p) => [p.pod, p.wantedBy])).toEqual([["a", ["multi-user.target"]], ["d", ["graphical.target", "podunit-lab.target"]]]);
    expect(r.failures).toEqual([
      { file: "/etc/podunit/pods/b.toml", message: 'invalid pod spec: line 1, column 1: memory_max: expected a size such as "512M" or "1.5G", found "lots"' },
      { file: "/etc/podunit/pods/c.toml", message: "Failed to read '/etc/podunit/pods/c.toml': permission denied." },
    ]);
  });

  test("specs found by name must keep their file's name; a spec that cannot be planned on this host is a failure", () => {
    const r = convertSpecs(
      [
        text("/etc/podunit/pods/a.toml", `name = "b"\n[install]\n[containers.x]\ncommand = ["/bin/true"]\n`),
        text("/etc/podunit/pods/r.toml", `sandbox = "runc"\n[install]\n[containers.x]\ncommand = ["/bin/true"]\n`),
      ],
      HOST_NO_RUNC,
      never,
    );
    expect(r.pods).toEqual([]);
    expect(r.failures[0]!.message).toContain("name");
    expect(r.failures[1]!.message).toContain("runc is not installed");
    expect(r.failures[1]!.message).not.toContain("\n");
  });

  test("an image a spec names: its units pin the digest; an image not in the store fails that spec, naming it, and the others are converted", () => {
    const images = (spec: PodSpec) => {
      const missing = spec.members.find((m) => m.image !== undefined && !TEST_IMAGES.has(m.image));
      if (missing) throw new NotFoundError(`Pod '${spec.name}' cannot run: image '${missing.image}' for member '${missing.name}' is not in the image store '/var/lib/podunit/images'.`, "Load it with 'podunit image load FILE'.");
      return TEST_IMAGES;
    };
    const r = convertSpecs(
      [
        text("/etc/podunit/pods/a.toml", `[install]\n[containers.x]\nimage = "localhost/app:1"\n`),
        text("/etc/podunit/pods/b.toml", `[install]\n[containers.x]\nimage = "localhost/gone:1"\n`),
        text("/etc/podunit/pods/c.toml", `[install]\n[containers.x]\ncommand = ["/bin/true"]\n`),
      ],
      HOST,
      never,
      images,
    );
    expect(r.pods.map((p) => p.pod)).toEqual(["a", "c"]);
    expect(r.pods[0]!.files.find((f) => f.name === "podunit-a-x.service")!.content).toContain(`--image localhost/app:1=${APP_DIGEST}`);
    expect(r.failures).toEqual([
      {
        file: "/etc/podunit/pods/b.toml",
        message: "Pod 'b' cannot run: image 'localhost/gone:1' for member 'x' is not in the image store '/var/lib/podunit/images'. Load it with 'podunit image load FILE'.",
      },
    ]);
  });

  test("pods installed by 'podunit enable' are left to /etc/systemd/system", () => {
    const r = convertSpecs([text("/etc/podunit/pods/a.toml", `[install]\n[containers.x]\ncommand = ["/bin/true"]\n`)], HOST, (pod) => pod === "a");
    expect(r.pods).toEqual([]);
    expect(r.skipped).toEqual([{ file: "/etc/podunit/pods/a.toml", reason: "installed by 'podunit enable'" }]);
  });
});

test("failureText: one line per spec, with every issue", () => {
  const e = new SpecError([
    { file: "/x.toml", line: 3, column: 1, path: "memory_max", message: "expected a size" },
    { file: "/x.toml", path: "", message: "expected at least one member" },
  ]);
  expect(failureText(e)).toBe("invalid pod spec: line 3, column 1: memory_max: expected a size; expected at least one member");
  expect(failureText(new PodunitError("Failed to plan:\nsecond line", { hint: "Do this." }))).toBe("Failed to plan: / second line Do this.");
});
