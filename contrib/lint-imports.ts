/**
 * The layering of src/: which part may import which, and no source file over
 * MAX_LINES lines. `bun contrib/lint-imports.ts` checks the tree, prints one
 * line per violation and exits 1 when there is any; `checkImports` is the same
 * check over file texts. Only relative imports that land in src/ count
 * (`node:fs`, `bun`, or package.json read for the version are no layer's).
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

/** A file longer than this is asking to be split. */
export const MAX_LINES = 400;

/**
 * What each part of src/ may import besides itself, top layer first. A part is a
 * folder below src/ (`cli`) or a file at its top (`errors`, `trace`, `main`,
 * and `podunit`, the binary's entry, which picks main, a verb run alone or the
 * generator, whose name it takes from boot).
 */
const ALLOWED: Readonly<Record<string, readonly string[] | "anything">> = {
  podunit: ["main", "cli", "boot"],
  main: "anything",
  cli: ["pods", "status", "boot", "plan", "podspec", "systemd", "host", "image", "kube", "errors", "trace"],
  // Kubernetes YAML in and out: a translation of the spec, pure; only cli/kube.ts loads it (dynamically).
  kube: ["podspec", "errors", "trace"],
  pods: ["boot", "status", "plan", "podspec", "systemd", "host", "image", "errors", "trace"],
  boot: ["plan", "podspec", "systemd", "host", "errors", "trace"],
  status: ["podspec", "systemd", "host", "errors", "trace"],
  // host adapters may use plan and spec types, never the parts that drive them.
  host: ["plan", "podspec", "systemd", "errors", "trace"],
  plan: ["podspec", "systemd", "errors", "trace"],
  podspec: ["errors", "trace"],
  systemd: ["errors", "trace"],
  // An image reference is a value of the spec grammar (podspec/reference.ts).
  image: ["podspec", "host", "errors", "trace"],
  errors: [],
  trace: [],
};

/**
 * Within cli/ a verb file never imports another verb file: what verbs share
 * lives in this folder, so that each verb can be read on its own.
 */
const CLI_SHARED = "src/cli/common/";

/** The part of src/ a path (`src/plan/types.ts`) belongs to; undefined outside src/. */
export function partOf(path: string): string | undefined {
  const m = /^src\/([^/]+)/.exec(path);
  if (!m) return undefined;
  return m[1]!.replace(/\.ts$/, "");
}

function shown(part: string): string {
  return part in ALLOWED && !["podunit", "main", "errors", "trace"].includes(part) ? `${part}/` : `${part}.ts`;
}

/**
 * The relative modules a file imports: `import ... from`, `import type ... from`,
 * `export ... from` and bare `import "..."`, each at the start of a line (so a
 * `from '...'` inside a message is none).
 */
export function relativeImports(text: string): string[] {
  const found: string[] = [];
  const patterns = [/^\s*(?:import|export)\s[^'";]*?\sfrom\s*["'](\.[^"']*)["']/gm, /^\s*import\s*["'](\.[^"']*)["']/gm];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1]!);
  return found;
}

/** Lines as `wc -l` counts them (a last line without a newline counts too). */
function lineCount(text: string): number {
  if (text === "") return 0;
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

/** Violations of the layering and the size limit, one line each, in the order of the files and their imports. */
export function checkImports(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [path, text] of files) {
    const lines = lineCount(text);
    if (lines > MAX_LINES) out.push(`${path} has ${lines} lines: at most ${MAX_LINES}, split it`);
    const from = partOf(path);
    const allowed = from === undefined ? undefined : ALLOWED[from];
    if (from === undefined || allowed === undefined) {
      out.push(`${path} is in no layer: add its folder to the table in contrib/lint-imports.ts`);
      continue;
    }
    for (const spec of relativeImports(text)) {
      const target = normalize(join(dirname(path), spec));
      const to = partOf(target);
      if (to === undefined) continue;
      if (to === from) {
        if (from === "cli" && !target.startsWith(CLI_SHARED)) {
          out.push(`${path} imports ${target}: within cli/ only files in ${CLI_SHARED} may be imported`);
        }
        continue;
      }
      if (allowed === "anything" || allowed.includes(to)) continue;
      const may = allowed.length ? `only ${[...allowed, from].join(", ")}` : "nothing";
      out.push(`${path} imports ${target}: ${shown(from)} may import ${may}`);
    }
  }
  return out;
}

/** Every `.ts` file below `dir` (relative to `root`), sorted, with its text. */
export function readSources(root: string, dir = "src"): Map<string, string> {
  const names = readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
    .filter((n) => n.endsWith(".ts"))
    .map((n) => `${dir}/${n}`)
    .sort();
  return new Map(names.map((n) => [n, readFileSync(join(root, n), "utf8")]));
}

if (import.meta.main) {
  const violations = checkImports(readSources(join(import.meta.dir, "..")));
  for (const v of violations) console.error(v);
  process.exit(violations.length ? 1 : 0);
}
