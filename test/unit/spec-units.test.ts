import { describe, expect, test } from "bun:test";
import { closest, editDistance, quote } from "../../src/podspec/describe.ts";
import {
  checkAbsolutePath,
  checkHostname,
  checkName,
  checkTargetName,
  durationFromSeconds,
  isEnvName,
  parseDuration,
  parsePercent,
  parseSize,
  parseUser,
  type Parsed,
} from "../../src/podspec/grammar.ts";

const value = <T>(r: Parsed<T>) => (r.ok ? r.value : undefined);
const message = <T>(r: Parsed<T>) => (r.ok ? undefined : r.message);

const K = 1024n;

describe("sizes", () => {
  test.each([
    ["1", 1n],
    ["1024", 1024n],
    ["512M", 512n * K * K],
    ["1G", K * K * K],
    ["1.5G", (3n * K * K * K) / 2n],
    ["2T", 2n * K ** 4n],
    ["4K", 4n * K],
    ["512Mi", 512n * K * K],
    ["512MiB", 512n * K * K],
    ["1.3K", 1331n], // 1331.2, rounded down
    ["0.5K", 512n],
    ["8388607T", 8388607n * K ** 4n],
  ])("%p is %p bytes", (s, bytes) => expect(value(parseSize(s))).toBe(bytes));

  test.each(["", "M", "1.", ".5M", "1.5", "-1M", "+1M", "1e3", "1 M", "512m", "512MB", "1KB", "12Q", "1P", "0x10", "1_000", " 1M", "1M ", "1iB"])(
    "%p is not a size",
    (s) => expect(parseSize(s).ok).toBe(false),
  );

  test("bounds: more than 0, less than 2^63", () => {
    expect(message(parseSize("0"))).toBe(`expected a size greater than 0, found "0"`);
    expect(message(parseSize("0.0001K"))).toBe(`expected a size greater than 0, found "0.0001K"`);
    expect(message(parseSize("8388608T"))).toBe(`expected a size below 8388608T (2^63 bytes), found "8388608T"`);
    expect(parseSize("9".repeat(100)).ok).toBe(false);
  });

  test("near misses get a suggestion", () => {
    expect(message(parseSize("512m"))).toBe(
      `expected a size such as "512M" or "1.5G", found "512m"; did you mean "512M"? (units are K, M, G, T, powers of 1024)`,
    );
    expect(message(parseSize("1 G"))).toContain(`did you mean "1G"?`);
    expect(message(parseSize("2GB"))).toContain(`did you mean "2G"?`);
    expect(message(parseSize("12Q"))).toBe(`expected a size such as "512M" or "1.5G", found "12Q"`);
  });
});

describe("percentages", () => {
  test.each([
    ["150%", 150],
    ["1%", 1],
    ["0.1%", 0.1],
    ["150.5%", 150.5],
    ["102400%", 102400],
    ["007%", 7],
  ])("%p is %p", (s, n) => expect(value(parsePercent(s))).toBe(n));

  test.each(["150", "%", "1.55%", "-5%", "1.%", "50 %", "0%", "0.0%", "102400.1%", "1e2%", ""])("%p is rejected", (s) =>
    expect(parsePercent(s).ok).toBe(false),
  );

  test("a missing percent sign is suggested", () => {
    expect(message(parsePercent("150"))).toContain(`did you mean "150%"?`);
  });
});

describe("durations", () => {
  const S = 1_000_000n;
  test.each([
    ["10", 10n * S],
    ["1.5", 1_500_000n],
    ["10s", 10n * S],
    ["500ms", 500_000n],
    ["250us", 250n],
    ["2h", 7200n * S],
    ["1min 30s", 90n * S],
    ["1m30s", 90n * S],
    ["1 min  30 s", 90n * S],
    ["5 minutes", 300n * S],
    ["1d 1h", 90000n * S],
    ["2 days", 172800n * S],
    ["1.5us", 1n],
    ["0", 0n],
    ["0s", 0n],
    ["365d", 365n * 86400n * S],
    ["5msec", 5000n],
    ["3sec", 3n * S],
    ["1hr", 3600n * S],
  ])("%p is %p µs", (s, usec) => expect(value(parseDuration(s))).toBe(usec));

  test.each(["", "s", "1m30", "10 secs", "5mins", "-5s", " 1s", "1s ", "1 30s", "1.s", "1e3s", "1y", "1M", "1w", "1min,30s"])(
    "%p is not a duration",
    (s) => expect(parseDuration(s).ok).toBe(false),
  );

  test("at most 365 days", () => {
    expect(message(parseDuration("366d"))).toBe(`expected a duration of at most "365d", found "366d"`);
    expect(message(parseDuration("8761h"))).toBe(`expected a duration of at most "365d", found "8761h"`);
    expect(parseDuration("1".repeat(65)).ok).toBe(false);
  });

  test("integers are seconds", () => {
    expect(value(durationFromSeconds(90))).toBe(90_000_000n);
    expect(durationFromSeconds(-1).ok).toBe(false);
    expect(durationFromSeconds(31_536_001).ok).toBe(false);
  });
});

