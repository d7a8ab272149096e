/**
 * The reading half of the D-Bus wire format (marshal.ts writes): values by
 * signature, per the specification's "Message Protocol". Pure.
 */
import { Buffer } from "node:buffer";
import { ALIGN, parseSignature, typeSignature, type Type } from "./marshal.ts";

/** Reads one value of a type at the reader's position; made once per type (see `compile`). */
type ReadFn = (r: Reader, depth: number) => unknown;

/**
 * Reads marshalled values from a buffer. Each type is turned once into a reading
 * function (cached by signature), so a long array runs the same small functions
 * again and again instead of dispatching on type codes per value: a command
 * decodes its few large replies (4,000 units in one ListUnitsByPatterns) before
 * the engine has compiled anything, where dispatch costs most.
 */
export class Reader {
  private readonly view: DataView;
  /** The buffer as a Buffer, whose toString decodes a short string several times faster than a TextDecoder call. */
  private readonly bytes: Buffer;
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    readonly little = true,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = pos;
  }

  /** The text of the UTF-8 bytes [start, end) (an invalid sequence becomes U+FFFD). */
  text(start: number, end: number): string {
    return this.bytes.toString("utf8", start, end);
  }

  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error("D-Bus message is truncated");
  }

  align(n: number): void {
    const rest = this.pos % n;
    if (rest !== 0) this.pos += n - rest;
  }

  uint32(): number {
    const p = this.pos;
    if (p % 4 !== 0) {
      this.align(4);
      return this.uint32();
    }
    if (p + 4 > this.buf.length) throw new Error("D-Bus message is truncated");
    const b = this.buf;
    this.pos = p + 4;
    return this.little ? (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000 : b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  /** A string-like value (s, o) of `n` bytes at the position, then its NUL. */
  string(n: number): string {
    this.need(n + 1);
    const s = this.text(this.pos, this.pos + n);
    this.pos += n + 1;
    return s;
  }

  /** Steps over a string-like value (s, o). */
  skipString(): void {
    const n = this.uint32();
    this.need(n + 1);
    this.pos += n + 1;
  }

  values(sig: string): unknown[] {
    return parseSignature(sig).map((t) => this.value(t));
  }

  value(t: Type, depth = 0): unknown {
    return reader(t)(this, depth);
  }

  /** The DataView of the buffer, for fixed-size numbers. */
  get data(): DataView {
    return this.view;
  }
}

const readers = new Map<string, ReadFn>();

/** The reading function of a type, made on first use. */
function reader(t: Type): ReadFn {
  const sig = typeSignature(t);
  let fn = readers.get(sig);
  if (!fn) {
    fn = compile(t);
    readers.set(sig, fn);
  }
  return fn;
}

function fixed(size: number, get: (v: DataView, pos: number, little: boolean) => number | bigint): ReadFn {
  return (r) => {
    r.align(size);
    r.need(size);
    const v = get(r.data, r.pos, r.little);
    r.pos += size;
    return v;
  };
}

function compile(t: Type): ReadFn {
  switch (t.code) {
    case "y":
      return (r) => {
        r.need(1);
        return r.buf[r.pos++]!;
      };
    case "b":
      return (r) => r.uint32() !== 0;
    case "n":
      return fixed(2, (v, p, l) => v.getInt16(p, l));
    case "q":
      return fixed(2, (v, p, l) => v.getUint16(p, l));
    case "i":
      return fixed(4, (v, p, l) => v.getInt32(p, l));
    case "h":
    case "u":
      return (r) => r.uint32();
    case "x":
      return fixed(8, (v, p, l) => v.getBigInt64(p, l));
    case "t":
      return fixed(8, (v, p, l) => v.getBigUint64(p, l));
    case "d":
      return fixed(8, (v, p, l) => v.getFloat64(p, l));
    case "s":
    case "o":
      return (r) => r.string(r.uint32());
    case "g":
      return (r) => {
        r.need(1);
        return r.string(r.buf[r.pos++]!);
      };
    case "v":
      return (r, depth) => {
        if (depth > 64) throw new Error("D-Bus value nests too deeply");
        r.need(1);
        const sig = r.string(r.buf[r.pos++]!);
        const inner = parseSignature(sig);
        if (inner.length !== 1) throw new Error(`variant signature '${sig}' is not one complete type`);
        return reader(inner[0]!)(r, depth + 1);
      };
    case "(":
    case "{": {
      const fields = t.children.map(reader);
      const n = fields.length;
      return (r, depth) => {
        if (depth > 64) throw new Error("D-Bus value nests too deeply");
        r.align(8);
        const out = new Array(n);
        for (let i = 0; i < n; i++) out[i] = fields[i]!(r, depth + 1);
        return out;
      };
    }
    case "a":
      return compileArray(t.children[0]!);
  }
  throw new Error(`cannot read type '${t.code}'`);
}

function compileArray(el: Type): ReadFn {
  const align = ALIGN[el.code]!;
  if (el.code === "y") {
    return (r) => {
      const n = r.uint32();
      r.need(n);
      const b = r.buf.slice(r.pos, r.pos + n);
      r.pos += n;
      return b;
    };
  }
  const item = reader(el);
  const dict = el.code === "{";
  return (r, depth) => {
    if (depth > 64) throw new Error("D-Bus value nests too deeply");
    const n = r.uint32();
    r.align(align);
    const end = r.pos + n;
    r.need(n);
    if (dict) {
      const out: Record<string, unknown> = {};
      while (r.pos < end) {
        const [k, v] = item(r, depth + 1) as [unknown, unknown];
        out[String(k)] = v;
      }
      return out;
    }
    const out: unknown[] = [];
    while (r.pos < end) out.push(item(r, depth + 1));
    return out;
  };
}
