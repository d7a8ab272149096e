/**
 * Every podunit command evaluates what src/main.ts reaches through static imports.
 * These built-ins (and @iarna/toml, which the spec reader loads only when Bun's parser cannot answer, and yaml, which only
 * `kube` loads: 32-46 ms to import, measured with bun from node_modules) cost milliseconds to set up (measured: the image store's eager
 * node:zlib, node:stream and node:crypto added ~8 ms of CPU to each command), so the
 * code that needs them loads them when it runs.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const COSTLY = ["node:zlib", "node:stream", "node:stream/promises", "node:crypto", "node:tty", "node:tls", "node:child_process", "@iarna/toml", "yaml"];

test("no costly built-in is reached from src/main.ts by static imports", () => {
  const reached: string[] = [];
  const seen = new Set<string>();
  const walk = (file: string, chain: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+"([^"]+)"/gms)) {
      const spec = m[1]!;
      if (COSTLY.includes(spec)) reached.push(`${[...chain, file].map((f) => f.slice(f.indexOf("src/"))).join(" > ")} > ${spec}`);
      if (spec.startsWith(".")) walk(resolve(dirname(file), spec), [...chain, file]);
    }
  };
  walk(join(import.meta.dir, "../../src/main.ts"), []);
  expect(seen.size).toBeGreaterThan(50);
  expect(reached).toEqual([]);
});
