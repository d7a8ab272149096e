import { describe, expect, test } from "bun:test";
import { indexSource, positionOf, type Seg } from "../../src/podspec/locate.ts";

/** Line:column of `path` in `text`, as a string for easy comparison. */
function at(text: string, path: Seg[]): string | undefined {
  const p = indexSource(text).find(path);
  return p && `${p.line}:${p.column}`;
}

describe("source index", () => {
  const text = [
    'hostname = "web"', // 1
    "[containers.db]", // 2
    'command = ["a", "b"]', // 3
    "  [ containers . 'app' ]  # comment", // 4
    "env.LOG_LEVEL = 'x'", // 5
    '"quoted key" = 1', // 6
    "tab\t=\t2", // 7
  ].join("\n");

  test("top-level keys, headers, dotted and quoted keys", () => {
    expect(at(text, ["hostname"])).toBe("1:1");
    expect(at(text, ["containers"])).toBe("2:2");
    expect(at(text, ["containers", "db"])).toBe("2:13");
    expect(at(text, ["containers", "db", "command"])).toBe("3:1");
    expect(at(text, ["containers", "app"])).toBe("4:18");
    expect(at(text, ["containers", "app", "env"])).toBe("5:1");
    expect(at(text, ["containers", "app", "env", "LOG_LEVEL"])).toBe("5:5");
    expect(at(text, ["containers", "app", "quoted key"])).toBe("6:1");
    expect(at(text, ["containers", "app", "tab"])).toBe("7:1");
  });

  test("array elements", () => {
    expect(at(text, ["containers", "db", "command", 0])).toBe("3:12");
    expect(at(text, ["containers", "db", "command", 1])).toBe("3:17");
  });

  test("a missing path falls back to its nearest ancestor", () => {
    expect(at(text, ["containers", "db", "memory_max"])).toBe("2:13");
    expect(at(text, ["containers", "db", "command", 7])).toBe("3:1");
    expect(at(text, ["nothing"])).toBeUndefined();
    expect(at(text, [])).toBeUndefined();
  });

  test("inline tables, nested arrays and multi-line arrays with comments", () => {
    const t = [
      "[containers.a]",
      'env = { A = "1", "B C" = { D = 2 } }',
      "command = [",
      '  "x", # a comment with [brackets] and "quotes"',
      "  [1, [2, 3]],",
      "]",
      "after = []",
    ].join("\n");
    expect(at(t, ["containers", "a", "env", "A"])).toBe("2:9");
    expect(at(t, ["containers", "a", "env", "B C"])).toBe("2:18");
    expect(at(t, ["containers", "a", "env", "B C", "D"])).toBe("2:28");
    expect(at(t, ["containers", "a", "command", 0])).toBe("4:3");
    expect(at(t, ["containers", "a", "command", 1])).toBe("5:3");
    expect(at(t, ["containers", "a", "command", 1, 1, 0])).toBe("5:8");
    expect(at(t, ["containers", "a", "after"])).toBe("7:1");
  });

  test("multi-line strings hide what looks like keys and headers", () => {
    const t = ['a = """', "[containers.fake]", 'b = "x"', '"""', "c = '''", "d = 1''' # '''", "e = 1"].join("\n");
    expect(at(t, ["containers"])).toBeUndefined();
    expect(at(t, ["b"])).toBeUndefined();
    expect(at(t, ["d"])).toBeUndefined();
    expect(at(t, ["e"])).toBe("7:1");
  });

  test("escapes in quoted keys", () => {
    const t = '[containers."a\\nb"]\n"\\u0041" = 1\n[containers."q\\"x"]\n';
    expect(at(t, ["containers", "a\nb"])).toBe("1:13");
    expect(at(t, ["containers", "a\nb", "A"])).toBe("2:1");
    expect(at(t, ["containers", 'q"x'])).toBe("3:13");
  });

  test("arrays of tables get an index", () => {
    const t = "[[x]]\na = 1\n[[x]]\na = 2\n";
    expect(at(t, ["x", 0, "a"])).toBe("2:1");
    expect(at(t, ["x", 1, "a"])).toBe("4:1");
  });

  test("raw scalar text tells 1.0 from 1 and keeps big integers", () => {
    const idx = indexSource("a = 1.0\nb = 99999999999999999999 # c\nc = [1, 0x10]\nd = 1979-05-27 07:32:00Z\n");
    expect(idx.raw(["a"])).toBe("1.0");
    expect(idx.raw(["b"])).toBe("99999999999999999999");
    expect(idx.raw(["c", 1])).toBe("0x10");
    expect(idx.raw(["d"])).toBe("1979-05-27 07:32:00Z");
  });

  test("CRLF line ends and columns in characters", () => {
    const t = 'a = "😀"\r\nb = 1\r\nc = { "😀" = 1, x = 2 }\r\n';
    expect(at(t, ["b"])).toBe("2:1");
    expect(at(t, ["c", "x"])).toBe("3:16");
  });

  test("deep nesting is scanned without recursion", () => {
    const depth = 200_000;
    const t = `a = ${"[".repeat(depth)}${"]".repeat(depth)}\nb = 1\n`;
    expect(at(t, ["b"])).toBe("2:1");
  });

  test("garbage never hangs the scanner", () => {
    for (const t of ["[", "[[", "a", "a =", '"', "'''", "a = [", "a = {", "= = =", "[a.]\n]]", "\\", "a = [1,,]"]) {
      expect(() => indexSource(t).find(["a"])).not.toThrow();
    }
  });
});

describe("positionOf", () => {
  test("lines and columns are 1-based; surrogate pairs count once", () => {
    expect(positionOf("abc", 0)).toEqual({ line: 1, column: 1 });
    expect(positionOf("a\nbc", 3)).toEqual({ line: 2, column: 2 });
    expect(positionOf("😀x", 2)).toEqual({ line: 1, column: 2 });
    expect(positionOf("ab", 99)).toEqual({ line: 1, column: 3 });
  });
});