describe("names", () => {
  test.each(["a", "web", "my-app", "a1", "1a", "0", "a".repeat(63), "x-y-z"])("%p is a name", (s) =>
    expect(checkName(s, "member").ok).toBe(true),
  );
  test.each(["", "-a", "a-", "A", "My_App", "a_b", "a.b", "a/b", "../x", "x\\x2dy", "a\nb", "a b", "é", "a".repeat(64)])(
    "%p is not a name",
    (s) => expect(checkName(s, "member").ok).toBe(false),
  );
  test("sandbox is reserved for members only", () => {
    expect(checkName("sandbox", "member").ok).toBe(false);
    expect(checkName("sandbox", "pod").ok).toBe(true);
  });
  test("upper case gets a suggestion", () => {
    expect(message(checkName("App", "pod"))).toContain(`did you mean "app"?`);
  });
  test("hostnames", () => {
    for (const h of ["web", "Web-1", "web.example.org", "a".repeat(63)]) expect(checkHostname(h).ok).toBe(true);
    for (const h of ["", "web_1", "-web", "web-", "a..b", ".a", "a.", "a".repeat(64), `${"a".repeat(32)}.${"b".repeat(32)}`]) {
      expect(checkHostname(h).ok).toBe(false);
    }
  });
});

describe("users", () => {
  test.each([
    ["0", { uid: 0 }],
    ["1000", { uid: 1000 }],
    ["1000:1000", { uid: 1000, gid: 1000 }],
    ["4294967294", { uid: 4294967294 }],
    ["www-data", { name: "www-data" }],
    ["_apt", { name: "_apt" }],
    ["postgres", { name: "postgres" }],
  ])("%p", (s, u) => expect(value(parseUser(s))).toEqual(u));

  test.each(["", "Root", "1000:", ":1000", "01000", "-1", "4294967295", "1000:4294967295", "www:www", "a b", "1a", "9".repeat(11), "a".repeat(33)])(
    "%p is not a user",
    (s) => expect(parseUser(s).ok).toBe(false),
  );
});

describe("environment names", () => {
  test.each(["A", "_", "LOG_LEVEL", "a1", "_x_"])("%p is a name", (s) => expect(isEnvName(s)).toBe(true));
  test.each(["", "1A", "A-B", "A B", "A=B", "é"])("%p is not", (s) => expect(isEnvName(s)).toBe(false));
});

describe("paths", () => {
  test.each(["/", "/var", "/var/lib/podunit/rootfs/app", "/a b", "/..a/b..", "/.hidden"])("%p is an absolute path", (s) =>
    expect(checkAbsolutePath(s, true).ok).toBe(true),
  );
  test.each(["", "var", "./var", "/var/", "/var//lib", "/var/./lib", "/var/../etc", "/..", "/a\nb", "/a\u0000b", "/" + "a".repeat(4095)])(
    "%p is not",
    (s) => expect(checkAbsolutePath(s, true).ok).toBe(false),
  );
  test("rootfs may not be /", () => expect(checkAbsolutePath("/", false).ok).toBe(false));
  test("a normalised form is suggested", () => {
    expect(message(checkAbsolutePath("/var//lib/./x/", true))).toContain(`did you mean "/var/lib/x"?`);
  });
});

describe("target names", () => {
  test.each(["multi-user.target", "default.target", "getty@tty1.target", "podunit\\x2dpods.target"])("%p", (s) =>
    expect(checkTargetName(s).ok).toBe(true),
  );
  test.each(["multi-user", "default.service", ".target", "a b.target", "x@.target", "a/b.target", "a".repeat(250) + ".target"])(
    "%p is not",
    (s) => expect(checkTargetName(s).ok).toBe(false),
  );
});

describe("message helpers", () => {
  test("quote escapes and shortens", () => {
    expect(quote("a\nb")).toBe(`"a\\nb"`);
    expect(quote("x".repeat(100))).toBe(`"${"x".repeat(60)}…" (100 characters)`);
  });
  test("edit distance counts a transposition once and gives up early", () => {
    expect(editDistance("memroy_max", "memory_max", 2)).toBe(1);
    expect(editDistance("comand", "command", 2)).toBe(1);
    expect(editDistance("abc", "xyz", 2)).toBe(3);
    expect(editDistance("a", "a".repeat(50), 2)).toBe(3);
  });
  test("closest is strict for short words", () => {
    expect(closest("mnt", ["net", "ipc", "uts", "pid"])).toBeUndefined();
    expect(closest("nett", ["net", "ipc"])).toBe("net");
    expect(closest("MEMORY_MAX", ["memory_max"])).toBe("memory_max");
    expect(closest("x".repeat(1000), ["memory_max"])).toBeUndefined();
  });
});
