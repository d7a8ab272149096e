/**
 * Every good spec fixture is planned and rendered, and must hold what its own
 * `## assert-*` lines say (grammar: test/fixtures/README.md, runner:
 * fixture-asserts.ts). Adding a case means adding a file with its assertions.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { checkFixture, parsePath, words } from "./fixture-asserts.ts";

const GOOD = join(import.meta.dir, "../fixtures/specs/good");
const specs = readdirSync(GOOD)
  .filter((f) => f.endsWith(".toml"))
  .sort();

describe("good fixtures hold their assertions", () => {
  for (const file of specs) test(file, () => expect(checkFixture(file, readFileSync(join(GOOD, file), "utf8"))).toEqual([]));
});

// The runner must be able to fail, and say where: each case below is a fixture that is wrong in one way.
const POD = `[containers.app]
command = ["/bin/sh", "-c", "echo hi"]
memory_max = "128M"
`;

describe("the runner fails where a fixture is wrong", () => {
  test("a value that differs: fixture, line, unit, section, key, both values", () => {
    const text = `# A wrong limit.\n## assert-key-is podunit-t-app.service Service MemoryMax 134217728\n## assert-key-is podunit-t-app.service Service MemoryMax 1\n${POD}`;
    expect(checkFixture("t.toml", text)).toEqual(['t.toml:3: assert-key-is: podunit-t-app.service [Service] MemoryMax: expected ["1"], found ["134217728"]']);
  });

  test("each assertion form, wrong", () => {
    const text = [
      "# Everything wrong.",
      "## assert-key-is-regex podunit-t-app.service Service Type 'fork.*'",
      "## assert-key-contains podunit-t-app.service Unit After podunit-t-db.service",
      "## assert-key-missing podunit-t-app.service Service MemoryMax",
      "## assert-unit-missing podunit-t.slice",
      "## assert-key-is podunit-t-nope.service Unit After x",
      '## assert-plan backend "native"',
      '## assert-plan stages[*].kind ["slice"]',
      "## assert-oci app process.args []",
      '## assert-oci sandbox hostname "x"',
      POD,
    ].join("\n");
    const found = checkFixture("t.toml", text);
    expect(found.map((f) => f.split(": ")[0])).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => `t.toml:${n}`));
    expect(found[0]).toContain('found ["exec"]');
    expect(found[5]).toBe('t.toml:7: assert-plan: backend: expected "native", found "runc"');
    expect(found[6]).toContain('found ["slice","sandbox","members"]');
    expect(found[7]).toContain("no file /run/podunit/t/bundles/app/config.json in the plan");
    expect(found[8]).toBe('t.toml:10: assert-oci: sandbox hostname: expected "x", found "t"');
  });

  test("an unknown directive, a fixture without assertions, without a purpose, an unknown plan option", () => {
    expect(checkFixture("t.toml", `# Typo.\n## assert-key-iz a b c d\n## assert-plan pod "t"\n${POD}`)).toEqual(["t.toml:2: unknown directive '## assert-key-iz'"]);
    expect(checkFixture("t.toml", `# Nothing asserted.\n${POD}`)).toEqual(["t.toml:0: no assertion: a fixture must say what it plans to"]);
    expect(checkFixture("t.toml", `## assert-plan pod "t"\n${POD}`)[0]).toStartWith("t.toml:1: the first line must be a comment");
    expect(checkFixture("t.toml", `# Bad option.\n## plan-with backend=lxc\n## assert-plan pod "t"\n${POD}`)).toEqual(["t.toml:2: plan-with: unknown option 'backend=lxc'"]);
  });

  test("bad arguments and bad JSON are findings, not crashes", () => {
    const text = `# Bad arguments.\n## assert-key-is podunit-t-app.service Service\n## assert-plan pod {nope\n## assert-plan pod\n${POD}`;
    const found = checkFixture("t.toml", text);
    expect(found).toHaveLength(3);
    expect(found[0]).toBe("t.toml:2: assert-key-is: takes UNIT SECTION KEY and 1 or more value(s), found 2 words");
    expect(found[1]).toStartWith("t.toml:3: assert-plan: bad JSON '{nope'");
    expect(found[2]).toBe("t.toml:4: assert-plan: takes PATH JSON");
  });

  test("plan-with changes the plan, and the same text then holds other assertions", () => {
    const text = `# Native.\n## plan-with backend=native\n## assert-plan backend "native"\n## assert-plan ready.launcher "unshare"\n${POD}`;
    expect(checkFixture("t.toml", text)).toEqual([]);
    expect(checkFixture("t.toml", text.replace("## plan-with backend=native\n", ""))).toHaveLength(2);
  });
});

describe("the directive grammar", () => {
  test("words: bare, 'literal', \"JSON\"; and the text after a count of them", () => {
    expect(words(`a 'b \\x2d "c"' "d\\\\x2d \\"e\\"" f`).words).toEqual(["a", 'b \\x2d "c"', 'd\\x2d "e"', "f"]);
    expect(words('p.q ["x", "y z"]', 1)).toEqual({ words: ["p.q"], rest: '["x", "y z"]' });
    expect(() => words("'open")).toThrow(/unterminated/);
  });
  test("paths: names, indexes from either end, every element, quoted names, length", () => {
    expect(parsePath('a.b[2][-1][*].c["x.y"].length')).toEqual(["a", "b", 2, -1, "*", "c", "x.y", "length"]);
    expect(() => parsePath("a..b")).toThrow(/bad path/);
  });
});
