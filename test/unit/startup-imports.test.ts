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

/** Every file src/<from> reaches through static imports. */
function reachedFrom(from: string): Set<string> {
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, "utf8").matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+"([^"]+)"/gms)) {
      if (m[1]!.startsWith(".")) walk(resolve(dirname(file), m[1]!));
    }
  };
  walk(join(import.meta.dir, "../../src", from));
  return new Set([...seen].map((f) => f.slice(f.indexOf("src/") + 4)));
}

test("stop, list, version and the units' helpers load no spec parser, planner, image or network code", () => {
  // What a start needs and these do not; each module loaded costs a fresh process start-up time.
  const heavy = (f: string) => f === "podspec/parse.ts" || f === "plan/plan.ts" || f === "pods/network.ts" || f === "boot/install.ts" || f.startsWith("image/");
  for (const verb of ["cli/stop.ts", "cli/list.ts", "cli/version.ts", "cli/internal.ts", "boot/generatorname.ts"]) {
    const reached = reachedFrom(verb);
    expect({ verb, heavy: [...reached].filter(heavy) }).toEqual({ verb, heavy: [] });
  }
  // The check can fail: a start reaches all of them.
  expect([...reachedFrom("cli/start.ts")].filter(heavy).length).toBeGreaterThan(5);
});
