/** Journal records (journalctl -o json) → podunit's log lines, for people and as JSON. */
import { describe, expect, test } from "bun:test";
import {
  escapeControls,
  fieldText,
  formatLogEntry,
  isoTime,
  localTime,
  logEntryJson,
  toLogEntry,
  type JournalRecord,
  type LogEntry,
} from "../../src/status/logentry.ts";

/** 2026-11-27T19:19:42.495217Z */
const T = 1795807182495217n;

const units = new Map([
  ["podunit-web-app.service", "app"],
  ["podunit-web-sandbox.service", "sandbox"],
]);
const byUnit = (u: string) => units.get(u);

function memberRecord(extra: JournalRecord = {}): JournalRecord {
  return {
    __REALTIME_TIMESTAMP: String(T),
    __CURSOR: "s=1;i=2",
    MESSAGE: "listening on :80",
    PRIORITY: "6",
    _PID: "486",
    PODUNIT_POD: "web",
    PODUNIT_MEMBER: "app",
    SYSLOG_IDENTIFIER: "web/app",
    _SYSTEMD_UNIT: "podunit-web-app.service",
    ...extra,
  };
}

describe("field values", () => {
  test("text, bytes, several values, null", () => {
    expect(fieldText("plain")).toBe("plain");
    expect(fieldText([104, 105])).toBe("hi");
    // Bytes that are not UTF-8 become U+FFFD; the valid ones around them stay.
    expect(fieldText([98, 97, 100, 32, 255, 254, 32, 98])).toBe("bad \uFFFD\uFFFD b");
    // UTF-8 split over bytes is decoded whole.
    expect(fieldText([0xc3, 0xa9])).toBe("é");
    expect(fieldText(["first", "second"])).toBe("first");
    expect(fieldText([[104, 105], "x"])).toBe("hi");
    expect(fieldText(null)).toBeUndefined();
    expect(fieldText(undefined)).toBeUndefined();
    expect(fieldText([])).toBe("");
  });
});

describe("records to entries", () => {
  test("a member's line", () => {
    const e = toLogEntry(memberRecord(), "web", byUnit)!;
    expect(e).toEqual({
      usec: T,
      pod: "web",
      member: "app",
      message: "listening on :80",
      priority: 6,
      pid: 486,
      unit: "podunit-web-app.service",
      source: "member",
    });
  });

  test("systemd's own line about a member's unit is attributed to that member", () => {
    const e = toLogEntry(
      { __REALTIME_TIMESTAMP: String(T), MESSAGE: "podunit-web-app.service: Main process exited, code=exited, status=1/FAILURE",
        PRIORITY: "5", _PID: "1", UNIT: "podunit-web-app.service", _SYSTEMD_UNIT: "init.scope" },
      "web",
      byUnit,
    )!;
    expect(e.member).toBe("app");
    expect(e.source).toBe("systemd");
    expect(e.unit).toBe("podunit-web-app.service");
    expect(e.priority).toBe(5);
    expect(e.pid).toBe(1);
  });

  test("a sandbox line written before the sandbox carried PODUNIT_MEMBER: known by its identifier", () => {
    const r = memberRecord({ PODUNIT_MEMBER: null, SYSLOG_IDENTIFIER: "web/sandbox", _SYSTEMD_UNIT: "podunit-web-sandbox.service" });
    delete r.PODUNIT_MEMBER;
    expect(toLogEntry(r, "web", byUnit)!.member).toBe("sandbox");
  });

  test("without an identifier, the unit tells the member; an unknown unit gives '-'", () => {
    const r = memberRecord({ SYSLOG_IDENTIFIER: "sh", _SYSTEMD_UNIT: "podunit-web-sandbox.service" });
    delete r.PODUNIT_MEMBER;
    expect(toLogEntry(r, "web", byUnit)!.member).toBe("sandbox");
    expect(toLogEntry({ ...r, _SYSTEMD_UNIT: "other.service" }, "web", byUnit)!.member).toBe("-");
  });

  test("a message stored as bytes (not UTF-8, or with control characters) is decoded", () => {
    const e = toLogEntry(memberRecord({ MESSAGE: [27, 91, 51, 50, 109, 111, 107, 27, 91, 48, 109] }), "web", byUnit)!;
    expect(e.message).toBe("\x1b[32mok\x1b[0m");
  });

  test("missing fields: no message is empty, no priority is info, no PID is undefined", () => {
    const e = toLogEntry({ __REALTIME_TIMESTAMP: String(T), PODUNIT_POD: "web", PODUNIT_MEMBER: "app" }, "web", byUnit)!;
    expect(e.message).toBe("");
    expect(e.priority).toBe(6);
    expect(e.pid).toBeUndefined();
  });

  test("a record without a timestamp is not an entry", () => {
    const r = memberRecord();
    delete r.__REALTIME_TIMESTAMP;
    expect(toLogEntry(r, "web", byUnit)).toBeUndefined();
    expect(toLogEntry(memberRecord({ __REALTIME_TIMESTAMP: "soon" }), "web", byUnit)).toBeUndefined();
  });
});

