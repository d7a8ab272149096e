import { describe, expect, test } from "bun:test";
import { SpecError, formatSpecIssue } from "../../src/errors.ts";
import { MAX_ISSUES, formatPath, parseSpec, stemOf } from "../../src/podspec/parse.ts";
import { MAX_CYCLES, findCycles } from "../../src/podspec/relations.ts";

/** The formatted issues parseSpec throws for `text` (empty when it parses). */
function issues(text: string, file = "t.toml", opts: { defaultName?: string; nameIsStem?: boolean } = {}): string[] {
  try {
    parseSpec(text, file, opts);
    return [];
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    return e.issues.map(formatSpecIssue);
  }
}

const MEMBER = '[containers.app]\ncommand = ["/bin/true"]\n';

describe("parseSpec", () => {
  test("the pod's name is the defaultName, else the file's stem", () => {
    expect(parseSpec(MEMBER, "/etc/podunit/pods/web.toml").name).toBe("web");
    expect(parseSpec(MEMBER, "/x/y.toml", { defaultName: "other" }).name).toBe("other");
    expect(parseSpec(MEMBER, "/x/y.toml").file).toBe("/x/y.toml");
    expect(issues(MEMBER, "<string>")).toEqual([
      `<string>: expected the spec to come from a file named NAME.toml to take the pod's name from, or a name key, found "<string>"`,
    ]);
    expect(issues(MEMBER, "/pods/My.Pod.toml")[0]).toBe(
      `/pods/My.Pod.toml: the pod's name comes from the file's name: expected a name such as "web" or "my-app" (a-z, 0-9 and "-", starting and ending with a letter or digit, at most 63 characters), found "My.Pod"; rename the file or set name`,
    );
  });

  test("a name key names the pod, unless the spec was found by its file name", () => {
    const named = `name = "api"\n${MEMBER}`;
    expect(parseSpec(named, "/x/My.Pod.toml").name).toBe("api");
    expect(parseSpec(named, "<string>").name).toBe("api");
    expect(issues(named, "/etc/podunit/pods/web.toml", { nameIsStem: true })).toEqual([
      `/etc/podunit/pods/web.toml:1:1: name: expected "web", the name of the file (specs in the pod directory are found by file name), found "api"; rename the file or drop the key`,
    ]);
    expect(parseSpec(`name = "web"\n${MEMBER}`, "/etc/podunit/pods/web.toml", { nameIsStem: true }).name).toBe("web");
  });

  test("stemOf", () => {
    expect(stemOf("/a/web.toml")).toBe("web");
    expect(stemOf("web.toml")).toBe("web");
    expect(stemOf("/a/.toml")).toBeUndefined();
    expect(stemOf("/a/web.conf")).toBeUndefined();
  });

  test("formatPath writes keys the way TOML would", () => {
    expect(formatPath(["containers", "app", "command", 0])).toBe("containers.app.command[0]");
    expect(formatPath(["containers", "a b", "env", "x.y"])).toBe('containers."a b".env."x.y"');
    expect(formatPath([])).toBe("");
  });

  test("a byte order mark is skipped", () => {
    expect(parseSpec("\uFEFF" + MEMBER, "bom.toml").members[0]!.name).toBe("app");
  });

  test("syntax errors on line 1 and after CRLF lines have the right column", () => {
    expect(issues("a = =")).toEqual([
      't.toml:1:5: invalid TOML: unexpected character, expecting string, number, datetime, boolean, inline array or inline table, found "="',
    ]);
    expect(issues("a = 1\r\nb = =\r\n")[0]).toStartWith("t.toml:2:5: invalid TOML:");
    expect(issues('a = "😀" x')[0]).toBe(
      't.toml:1:9: invalid TOML: unexpected character, expected only whitespace or comments till end of line, found "x"',
    );
    expect(issues("a = 1\n\u0001")[0]).toBe(
      "t.toml:2:1: invalid TOML: expected a key, a [table] header or a comment, found the character U+0001",
    );
  });

  test("members keep the file's order, integer-like names included", () => {
    const spec = parseSpec('[containers.b]\ncommand=["x"]\n[containers.10]\ncommand=["x"]\n[containers.2]\ncommand=["x"]\n', "p.toml");
    expect(spec.members.map((m) => m.name)).toEqual(["b", "10", "2"]);
  });

  test("environment names that are also JavaScript property names stay plain data", () => {
    const spec = parseSpec('[containers.app]\ncommand = ["x"]\nenv = { constructor = "1", toString = "2", hasOwnProperty = "3" }\n', "p.toml");
    expect(spec.members[0]!.env).toEqual({ constructor: "1", toString: "2", hasOwnProperty: "3" });
    expect(issues('[containers.app]\ncommand = ["x"]\nenv = { "__proto__" = "1" }\n')).toEqual([]);
    const env = parseSpec('[containers.app]\ncommand = ["x"]\nenv = { "__proto__" = "1" }\n', "p.toml").members[0]!.env;
    expect(Object.keys(env)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(env)).toBe(Object.prototype);
  });

  test("keys named after built-ins are rejected and leave no trace in JavaScript's own objects", () => {
    const before = Object.getOwnPropertyNames(Object).sort().join();
    const beforeBind = Object.getOwnPropertyNames(Function.prototype.bind).sort().join();
    expect(issues('[containers.constructor]\ncommand = ["x"]\n')).toEqual([
      't.toml:1:13: containers.constructor: expected a table name other than "constructor", a name the TOML reader cannot use for a table',
    ]);
    expect(issues("[a]\nconstructor.bind.evil = 1\n")).toHaveLength(1);
    expect(issues("x = { toString.y = 1 }\n")).toHaveLength(1);
    expect(issues("[containers.valueOf]\n")).toHaveLength(1);
    expect(Object.getOwnPropertyNames(Object).sort().join()).toBe(before);
    expect(Object.getOwnPropertyNames(Function.prototype.bind).sort().join()).toBe(beforeBind);
    expect(Object.getOwnPropertySymbols(Object)).toEqual([]);
    // Plain keys with those names are fine where they are leaves.
    expect(issues(`${MEMBER}env.constructor = "x"\n`)).toEqual([]);
  });

  test("more than 100 issues are cut, and the rest counted", () => {
    const text = Array.from({ length: 150 }, (_, i) => `bad${i} = 1`).join("\n") + "\n" + MEMBER;
    const got = issues(text);
    expect(got).toHaveLength(MAX_ISSUES + 1);
    expect(got[0]).toStartWith("t.toml:1:1: bad0: unknown key");
    expect(got[MAX_ISSUES]).toBe("t.toml: and 50 more problems");
  });

  test("huge input is handled in reasonable time", () => {
    const members = Array.from({ length: 5000 }, (_, i) => `[containers.m${i}]\ncommand = ["/bin/true", "${"x".repeat(100)}"]\nafter = [${i > 0 ? `"m${i - 1}"` : ""}]\n`);
    const t0 = performance.now();
    const spec = parseSpec(members.join("\n"), "big.toml");
    expect(spec.members).toHaveLength(5000);
    const many = Array.from({ length: 50_000 }, (_, i) => `unknown_key_${i} = "v"`).join("\n");
    expect(issues(many)).toHaveLength(MAX_ISSUES + 1);
    const long = `hostname = "${"a".repeat(2_000_000)}"\n${MEMBER}`;
    expect(issues(long)[0]).toContain("(2000000 characters)");
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  test("deep nesting neither crashes nor hangs", () => {
    const depth = 100_000;
    expect(issues(`x = ${"[".repeat(depth)}${"]".repeat(depth)}\n${MEMBER}`)).toEqual(["t.toml:1:1: x: unknown key; expected one of 'name', 'hostname', 'share', 'host_network', 'host_ipc', 'host_pid', 'sandbox', 'userns', 'runtime', 'memory_max', 'cpu_quota', 'tasks_max', 'install', 'containers', 'network', 'ports', 'volumes'"]);
    expect(issues(`${MEMBER}command = 1\n`)[0]).toContain("invalid TOML");
    expect(issues(`[containers.app]\ncommand = ${"[".repeat(depth)}${"]".repeat(depth)}\n`)).toEqual([
      "t.toml:2:12: containers.app.command[0]: expected a string, found an array of 1 item",
    ]);
    expect(issues(`[containers.app]\ncommand = ["x"]\nenv = ${"{a=".repeat(depth)}1${"}".repeat(depth)}\n`)).toEqual([
      "t.toml:3:8: containers.app.env.a: expected a string, found a table",
    ]);
    const dotted = "a" + ".b".repeat(depth) + " = 1\n";
    expect(issues(dotted + MEMBER)[0]).toStartWith("t.toml:1:1: a: unknown key");
  });

  test("the result holds no values from the TOML reader (plain arrays and objects)", () => {
    const spec = parseSpec(`share = ["net"]\n${MEMBER}after = []\n`, "p.toml");
    for (const v of [spec.share, spec.members[0]!.command, spec.members[0]!.after]) {
      expect(Object.getOwnPropertySymbols(v)).toEqual([]);
    }
  });
});

describe("findCycles", () => {
  const g = (o: Record<string, string[]>) => new Map(Object.entries(o));
  test("none in a chain or a diamond", () => {
    expect(findCycles(["a", "b", "c"], g({ b: ["a"], c: ["b"] }))).toEqual([]);
    expect(findCycles(["a", "b", "c", "d"], g({ b: ["a"], c: ["a"], d: ["b", "c"] }))).toEqual([]);
  });
  test("each cycle once, starting at its first member in file order", () => {
    expect(findCycles(["a", "b", "c"], g({ a: ["c"], b: ["a"], c: ["b"] }))).toEqual([["a", "c", "b", "a"]]);
    expect(findCycles(["x", "y", "z"], g({ z: ["y"], y: ["z"] }))).toEqual([["y", "z", "y"]]);
  });
  test("at most MAX_CYCLES are reported, however dense the graph", () => {
    const order = Array.from({ length: 300 }, (_, i) => `m${i}`);
    const edges = new Map(order.map((m) => [m, order.filter((x) => x !== m)]));
    expect(findCycles(order, edges)).toHaveLength(MAX_CYCLES);
  });
  test("long chains do not overflow the stack", () => {
    const n = 100_000;
    const order = Array.from({ length: n }, (_, i) => `m${i}`);
    const edges = new Map(order.map((m, i) => [m, i + 1 < n ? [`m${i + 1}`] : ["m0"]]));
    const cycles = findCycles(order, edges);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toHaveLength(n + 1);
  });
});
