/**
 * What `podunit list` does with systemd's answer, alone and cold (as in a fresh
 * podunit process): a ListUnitsByPatterns reply of PODS pods (4 units each) read
 * by the row reader, then grouped into pods' states. Prints the CPU time of each
 * part; run it several times (each run is one cold process).
 *
 *   bun build --compile --bytecode --outfile /tmp/list-decode bench/list-decode.ts && /tmp/list-decode 1000
 */
import { decodeHeader, decodeBody, encodeMessage, MessageType } from "../src/systemd/dbus/message.ts";
import { unitListReader } from "../src/systemd/unitlist.ts";
import { podSummaries } from "../src/status/status.ts";
import type { Systemd, UnitListEntry } from "../src/systemd/bus.ts";

const pods = Number(process.argv[2] ?? 1000);
const rows: unknown[][] = [];
const path = (u: string) => `/org/freedesktop/systemd1/unit/${u.replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)}`;
for (let i = 1; i <= pods; i++) {
  for (const [u, d, sub] of [[`podunit-s${i}.slice`, `Pod s${i}`, "active"], [`podunit-s${i}-sandbox.service`, `Pod s${i}: sandbox`, "running"], [`podunit-s${i}-a.service`, `Pod s${i}: member a`, "running"], [`podunit-s${i}-b.service`, `Pod s${i}: member b`, "running"]]) {
    rows.push([u, d, "loaded", "active", sub, "", path(u!), 0, "", "/"]);
  }
}
const bytes = encodeMessage({ type: MessageType.METHOD_RETURN, flags: 0, serial: 9, replySerial: 4, signature: "a(ssssssouso)", body: [rows] });
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
/** The measured part, in a function: a compiled binary with bytecode takes no top-level await. */
async function measure(): Promise<void> {
const c0 = cpu();
const t0 = Bun.nanoseconds();
const { message, reader } = decodeHeader(bytes);
decodeBody(message, reader, unitListReader);
const c1 = cpu();
const t1 = Bun.nanoseconds();
const entries = message.body[0] as UnitListEntry[];
const sd = { listUnits: async () => entries } as unknown as Systemd;
const summaries = await podSummaries(sd);
const c2 = cpu();
const t2 = Bun.nanoseconds();
console.log(`${entries.length} units, ${summaries.length} pods: read ${(c1 - c0).toFixed(1)} ms CPU (${((t1 - t0) / 1e6).toFixed(1)} wall), grouped ${(c2 - c1).toFixed(1)} ms CPU (${((t2 - t1) / 1e6).toFixed(1)} wall)`);
}

void measure();
