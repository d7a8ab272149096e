import { expect, test } from "bun:test";
import { journalDatagram, kmsgLine, Priority } from "../../src/host/syslog.ts";

test("journald's native form: KEY=value lines; a value with a line break length-prefixed", () => {
  const d = Buffer.from(journalDatagram({ MESSAGE: "a: b", PRIORITY: "3", X: "one\ntwo" }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(7n);
  expect(d).toEqual(Buffer.concat([Buffer.from("MESSAGE=a: b\nPRIORITY=3\nX\n"), len, Buffer.from("one\ntwo\n")]));
});

test("kernel log lines: user facility and priority, identifier[pid], one line, bounded", () => {
  expect(kmsgLine("podunit-generator", 42, Priority.ERR, "f.toml: bad\nworse")).toBe("<11>podunit-generator[42]: f.toml: bad worse\n");
  expect(kmsgLine("x", 1, Priority.INFO, "y".repeat(5000)).length).toBeLessThanOrEqual(901);
});
