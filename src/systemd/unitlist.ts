/**
 * The rows of systemd's ListUnits and ListUnitsByPatterns, `a(ssssssouso)`, read
 * straight from the reply's bytes by one loop, and only the fields podunit uses
 * made into strings. With 1,000 pods, `list` reads 4,000 rows (40,000 strings
 * when read generically) once, in a process whose code has not been compiled
 * yet; there a call per value costs more than the value. Measured on the
 * 4,000-row reply: see docs/benchmarks.md, "1000 pods".
 */
import type { Reader } from "./dbus/unmarshal.ts";
import type { BodyReader } from "./dbus/message.ts";

/** One loaded unit, as ListUnitsByPatterns reports it. */
export interface UnitListEntry {
  name: string;
  loadState: string;
  activeState: string;
  subState: string;
  /** The unit's object path. */
  path: string;
}

/** Reads the reply's one value, the array of rows, into entries. */
export const unitListReader: BodyReader = {
  signature: "a(ssssssouso)",
  read: (r) => [readUnitRows(r)],
};

/** Field numbers of a row, in the order systemd sends them. */
const NAME = 0, LOAD = 2, ACTIVE = 3, SUB = 4, PATH = 6, JOB_ID = 7;
const FIELDS = 10;

function readUnitRows(r: Reader): UnitListEntry[] {
  const b = r.buf;
  const little = r.little;
  const u32 = (p: number) =>
    little ? (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000 : b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  const truncated = () => new Error("D-Bus message is truncated");
  let p = (r.pos + 3) & ~3;
  if (p + 4 > b.length) throw truncated();
  const bytes = u32(p);
  p = (p + 4 + 7) & ~7;
  const end = p + bytes;
  if (end > b.length) throw truncated();
  const at = new Array<number>(FIELDS);
  const len = new Array<number>(FIELDS);
  const rows: UnitListEntry[] = [];
  while (p < end) {
    p = (p + 7) & ~7;
    for (let f = 0; f < FIELDS; f++) {
      p = (p + 3) & ~3;
      if (p + 4 > end) throw truncated();
      const n = u32(p);
      p += 4;
      if (f === JOB_ID) continue;
      at[f] = p;
      len[f] = n;
      p += n + 1;
      if (p > end) throw truncated();
    }
    const s = (f: number) => r.text(at[f]!, at[f]! + len[f]!);
    rows.push({ name: s(NAME), loadState: s(LOAD), activeState: s(ACTIVE), subState: s(SUB), path: s(PATH) });
  }
  if (p !== end) throw new Error("D-Bus array ends inside an element");
  r.pos = end;
  return rows;
}
