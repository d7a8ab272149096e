/**
 * The man pages: they render with man's warnings on, at 80 columns, without a
 * warning, and name every verb of the command table and every key of the spec's
 * key tables.
 */
import { VOLUME_KEYS } from "../../src/podspec/volumes.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { manPages } from "../../src/cli/common/manpages.ts";
import { markdownToRoff } from "../../src/cli/common/roff.ts";
import { VERSION } from "../../src/cli/version.ts";
import { commandTable } from "../../src/main.ts";
import { MEMBER_KEYS } from "../../src/podspec/member.ts";
import { HEALTH_KEYS } from "../../src/podspec/health.ts";
import { INSTALL_KEYS, POD_KEYS } from "../../src/podspec/validate.ts";

let dir: string;
const rendered: Record<string, string> = {};

/** `MANWIDTH=80 man --warnings -l FILE`: its text, and what it said on standard error. */
function man(file: string): { text: string; warnings: string } {
  const r = Bun.spawnSync(["man", "--warnings", "-l", file], { env: { ...process.env, MANWIDTH: "80", MAN_KEEP_FORMATTING: "", LANG: "C.UTF-8" }, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`man -l ${file} exited ${r.exitCode}: ${r.stderr.toString()}`);
  return { text: r.stdout.toString(), warnings: r.stderr.toString() };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "podunit-man-"));
  for (const p of manPages(commandTable(), VERSION)) {
    writeFileSync(join(dir, p.name), p.text);
    const { text, warnings } = man(join(dir, p.name));
    expect(warnings, `warnings rendering ${p.name}`).toBe("");
    rendered[p.name] = text.replace(/\u2010/g, "-");
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("podunit(1)", () => {
  test("renders without warnings and lines of at most 80 columns", () => {
    for (const line of rendered["podunit.1"]!.split("\n")) expect(line.length).toBeLessThanOrEqual(80);
  });
  test("every verb of the command table has its section, with its usage", () => {
    for (const c of commandTable()) {
      expect(rendered["podunit.1"]).toMatch(new RegExp(`^ {3}${c.name}$`, "m"));
      expect(rendered["podunit.1"]).toContain(`podunit ${c.name}`);
    }
  });
  test("exit codes come from docs/exit-codes.md", () => {
    expect(rendered["podunit.1"]).toContain("EXIT STATUS");
    expect(rendered["podunit.1"]).toContain("systemd unreachable");
  });
});

describe("podunit-spec(5)", () => {
  test("every key of the spec's key tables is in it", () => {
    const text = rendered["podunit-spec.5"]!;
    for (const k of [...POD_KEYS.filter((k) => k !== "install" && k !== "containers" && k !== "volumes"), ...INSTALL_KEYS, ...MEMBER_KEYS, ...VOLUME_KEYS, ...HEALTH_KEYS]) {
      // A tagged paragraph: the key at the left, on its own line or before its text.
      expect(text, `key ${k}`).toMatch(new RegExp(`^ {7}${k}( |$)`, "m"));
    }
    expect(text).toMatch(/^ {7}\[install\]$/m);
    expect(text).toMatch(/^ {7}\[containers\.NAME\]$/m);
    expect(text).toMatch(/^ {7}\[volumes\.NAME\]$/m);
  });
});

describe("Markdown to roff", () => {
  test("a request-like line, backslashes and non-ASCII characters are escaped", () => {
    expect(markdownToRoff("# T\n\n.x and `a\\b` → c\n")).toBe(".PP\n\\&.x and \\fBa\\eb\\fR \\(-> c\n");
  });
  test("a table becomes tagged paragraphs; code blocks stay as they are", () => {
    expect(markdownToRoff("| key | type |\n| --- | --- |\n| `a` | b |\n")).toBe(".TP\n\\fBa\\fR\nType: b\n");
    expect(markdownToRoff("```\nx = 1\n```\n")).toBe(".PP\n.RS 4\n.nf\nx = 1\n.fi\n.RE\n");
  });
});
