import { describe, expect, test } from "bun:test";
import {
  escapeUnitName,
  isMemberPart,
  memberOfUnit,
  memberUnitName,
  podOfUnit,
  podUnitParts,
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

describe("a unit's pod and part, from its name alone (podUnitParts)", () => {
  const cases: Array<[string, { pod: string; rest: string | null } | null]> = [
    ["podunit-web.slice", { pod: "web", rest: null }],
    ["podunit-web-sandbox.service", { pod: "web", rest: "sandbox" }],
    ["podunit-web-app.service", { pod: "web", rest: "app" }],
    ["podunit-my\\x2dweb-my\\x2dapp.service", { pod: "my\\x2dweb", rest: "my\\x2dapp" }],
    ["podunit-web-health-check.service", { pod: "web", rest: "health-check" }],
    ["podunit-web-health-check.timer", null],
    ["podunit-web.target", null],
    ["podunit-web.slice.bak", null],
    ["podunit-web-.service", null],
    ["podunit-.slice", null],
    ["podunit--app.service", null],
    ["podunit.slice", null],
    ["podunitx-web.slice", null],
    ["other-web.slice", null],
  ];
  for (const [unit, want] of cases) test(unit, () => expect(podUnitParts(unit)).toEqual(want));

  test("agrees with the pattern it replaced, and with the unit names podunit makes", () => {
    const old = (unit: string) => /^podunit-([^-.]+)(?:\.slice|-.+\.service)$/.exec(unit)?.[1] ?? null;
    for (const [unit] of cases) expect(podUnitParts(unit)?.pod ?? null).toBe(old(unit));
    for (const pod of ["web", "my-web", "a1-b2-c3"]) {
      expect(podOfUnit(podSliceName(pod))).toBe(pod);
      expect(podOfUnit(sandboxUnitName(pod))).toBe(pod);
      const rest = podUnitParts(memberUnitName(pod, "my-app"))!.rest!;
      expect(isMemberPart(rest)).toBe(true);
      expect(unescapeUnitName(rest)).toBe("my-app");
      expect(isMemberPart(podUnitParts(sandboxUnitName(pod))!.rest!)).toBe(false);
      expect(memberOfUnit(pod, memberUnitName(pod, "my-app"))).toBe("my-app");
    }
  });
});

describe("escaping fast paths give what the byte-by-byte rule gives", () => {
  test("names with nothing to escape come back as they are, others are escaped", () => {
    for (const s of ["web", "a1", "x:y_z.w", "A.b"]) expect(escapeUnitName(s)).toBe(s);
    expect(escapeUnitName(".a")).toBe("\\x2ea");
    expect(escapeUnitName("a-b")).toBe("a\\x2db");
    for (const s of ["web", "a1", "x:y_z.w"]) expect(unescapeUnitName(s)).toBe(s);
    expect(unescapeUnitName("a\\x2db-c")).toBe("a-b/c");
  });
});
