import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { MAX_LINES, checkImports, readSources, relativeImports } from "../../contrib/lint-imports.ts";

const lines = (n: number) => "export const x = 1;\n".repeat(n);

describe("checkImports", () => {
  test("a verb file importing another verb file fails; files in cli/common/ may be imported", () => {
    const files = new Map([
      ["src/cli/start.ts", 'import { stop } from "./stop.ts";\nimport { parseArgs } from "./common/args.ts";\n'],
      ["src/cli/common/args.ts", 'import { UsageError } from "../../errors.ts";\n'],
    ]);
    expect(checkImports(files)).toEqual(["src/cli/start.ts imports src/cli/stop.ts: within cli/ only files in src/cli/common/ may be imported"]);
  });

  test("a lower layer importing a higher one fails, with what it may import", () => {
    const files = new Map([["src/systemd/render.ts", 'import type {\n  Plan,\n} from "../plan/types.ts";\nimport { q } from "./quote.ts";\n']]);
    expect(checkImports(files)).toEqual(["src/systemd/render.ts imports src/plan/types.ts: systemd/ may import only errors, trace, systemd"]);
  });

  test("errors.ts imports nothing; main.ts anything", () => {
    const files = new Map([
      ["src/errors.ts", 'export { x } from "./trace.ts";\n'],
      ["src/main.ts", 'import "./cli/start.ts";\nimport { ExitCode } from "./errors.ts";\n'],
    ]);
    expect(checkImports(files)).toEqual(["src/errors.ts imports src/trace.ts: errors.ts may import nothing"]);
  });

  test(`a file over ${MAX_LINES} lines fails; one of ${MAX_LINES} passes`, () => {
    const files = new Map([
      ["src/plan/big.ts", lines(MAX_LINES + 1)],
      ["src/plan/full.ts", lines(MAX_LINES)],
    ]);
    expect(checkImports(files)).toEqual([`src/plan/big.ts has ${MAX_LINES + 1} lines: at most ${MAX_LINES}, split it`]);
  });

  test("only imports at the start of a line that land in src/ count", () => {
    const text = 'import pkg from "../../package.json" with { type: "json" };\nimport { readFileSync } from "node:fs";\nthrow new Error(`back from \'${p}\'`);\n';
    expect(relativeImports(text)).toEqual(["../../package.json"]);
    expect(checkImports(new Map([["src/cli/version.ts", text]]))).toEqual([]);
  });
});

describe("the tree", () => {
  test("keeps its layering, and no source file is over the limit", () => {
    expect(checkImports(readSources(join(import.meta.dir, "../..")))).toEqual([]);
  });
});
