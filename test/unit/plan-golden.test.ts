/**
 * Golden files: whole outputs for a few fixtures, to catch any change to them at
 * all, where the fixtures' own assertions (fixture-asserts.test.ts) check only what
 * each fixture is meant to prove. For the fixtures in GOLDEN, the plan (as `podunit
 * plan --json` prints it, OCI configs as nested JSON) and the unit files `podunit
 * generate` writes must equal test/fixtures/golden/<name>/. `UPDATE_GOLDEN=1 bun
 * test` writes them anew; review the diff before committing it.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { planToJson } from "../../src/plan/format.ts";
import { render, unitFilePlan } from "../../src/plan/unitfiles.ts";
import { expectUnitFilesAgreeWithDbus } from "./agreement.ts";
import { planFixture, planSetup, readDirectives } from "./fixture-asserts.ts";

const FIXTURES = join(import.meta.dir, "../fixtures");
const GOOD = join(FIXTURES, "specs/good");
const GOLDEN = join(FIXTURES, "golden");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

/**
 * Between them these two reach most of the planner: web is the README's pod (runc
 * sandbox, a host member and a rootfs member, [install]); all-keys sets every spec
 * key, on the native backend. Whole files for more fixtures would mostly repeat them.
 */
const GOLDEN_FIXTURES = ["all-keys", "web"];

const specs = readdirSync(GOOD)
  .filter((f) => f.endsWith(".toml"))
  .sort();

const read = (file: string) => readFileSync(join(GOOD, file), "utf8");

function expected(name: string): Map<string, string> {
  const dir = join(GOLDEN, name);
  if (!existsSync(dir)) return new Map();
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), "utf8")]));
}

describe("golden plans and unit files", () => {
  for (const name of GOLDEN_FIXTURES) {
    test(name, () => {
      const { plan: p, host } = planFixture(`${name}.toml`, read(`${name}.toml`));
      const actual = new Map<string, string>([["plan.json", planToJson(p)], ...render(unitFilePlan(p, host)).map((u): [string, string] => [u.name, u.content])]);
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

  test("a golden directory for each of GOLDEN_FIXTURES, and no other", () => {
    if (UPDATE) {
      for (const d of readdirSync(GOLDEN)) if (!GOLDEN_FIXTURES.includes(d)) rmSync(join(GOLDEN, d), { recursive: true });
    }
    for (const name of GOLDEN_FIXTURES) expect(specs).toContain(`${name}.toml`);
    expect(readdirSync(GOLDEN).sort()).toEqual([...GOLDEN_FIXTURES].sort());
  });

  test("plan JSON shows a config.json as its object, which gives back the file's exact text", () => {
    const { plan: p } = planFixture("web.toml", read("web.toml"));
    const shown = JSON.parse(planToJson(p)).files as Array<{ path: string; json?: unknown; content?: string }>;
    expect(shown.map((f) => f.path)).toEqual(p.files.map((f) => f.path));
    shown.forEach((f, i) => {
      expect(f.content).toBeUndefined();
      expect(`${JSON.stringify(f.json, null, 2)}\n`).toBe(p.files[i]!.content);
    });
    const other = { ...p, files: [{ path: "/x", mode: 0o600, content: '{"a":1}' }, { path: "/y", mode: 0o600, content: "not json\n" }] };
    expect(JSON.parse(planToJson(other)).files).toEqual(other.files);
  });
});

describe("unit files and D-Bus agree for every good fixture", () => {
  for (const file of specs) {
    const { host, opts } = planSetup(readDirectives(read(file)).directives);
    const planned = () => planFixture(file, read(file), host, opts).plan;
    test(basename(file, ".toml"), () => expectUnitFilesAgreeWithDbus(planned()));
    test(`${basename(file, ".toml")} (unit-file form)`, () => expectUnitFilesAgreeWithDbus(unitFilePlan(planned(), host)));
  }
});
