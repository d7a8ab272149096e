import { describe, expect, test } from "bun:test";
import {
  escapeUnitName,
  memberUnitName,
  podSliceCgroup,
  podSliceName,
  podTargetName,
  sandboxUnitName,
  unescapeUnitName,
  unitCgroup,
} from "../../src/systemd/unitname.ts";

describe("escapeUnitName (systemd's unit_name_escape)", () => {
  const cases: Array<[string, string]> = [
    ["", ""],
    ["web", "web"],
    ["my-web", "my\\x2dweb"],
    ["a/b", "a-b"],
    ["/", "-"],
    [".foo", "\\x2efoo"],
    ["foo.bar", "foo.bar"],
    ["a_b:c", "a_b:c"],
    ["a b", "a\\x20b"],
    ["a\\b", "a\\x5cb"],
    ["ab+-c.a/bc@foo.service", "ab\\x2b\\x2dc.a-bc\\x40foo.service"],
    ["föö", "f\\xc3\\xb6\\xc3\\xb6"],
    ["UPPER9", "UPPER9"],
  ];
  for (const [input, want] of cases) {
    test(`'${input}' → '${want}'`, () => {
      expect(escapeUnitName(input)).toBe(want);
    });
  }
  test("unescape reverses escape (for names without '/')", () => {
    for (const s of ["my-web", ".foo", "a b", "föö", "x\\y"]) expect(unescapeUnitName(escapeUnitName(s))).toBe(s);
  });
});

describe("pod unit names", () => {
  test("slice, sandbox, member, target", () => {
    expect(podSliceName("web")).toBe("podunit-web.slice");
    expect(podSliceName("my-web")).toBe("podunit-my\\x2dweb.slice");
    expect(sandboxUnitName("my-web")).toBe("podunit-my\\x2dweb-sandbox.service");
    expect(memberUnitName("web", "db")).toBe("podunit-web-db.service");
    expect(memberUnitName("my-web", "db-1")).toBe("podunit-my\\x2dweb-db\\x2d1.service");
    expect(podTargetName("my-web")).toBe("podunit-my\\x2dweb.target");
  });
  test("names of different pods never collide", () => {
    expect(memberUnitName("a", "b-c")).not.toBe(memberUnitName("a-b", "c"));
  });
  test("cgroup paths nest the pod slice below podunit.slice", () => {
    expect(podSliceCgroup("web")).toBe("/podunit.slice/podunit-web.slice");
    expect(unitCgroup("my-web", memberUnitName("my-web", "app"))).toBe(
      "/podunit.slice/podunit-my\\x2dweb.slice/podunit-my\\x2dweb-app.service",
    );
  });
});