describe("times", () => {
  test("local time from the zone's offset", () => {
    expect(localTime(T, 0)).toBe("2026-11-27 19:19:42");
    expect(localTime(T, 60)).toBe("2026-11-27 20:19:42");
    expect(localTime(T, -330)).toBe("2026-11-27 13:49:42");
    expect(localTime(T, 300)).toBe("2026-11-28 00:19:42");
  });

  test("ISO 8601 in UTC with microseconds", () => {
    expect(isoTime(T)).toBe("2026-11-27T19:19:42.495217Z");
    expect(isoTime(1795807182000007n)).toBe("2026-11-27T19:19:42.000007Z");
    expect(new Date(isoTime(T)).getTime()).toBe(Number(T / 1000n));
  });
});

describe("lines for people", () => {
  const entry = (over: Partial<LogEntry> = {}): LogEntry => ({
    usec: T, pod: "web", member: "db", message: "ready", priority: 6, pid: 7, unit: "podunit-web-db.service", source: "member", ...over,
  });

  test("time, member padded to the widest member, message", () => {
    expect(formatLogEntry(entry(), 7, 0)).toBe("2026-11-27 19:19:42 db       ready\n");
    expect(formatLogEntry(entry({ member: "sandbox" }), 7, 0)).toBe("2026-11-27 19:19:42 sandbox  ready\n");
  });

  test("a name longer than the width is not cut", () => {
    expect(formatLogEntry(entry({ member: "migrations" }), 3, 0)).toBe("2026-11-27 19:19:42 migrations  ready\n");
  });

  test("systemd's lines say so", () => {
    expect(formatLogEntry(entry({ source: "systemd", message: "Started x." }), 2, 0)).toBe("2026-11-27 19:19:42 db  systemd: Started x.\n");
  });

  test("a multi-line message: further lines indented under the first; a final newline is not doubled", () => {
    const text = formatLogEntry(entry({ message: "Traceback:\n  File \"x\"\r\nError\n" }), 2, 0);
    expect(text).toBe(
      "2026-11-27 19:19:42 db  Traceback:\n" +
        "                          File \"x\"\n" +
        "                        Error\n",
    );
  });

  test("control characters are made visible; tabs stay", () => {
    expect(escapeControls("\x1b[31mred\x1b[0m")).toBe("\\x1b[31mred\\x1b[0m");
    expect(escapeControls("a\tb\rc\x7fd\u009be")).toBe("a\tb\\x0dc\\x7fd\\u009be");
    expect(formatLogEntry(entry({ message: "\x07bell" }), 2, 0)).toBe("2026-11-27 19:19:42 db  \\x07bell\n");
  });

  test("an empty message still gives a line", () => {
    expect(formatLogEntry(entry({ message: "" }), 2, 0)).toBe("2026-11-27 19:19:42 db  \n");
  });
});

describe("JSON lines", () => {
  test("the documented keys, message verbatim", () => {
    const e = toLogEntry(memberRecord({ MESSAGE: "a\nb \x1b" }), "web", byUnit)!;
    const line = logEntryJson(e);
    expect(line).not.toContain("\n");
    expect(JSON.parse(line)).toEqual({
      time: "2026-11-27T19:19:42.495217Z",
      pod: "web",
      member: "app",
      message: "a\nb \x1b",
      priority: 6,
      pid: 486,
      unit: "podunit-web-app.service",
      source: "member",
    });
  });

  test("no PID or unit: null", () => {
    const e = toLogEntry({ __REALTIME_TIMESTAMP: String(T), PODUNIT_POD: "web", PODUNIT_MEMBER: "app" }, "web", byUnit)!;
    const j = JSON.parse(logEntryJson(e));
    expect(j.pid).toBeNull();
    expect(j.unit).toBeNull();
  });
});
