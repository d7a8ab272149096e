/**
 * Golden files: for every good spec fixture, the plan (JSON) and the unit files
 * `podunit generate` writes for it must equal test/fixtures/golden/<name>/. `UPDATE_GOLDEN=1 bun test`
 * writes them anew; review the diff before committing it.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { planToJson } from "../../src/plan/format.ts";
import { plan } from "../../src/plan/plan.ts";
import { parseSpec } from "../../src/podspec/parse.ts";
import { unitFilePlan } from "../../src/plan/unitfiles.ts";
import { render } from "../../src/systemd/render.ts";
import { expectUnitFilesAgreeWithDbus } from "./agreement.ts";
import { HOST } from "./plan-helpers.ts";

const FIXTURES = join(import.meta.dir, "../fixtures");
const GOOD = join(FIXTURES, "specs/good");
const GOLDEN = join(FIXTURES, "golden");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

const specs = readdirSync(GOOD)
  .filter((f) => f.endsWith(".toml"))
  .sort();

/** Plans a fixture as if it lived in /etc/podunit/pods, so golden files do not depend on the checkout's path. */
function planFixture(file: string) {
  const name = basename(file, ".toml");
  const spec = parseSpec(readFileSync(join(GOOD, file), "utf8"), `/etc/podunit/pods/${file}`, { defaultName: name });
  return plan(spec, HOST);
}

function expected(name: string): Map<string, string> {
  const dir = join(GOLDEN, name);
  if (!existsSync(dir)) return new Map();
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), "utf8")]));
}

describe("golden plans and unit files", () => {
  for (const file of specs) {
    const name = basename(file, ".toml");
    test(name, () => {
      const p = planFixture(file);
      const actual = new Map<string, string>([["plan.json", planToJson(p)], ...render(unitFilePlan(p, HOST)).map((u): [string, string] => [u.name, u.content])]);
      if (UPDATE) {
        const dir = join(GOLDEN, name);
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        for (const [f, content] of actual) writeFileSync(join(dir, f), content);
      }
      const want = expected(name);
      expect([...actual.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [f, content] of actual) expect({ file: `${name}/${f}`, content }).toEqual({ file: `${name}/${f}`, content: want.get(f)! });
    });
  }

  test("no golden directory without a fixture", () => {
    if (UPDATE) {
      for (const d of readdirSync(GOLDEN)) if (!specs.includes(`${d}.toml`)) rmSync(join(GOLDEN, d), { recursive: true });
    }
    expect(readdirSync(GOLDEN).sort()).toEqual(specs.map((f) => basename(f, ".toml")).sort());
  });
});

describe("unit files and D-Bus agree for every golden plan", () => {
  for (const file of specs) {
    test(basename(file, ".toml"), () => expectUnitFilesAgreeWithDbus(planFixture(file)));
    test(`${basename(file, ".toml")} (unit-file form)`, () => expectUnitFilesAgreeWithDbus(unitFilePlan(planFixture(file), HOST)));
  }
});
