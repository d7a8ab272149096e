import { describe, expect, test } from "bun:test";
import { Variant, Writer, parseSignature } from "../../src/systemd/dbus/marshal.ts";
import { Reader } from "../../src/systemd/dbus/unmarshal.ts";
import { decodeHeader, decodeMessage, encodeMessage, messageLength, MessageType } from "../../src/systemd/dbus/message.ts";
import { type UnitListEntry, unitListReader } from "../../src/systemd/unitlist.ts";
import { socketPath } from "../../src/systemd/dbus/connection.ts";

function roundTrip(sig: string, values: unknown[]): unknown[] {
  const w = new Writer();
  w.values(sig, values);
  return new Reader(w.result()).values(sig);
}

describe("marshalling", () => {
  test("basic types round-trip", () => {
    expect(roundTrip("ybnqiuxtds", [255, true, -2, 65535, -7, 4294967295, -(2n ** 63n), 2n ** 64n - 1n, 1.5, "hé"])).toEqual([
      255, true, -2, 65535, -7, 4294967295, -(2n ** 63n), 2n ** 64n - 1n, 1.5, "hé",
    ]);
  });

  test("a string is a length, UTF-8 bytes and a NUL; alignment pads with zeros", () => {
    const w = new Writer();
    w.values("yst", [1, "ab", 2n]);
    expect([...w.result()]).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 97, 98, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
  });

  test("array length excludes the padding before the first element", () => {
    const w = new Writer();
    w.values("at", [[1n]]);
    // length 8, then 4 bytes of padding to reach 8-byte alignment, then the element
    expect([...w.result()]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
  });

  test("StartTransientUnit's body round-trips, variants unwrapped on read", () => {
    const props = [
      ["Description", new Variant("s", "x")],
      ["MemoryMax", new Variant("t", 1n << 26n)],
      ["ExecStartEx", new Variant("a(sasas)", [["/bin/sleep", ["/bin/sleep", "1"], ["no-env-expand"]]])],
      ["LogExtraFields", new Variant("aay", [new TextEncoder().encode("A=b")])],
      ["SuccessExitStatus", new Variant("(aiai)", [[143], [15]])],
      ["PIDs", new Variant("au", [1, 2])],
    ];
    const [name, mode, got, aux] = roundTrip("ssa(sv)a(sa(sv))", ["u.service", "fail", props, []]);
    expect([name, mode, aux]).toEqual(["u.service", "fail", []]);
    expect(got).toEqual([
      ["Description", "x"],
      ["MemoryMax", 1n << 26n],
      ["ExecStartEx", [["/bin/sleep", ["/bin/sleep", "1"], ["no-env-expand"]]]],
      ["LogExtraFields", [new TextEncoder().encode("A=b")]],
      ["SuccessExitStatus", [[143], [15]]],
      ["PIDs", [1, 2]],
    ]);
  });

  test("dictionaries read as objects", () => {
    expect(roundTrip("a{sv}", [[["A", new Variant("u", 1)], ["B", new Variant("s", "b")]]])).toEqual([{ A: 1, B: "b" }]);
  });

  test("malformed signatures and wrong values are errors, not crashes", () => {
    expect(() => parseSignature("a")).toThrow();
    expect(() => parseSignature("(s")).toThrow();
    expect(() => parseSignature("{vs}")).toThrow();
    expect(() => roundTrip("s", [1])).toThrow("expected a string");
    expect(() => new Reader(new Uint8Array([9, 0, 0, 0])).values("s")).toThrow("truncated");
  });
});

describe("messages", () => {
  test("encode and decode a method call; its length is known from the header", () => {
    const bytes = encodeMessage({
      type: MessageType.METHOD_CALL, flags: 0, serial: 7, destination: "org.freedesktop.systemd1",
      path: "/org/freedesktop/systemd1", interface: "org.freedesktop.systemd1.Manager", member: "GetUnit",
      signature: "s", body: ["a.service"],
    });
    expect(messageLength(bytes.subarray(0, 10))).toBeUndefined();
    expect(messageLength(bytes)).toBe(bytes.length);
    const m = decodeMessage(bytes);
    expect(m).toMatchObject({ type: 1, serial: 7, member: "GetUnit", path: "/org/freedesktop/systemd1", signature: "s", body: ["a.service"] });
  });

  test("bus addresses", () => {
    expect(socketPath("unix:path=/run/dbus/system_bus_socket")).toBe("/run/dbus/system_bus_socket");
    expect(socketPath("tcp:host=x;unix:path=/a%20b")).toBe("/a b");
    expect(socketPath("unix:abstract=/x")).toBe("\0/x");
    expect(() => socketPath("tcp:host=localhost,port=1")).toThrow("no unix socket");
  });
});

describe("ListUnitsByPatterns' rows read straight from the reply", () => {
  const row = (name: string, description: string, active: string) =>
    [name, description, "loaded", active, active === "active" ? "running" : "dead", "", `/org/freedesktop/systemd1/unit/${name.replace(/[^a-z0-9]/g, "_")}`, 7, "start", "/org/freedesktop/systemd1/job/7"];
  const rows = [row("podunit-web.slice", "Slice ü", "active"), row("podunit-web-app.service", "Älles gut", "failed"), row("x.service", "", "inactive")];
  const reply = (body: unknown[][], signature = "a(ssssssouso)") =>
    encodeMessage({ type: MessageType.METHOD_RETURN, flags: 0, serial: 2, replySerial: 1, signature, body: [body] });

  test("the fields kept are those the generic reading gives", () => {
    const generic = decodeMessage(reply(rows)).body[0] as unknown[][];
    const [entries] = decodeMessage(reply(rows), unitListReader).body as [UnitListEntry[]];
    expect(entries).toEqual(generic.map((r) => ({ name: r[0], loadState: r[2], activeState: r[3], subState: r[4], path: r[6] }) as UnitListEntry));
    expect(entries.map((e) => e.activeState)).toEqual(["active", "failed", "inactive"]);
  });

  test("an empty list, and thousands of rows", () => {
    expect(decodeMessage(reply([]), unitListReader).body).toEqual([[]]);
    const many = Array.from({ length: 4000 }, (_, i) => row(`podunit-p${i}-a.service`, "a member", "active"));
    const [entries] = decodeMessage(reply(many), unitListReader).body as [UnitListEntry[]];
    expect(entries.length).toBe(4000);
    expect(entries[3999]!.name).toBe("podunit-p3999-a.service");
  });

  test("a truncated reply is an error, not a short list", () => {
    const bytes = reply(rows);
    const { message, reader } = decodeHeader(bytes.subarray(0, bytes.length - 20));
    expect(() => unitListReader.read(reader)).toThrow("truncated");
    expect(message.signature).toBe("a(ssssssouso)");
  });

  test("strings that are not ASCII read as before", () => {
    expect(roundTrip("sas", ["hé ü", ["Älles", "", "日本"]])).toEqual(["hé ü", ["Älles", "", "日本"]]);
  });
});
