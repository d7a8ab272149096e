/**
 * The D-Bus wire format for the types podunit uses: marshalling of values by
 * signature (unmarshal.ts reads them back), per the D-Bus specification
 * ("Message Protocol"). Pure.
 *
 * JavaScript shapes: y n q i u → number; x t → bigint; b → boolean; d → number;
 * s o g → string; ay → Uint8Array; other arrays → arrays; a{..} → a plain object
 * (keys as strings) when read, an object or [key, value] pairs when written;
 * structs → arrays; v → a Variant when written, its plain value when read.
 */

/** A value with its own signature, for `v`. */
export class Variant {
  constructor(
    readonly signature: string,
    readonly value: unknown,
  ) {}
}

/** One complete type of a signature. */
export interface Type {
  code: string;
  /** Element type of `a`, field types of `(`, key and value of `{`. */
  children: Type[];
}

const BASIC = "ybnqiuxtdsogh";
export const ALIGN: Record<string, number> = { y: 1, b: 4, n: 2, q: 2, i: 4, u: 4, x: 8, t: 8, d: 8, h: 4, s: 4, o: 4, g: 1, a: 4, "(": 8, "{": 8, v: 1 };

/** Parses a signature into its complete types; throws on a malformed one. */
export function parseSignature(sig: string): Type[] {
  let i = 0;
  const one = (depth: number): Type => {
    if (depth > 64) throw new Error(`signature '${sig}' nests too deeply`);
    const c = sig[i++];
    if (c === undefined) throw new Error(`signature '${sig}' ends early`);
    if (BASIC.includes(c) || c === "v") return { code: c, children: [] };
    if (c === "a") return { code: "a", children: [one(depth + 1)] };
    if (c === "(" || c === "{") {
      const close = c === "(" ? ")" : "}";
      const children: Type[] = [];
      while (sig[i] !== close) {
        if (i >= sig.length) throw new Error(`signature '${sig}' misses '${close}'`);
        children.push(one(depth + 1));
      }
      i++;
      if (c === "{" && (children.length !== 2 || !BASIC.includes(children[0]!.code))) throw new Error(`bad dict entry in '${sig}'`);
      return { code: c, children };
    }
    throw new Error(`unknown type code '${c}' in signature '${sig}'`);
  };
  const out: Type[] = [];
  while (i < sig.length) out.push(one(0));
  return out;
}

/** The signature text of a type. */
export function typeSignature(t: Type): string {
  if (t.code === "a") return "a" + typeSignature(t.children[0]!);
  if (t.code === "(") return "(" + t.children.map(typeSignature).join("") + ")";
  if (t.code === "{") return "{" + t.children.map(typeSignature).join("") + "}";
  return t.code;
}

const utf8 = new TextEncoder();

/** Appends marshalled values to a growing little-endian buffer. */
export class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  align(n: number): void {
    const pad = (n - (this.pos % n)) % n;
    this.room(pad);
    this.buf.fill(0, this.pos, this.pos + pad);
    this.pos += pad;
  }

  byte(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  uint32(v: number): void {
    this.align(4);
    this.room(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  /** Overwrites a uint32 written earlier (array lengths). */
  patchUint32(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Writes a sequence of values by signature. */
  values(sig: string | Type[], vals: readonly unknown[]): void {
    const types = typeof sig === "string" ? parseSignature(sig) : sig;
    if (types.length !== vals.length) throw new Error(`signature has ${types.length} types, ${vals.length} values given`);
    types.forEach((t, k) => this.value(t, vals[k]));
  }

  value(t: Type, v: unknown): void {
    const w = this;
    switch (t.code) {
      case "y":
        w.byte(num(v, t) & 0xff);
        return;
      case "b":
        w.uint32(v ? 1 : 0);
        return;
      case "n":
      case "q":
        w.align(2);
        w.room(2);
        t.code === "n" ? w.view.setInt16(w.pos, num(v, t), true) : w.view.setUint16(w.pos, num(v, t), true);
        w.pos += 2;
        return;
      case "i":
      case "h":
      case "u":
        w.align(4);
        w.room(4);
        t.code === "i" ? w.view.setInt32(w.pos, num(v, t), true) : w.view.setUint32(w.pos, num(v, t), true);
        w.pos += 4;
        return;
      case "x":
      case "t":
        w.align(8);
        w.room(8);
        t.code === "x" ? w.view.setBigInt64(w.pos, big(v, t), true) : w.view.setBigUint64(w.pos, big(v, t), true);
        w.pos += 8;
        return;
      case "d":
        w.align(8);
        w.room(8);
        w.view.setFloat64(w.pos, num(v, t), true);
        w.pos += 8;
        return;
      case "s":
      case "o": {
        const b = utf8.encode(str(v, t));
        w.uint32(b.length);
        w.bytes(b);
        w.byte(0);
        return;
      }
      case "g": {
        const b = utf8.encode(str(v, t));
        w.byte(b.length);
        w.bytes(b);
        w.byte(0);
        return;
      }
      case "v": {
        if (!(v instanceof Variant)) throw new TypeError("expected a Variant for 'v'");
        const inner = parseSignature(v.signature);
        if (inner.length !== 1) throw new Error(`variant signature '${v.signature}' is not one complete type`);
        w.value({ code: "g", children: [] }, v.signature);
        w.value(inner[0]!, v.value);
        return;
      }
      case "(":
      case "{": {
        if (!Array.isArray(v) || v.length !== t.children.length) throw new TypeError(`expected ${t.children.length} fields for '${typeSignature(t)}'`);
        w.align(8);
        t.children.forEach((c, k) => w.value(c, v[k]));
        return;
      }
      case "a": {
        const el = t.children[0]!;
        w.uint32(0);
        const lengthAt = w.pos - 4;
        w.align(ALIGN[el.code]!);
        const start = w.pos;
        if (el.code === "y") {
          if (!(v instanceof Uint8Array)) throw new TypeError("expected a Uint8Array for 'ay'");
          w.bytes(v);
        } else {
          const items = el.code === "{" && !Array.isArray(v) ? Object.entries(v as object) : v;
          if (!Array.isArray(items)) throw new TypeError(`expected an array for '${typeSignature(t)}'`);
          for (const item of items) w.value(el, item);
        }
        w.patchUint32(lengthAt, w.pos - start);
        return;
      }
    }
    throw new Error(`cannot write type '${t.code}'`);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

function num(v: unknown, t: Type): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  throw new TypeError(`expected a number for '${t.code}', found ${typeof v}`);
}
function big(v: unknown, t: Type): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  throw new TypeError(`expected a bigint for '${t.code}', found ${typeof v}`);
}
function str(v: unknown, t: Type): string {
  if (typeof v === "string") return v;
  throw new TypeError(`expected a string for '${t.code}', found ${typeof v}`);
}
