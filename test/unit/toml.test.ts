/**
 * Bun's TOML parser is taken only where it agrees with @iarna/toml (src/podspec/toml.ts):
 * wherever readToml takes Bun's result, @iarna/toml must read the same text to the
 * same value. Checked over every spec fixture and the whole fuzz corpus.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readToml, readTomlCarefully, readTomlFast, withinToml10 } from "../../src/podspec/toml.ts";
import { TOTAL, makeCase } from "./fuzz/gen.ts";

const SPECS = join(import.meta.dir, "../fixtures/specs");

function fixtures(): string[] {
  const out: string[] = [];
  for (const dir of readdirSync(SPECS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)) {
    for (const f of readdirSync(join(SPECS, dir)).filter((n) => n.endsWith(".toml"))) out.push(readFileSync(join(SPECS, dir, f), "utf8"));
  }
  return out;
}

describe("withinToml10", () => {
  test("strings, comments and 1.0 escapes are fine; 1.1's escapes and inline tables are not", () => {
    const ok = [
      'a = "x\\ty\\u00e9\\"" # { x = 1,\n',
      "a = 'C:\\x\\e' # a literal string keeps its backslashes\n",
      'a = """\nline \\\n  next"""\n',
      'a = """ends in quotes"""""\nb = 1\n',
      "env = { A = \"b}\", C = 'd,' }\n",
      "a = [\n  1,\n  2,\n]\n",
    ];
    const not = ['a = "\\x41"\n', 'a = """\\e"""\n', "a = { b = 1,\n c = 2 }\n", "a = { b = 1, }\n", "a = { b = 1 # c\n }\n"];
    for (const t of ok) expect({ t, ok: withinToml10(t) }).toEqual({ t, ok: true });
    for (const t of not) expect({ t, ok: withinToml10(t) }).toEqual({ t, ok: false });
  });
});

describe("Bun's parser, where it is taken, reads what @iarna/toml reads", () => {
  test("every fixture and every text of the fuzz corpus", () => {
    const texts = [...fixtures()];
    for (let id = 0; id < TOTAL; id++) {
      const c = makeCase(id);
      if (typeof c.input === "string") texts.push(c.input);
    }
    let fast = 0;
    const disagreements: string[] = [];
    for (const text of texts) {
      const value = readTomlFast(text);
      if (value === undefined) continue;
      fast++;
      const careful = readTomlCarefully(text);
      if (!careful.ok || !Bun.deepEquals(careful.value, value, true)) disagreements.push(text.slice(0, 200));
    }
    expect(disagreements).toEqual([]);
    // Most valid specs take the fast path: the check above is not empty.
    expect(fast).toBeGreaterThan(1000);
    console.log(`toml: ${texts.length} texts, ${fast} read by Bun's parser, each the same as @iarna/toml's reading`);
  });

  test("what Bun's parser is not trusted with goes to @iarna/toml", () => {
    for (const text of [
      "x = 1979-05-27\n", // dates: Temporal objects, not Dates
      "x = 9007199254740993\n", // past 2^53: Bun refuses, @iarna/toml gives a BigInt
      "\ufeffx = 1\n", // a byte-order mark: Bun skips it, @iarna/toml refuses it
      "[containers.constructor]\nx = 1\n", // a built-in's name, which @iarna/toml's guard reports
      "x = \n", // any syntax error: @iarna/toml's message and position
      'x = "\\x41"\n', // TOML 1.1 escapes
      'x = "\\e"\n',
      "x = { a = 1,\n b = 2 }\n", // TOML 1.1 inline tables
      "x = { a = 1, }\n",
      "x = 07:32\n", // TOML 1.1 time without seconds
    ]) {
      expect({ text, fast: readTomlFast(text) }).toEqual({ text, fast: undefined });
      expect({ text, result: readToml(text) }).toEqual({ text, result: readTomlCarefully(text) });
    }
    expect(readToml("[containers.constructor]\nx = 1\n")).toMatchObject({ ok: false, touchedBuiltins: true });
  });

  test("keys a table inherits go to @iarna/toml; names only functions have (a pod's `name`) do not", () => {
    for (const text of ["toString = 1\n", "[containers.hasOwnProperty]\nx = 1\n", "a.valueOf = 1\n", '"__proto__" = 1\n']) {
      expect({ text, fast: readTomlFast(text) }).toEqual({ text, fast: undefined });
    }
    for (const text of [
      'name = "web"\n[containers.app]\ncommand = ["sleep", "1"]\n',
      "[containers.length]\ncall = 1\napply = [1]\n",
      '[containers.name]\nbind = "x"\narguments = ["a"]\ncaller = 2\n',
    ]) {
      const fast = readTomlFast(text);
      expect({ text, taken: fast !== undefined }).toEqual({ text, taken: true });
      expect(readTomlCarefully(text)).toEqual({ ok: true, value: fast! });
    }
  });
});
