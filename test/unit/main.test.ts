import { describe, expect, test } from "bun:test";
import { main, wantsHelp } from "../../src/main.ts";

function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  return main(argv, { out: (t) => void out.push(t), err: (t) => void err.push(t), env: {} }).then((code) => ({ code, out: out.join(""), err: err.join("") }));
}

describe("the command layer", () => {
  test("unknown commands and options: one line, exit 2", async () => {
    const a = await run(["frob"]);
    expect([a.code, a.err]).toEqual([2, "podunit: Unknown command 'frob'. Run 'podunit help' for usage.\n"]);
    const b = await run(["version", "--x"]);
    expect([b.code, b.err]).toEqual([2, "podunit: Unknown option '--x' for 'podunit version'. Run 'podunit help version' for its options.\n"]);
  });
  test("help for every verb, and --help after a verb", async () => {
    const h = await run(["help"]);
    expect(h.code).toBe(0);
    for (const verb of ["start", "stop", "restart", "apply", "status", "list", "logs", "exec", "check", "plan", "generate", "enable", "disable"]) {
      expect(h.out).toContain(`  ${verb} `);
    }
    expect(h.out).not.toMatch(/^  internal /m);
    const s = await run(["start", "web", "--help"]);
    expect([s.code, s.out.split("\n")[0]]).toEqual([0, "Start a pod from its spec; returns once every member is active."]);
  });
  test("--help inside a user's command, or after --, is the command's", () => {
    expect(wantsHelp(["--help"], true)).toBe(true);
    expect(wantsHelp(["-i", "--help"], true)).toBe(true);
    expect(wantsHelp(["web", "app", "grep", "--help"], true)).toBe(false);
    expect(wantsHelp(["web", "--help"], false)).toBe(true);
    expect(wantsHelp(["--", "x", "--help"], false)).toBe(false);
  });
});
