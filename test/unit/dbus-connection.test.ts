/**
 * The connection's framing: replies that arrive in many small pieces, and several
 * messages in one piece, reach the right callers whole. The peer is a Unix socket
 * in this test that answers the handshake and each call; what systemd answers is
 * tested against systemd in the system tests.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BusConnection } from "../../src/systemd/dbus/connection.ts";
import { decodeMessage, encodeMessage, messageLength, MessageType, type Message } from "../../src/systemd/dbus/message.ts";
import { type UnitListEntry, unitListReader } from "../../src/systemd/unitlist.ts";

const dir = mkdtempSync(join(tmpdir(), "podunit-dbus-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rows = (n: number) =>
  Array.from({ length: n }, (_, i) => [`podunit-p${i}-a.service`, "a member", "loaded", "active", "running", "", `/org/freedesktop/systemd1/unit/p${i}`, 0, "", "/"]);

/** A peer that answers Hello, then each call by `answer`, writing every reply `chunk` bytes at a time (all at once when 0). */
function peer(name: string, chunk: number, answer: (m: Message) => Omit<Message, "serial" | "replySerial" | "flags">) {
  let inbox = new Uint8Array(0);
  let begun = false;
  let serial = 100;
  const path = join(dir, name);
  const queue: Uint8Array[] = [];
  // One piece per write; what the socket does not take now goes out when it drains.
  const flush = (s: { write(b: Uint8Array): number }) => {
    while (queue.length) {
      const n = s.write(queue[0]!);
      if (n < queue[0]!.length) {
        queue[0] = queue[0]!.subarray(Math.max(n, 0));
        return;
      }
      queue.shift();
    }
  };
  const server = Bun.listen({
    unix: path,
    socket: {
      data(s, data) {
        const joined = new Uint8Array(inbox.length + data.length);
        joined.set(inbox);
        joined.set(data, inbox.length);
        inbox = joined;
        if (!begun) {
          const text = new TextDecoder().decode(inbox);
          const at = text.indexOf("BEGIN\r\n");
          if (at < 0) return;
          inbox = inbox.slice(at + "BEGIN\r\n".length);
          begun = true;
          s.write("OK 0123456789abcdef\r\n");
        }
        const out: Uint8Array[] = [];
        for (let n = messageLength(inbox); n !== undefined; n = messageLength(inbox)) {
          const m = decodeMessage(inbox.subarray(0, n));
          inbox = inbox.slice(n);
          const reply = m.member === "Hello" ? { type: MessageType.METHOD_RETURN, signature: "s", body: [":1.7"] } : answer(m);
          out.push(encodeMessage({ ...reply, flags: 0, serial: serial++, replySerial: m.serial }));
        }
        const all = new Uint8Array(out.reduce((a, b) => a + b.length, 0));
        let at = 0;
        for (const b of out) {
          all.set(b, at);
          at += b.length;
        }
        for (let i = 0; i < all.length; i += chunk || all.length) queue.push(all.subarray(i, i + (chunk || all.length)));
        flush(s);
      },
      drain: (s) => flush(s),
    },
  });
  return { address: `unix:path=${path}`, stop: () => server.stop(true) };
}

const call = (c: BusConnection, member: string) => ({ destination: "x.y", path: "/x", interface: "x.y", member });

describe("the connection's framing", () => {
  test("a reply of 4,000 rows in 512-byte pieces arrives whole, read by the caller's row reader", async () => {
    const p = peer("chunks", 512, () => ({ type: MessageType.METHOD_RETURN, signature: "a(ssssssouso)", body: [rows(4000)] }));
    const c = await BusConnection.open(p.address, 5000);
    try {
      const [entries] = (await c.call(call(c, "List"), unitListReader)) as [UnitListEntry[]];
      expect(entries.length).toBe(4000);
      expect(entries[3999]).toEqual({ name: "podunit-p3999-a.service", loadState: "loaded", activeState: "active", subState: "running", path: "/org/freedesktop/systemd1/unit/p3999" });
    } finally {
      c.close();
      p.stop();
    }
  });

  test("replies that come in one piece reach their own callers; a reply of another shape than asked for is an error for that call alone", async () => {
    const p = peer("burst", 0, (m) =>
      m.member === "Odd"
        ? { type: MessageType.METHOD_RETURN, signature: "s", body: ["not rows"] }
        : { type: MessageType.METHOD_RETURN, signature: "s", body: [m.member!] },
    );
    const c = await BusConnection.open(p.address, 5000);
    try {
      const [a, b, odd, d] = await Promise.allSettled([
        c.call(call(c, "A")),
        c.call(call(c, "B")),
        c.call(call(c, "Odd"), unitListReader),
        c.call(call(c, "D")),
      ]);
      expect(a).toEqual({ status: "fulfilled", value: ["A"] });
      expect(b).toEqual({ status: "fulfilled", value: ["B"] });
      expect(d).toEqual({ status: "fulfilled", value: ["D"] });
      expect(odd.status).toBe("rejected");
      expect(String((odd as PromiseRejectedResult).reason)).toContain("signature is 's'");
    } finally {
      c.close();
      p.stop();
    }
  });
});
