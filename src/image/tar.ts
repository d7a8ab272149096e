/**
 * A tar reader: ustar and old-GNU headers, GNU long names (`L`) and long link
 * names (`K`), PAX extended (`x`) and global (`g`) headers with path, linkpath,
 * size, uid, gid, mtime and SCHILY.xattr.*; numbers in octal or GNU base-256.
 * Entries come one at a time with their contents as a stream of chunks.
 */
import type { ByteSource } from "./reader.ts";

export type EntryType = "file" | "hardlink" | "symlink" | "char" | "block" | "dir" | "fifo";

export interface TarEntry {
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch, with a fraction when a PAX header gave one. */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from SCHILY.xattr.NAME records, as raw bytes. */
  xattrs: Map<string, Uint8Array>;
  /** Offset of the contents in the input. */
  offset: number;
}

/** Why an input is not a tar archive, or where it is damaged; the caller adds which blob it was. */
export class TarFormatError extends Error {}

const BLOCK = 512;
const TYPES: Record<string, EntryType> = {
  "0": "file", "\0": "file", "7": "file", "1": "hardlink", "2": "symlink",
  "3": "char", "4": "block", "5": "dir", "6": "fifo",
};
const utf8 = new TextDecoder("utf-8", { fatal: true });

function text(b: Uint8Array, what: string): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new TarFormatError(`the ${what} is not valid UTF-8`);
  }
}

function cString(b: Uint8Array, start: number, len: number, what: string): string {
  const f = b.subarray(start, start + len);
  const nul = f.indexOf(0);
  return text(nul < 0 ? f : f.subarray(0, nul), what);
}

function num(b: Uint8Array, start: number, len: number, what: string): number {
  const f = b.subarray(start, start + len);
  if (f[0]! & 0x80) {
    // GNU base-256: big-endian two's complement; the top bit marks the form.
    if (f[0]! & 0x40) throw new TarFormatError(`the ${what} field is negative`);
    let v = f[0]! & 0x3f;
    for (let i = 1; i < f.length; i++) v = v * 256 + f[i]!;
    if (!Number.isSafeInteger(v)) throw new TarFormatError(`the ${what} field is too large`);
    return v;
  }
  const s = Buffer.from(f).toString("latin1").replace(/[\0 ]+$/, "").replace(/^[ ]+/, "");
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError(`the ${what} field '${s}' is not an octal number`);
  return parseInt(s, 8);
}

function checksumOk(h: Uint8Array): boolean {
  let stored: number;
  try {
    stored = num(h, 148, 8, "checksum");
  } catch {
    return false;
  }
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 32 : h[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return stored === unsigned || stored === signed;
}

/** PAX records `LEN KEY=VALUE\n`; values stay bytes (xattr values are binary). */
export function parsePax(data: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0) break;
    const sp = data.indexOf(0x20, i);
    if (sp < 0) throw new TarFormatError("a PAX header record has no length");
    const lenStr = Buffer.from(data.subarray(i, sp)).toString("latin1");
    const len = Number(lenStr);
    if (!/^[0-9]+$/.test(lenStr) || len <= sp - i + 1 || i + len > data.length || data[i + len - 1] !== 0x0a) {
      throw new TarFormatError("a PAX header record is malformed");
    }
    const rec = data.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new TarFormatError("a PAX header record has no '='");
    out.set(text(rec.subarray(0, eq), "PAX key"), rec.subarray(eq + 1));
    i += len;
  }
  return out;
}

function paxNumber(v: Uint8Array, key: string): number {
  const s = Buffer.from(v).toString("latin1");
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(s)) throw new TarFormatError(`the PAX ${key} '${s}' is not a number`);
  const n = Number(s);
  if (key !== "mtime" && (!Number.isSafeInteger(n) || n < 0)) throw new TarFormatError(`the PAX ${key} '${s}' is out of range`);
  return n;
}

async function readBody(src: ByteSource, size: number, what: string): Promise<Uint8Array> {
  if (size > 16 << 20) throw new TarFormatError(`the ${what} header is ${size} bytes long (more than 16 MiB)`);
  const b = await src.read(size);
  if (b.length < size) throw new TarFormatError(`the archive ends inside a ${what} header`);
  await skipPad(src, size);
  return b;
}

async function skipPad(src: ByteSource, size: number): Promise<void> {
  const pad = (BLOCK - (size % BLOCK)) % BLOCK;
  if (pad && (await src.skip(pad)) < pad) throw new TarFormatError("the archive ends inside the padding of an entry");
}

export interface TarItem {
  entry: TarEntry;
  /** The contents; reading is optional, the rest is skipped when the next entry is asked for. */
  body(): AsyncGenerator<Uint8Array>;
}

/**
 * Reads entries until the end marker (or the end of the input at a block boundary).
 * Throws TarFormatError on a bad header or a truncated entry.
 */
export async function* readTar(src: ByteSource): AsyncGenerator<TarItem> {
  const global = new Map<string, Uint8Array>();
  let pax = new Map<string, Uint8Array>();
  let longName: string | undefined;
  let longLink: string | undefined;
  let count = 0;
  for (;;) {
    const h = await src.read(BLOCK);
    if (h.length === 0 && count > 0 && pax.size === 0 && longName === undefined) return;
    if (h.length < BLOCK) {
      throw new TarFormatError(count === 0 ? "it is not a tar archive (shorter than one header)" : "the archive ends inside a header");
    }
    if (h.every((c) => c === 0)) {
      if (count === 0) throw new TarFormatError("it is not a tar archive (it starts with an end marker; an empty layer has at least one entry or two zero blocks after nothing)");
      return;
    }
    if (!checksumOk(h)) {
      throw new TarFormatError(count === 0 ? "it is not a tar archive (the first header's checksum is wrong)" : `the header at byte ${src.pos - BLOCK} has a wrong checksum`);
    }
    count++;
    const flag = String.fromCharCode(h[156]!);
    const size = num(h, 124, 12, "size");
    if (flag === "x" || flag === "g") {
      const recs = parsePax(await readBody(src, size, "PAX"));
      const into = flag === "g" ? global : pax;
      for (const [k, v] of recs) into.set(k, v);
      continue;
    }
    if (flag === "L" || flag === "K") {
      const b = await readBody(src, size, flag === "L" ? "GNU long name" : "GNU long link");
      const nul = b.indexOf(0);
      const s = text(nul < 0 ? b : b.subarray(0, nul), flag === "L" ? "long name" : "long link name");
      if (flag === "L") longName = s;
      else longLink = s;
      continue;
    }
    const type = TYPES[flag];
    const magic = Buffer.from(h.subarray(257, 263)).toString("latin1");
    const ustar = magic === "ustar\0";
    let name = cString(h, 0, 100, "entry name");
    if (ustar) {
      const prefix = cString(h, 345, 155, "entry name prefix");
      if (prefix) name = `${prefix}/${name}`;
    }
    const rec = new Map([...global, ...pax]);
    const get = (k: string) => rec.get(k);
    if (longName !== undefined) name = longName;
    if (get("path")) name = text(get("path")!, "PAX path");
    let linkname = cString(h, 157, 100, "link name");
    if (longLink !== undefined) linkname = longLink;
    if (get("linkpath")) linkname = text(get("linkpath")!, "PAX linkpath");
    const xattrs = new Map<string, Uint8Array>();
    for (const [k, v] of rec) if (k.startsWith("SCHILY.xattr.")) xattrs.set(k.slice("SCHILY.xattr.".length), v);
    const entrySize = get("size") ? paxNumber(get("size")!, "size") : size;
    const entry: TarEntry = {
      name,
      type: type ?? "file",
      mode: num(h, 100, 8, "mode") & 0o7777,
      uid: get("uid") ? paxNumber(get("uid")!, "uid") : num(h, 108, 8, "uid"),
      gid: get("gid") ? paxNumber(get("gid")!, "gid") : num(h, 116, 8, "gid"),
      size: type === "file" || type === undefined ? entrySize : 0,
      mtime: get("mtime") ? paxNumber(get("mtime")!, "mtime") : num(h, 136, 12, "mtime"),
      linkname,
      devmajor: type === "char" || type === "block" ? num(h, 329, 8, "devmajor") : 0,
      devminor: type === "char" || type === "block" ? num(h, 337, 8, "devminor") : 0,
      xattrs,
      offset: src.pos,
    };
    pax = new Map();
    longName = undefined;
    longLink = undefined;
    if (type === undefined) {
      throw new TarFormatError(`entry '${name}' has type '${flag.replace(/[^\x20-\x7e]/g, "?")}', which is not supported (regular files, links, directories, devices and FIFOs are)`);
    }
    // Only regular files carry contents; a hard link's size field must be skipped as well if set.
    const bodySize = type === "file" ? entrySize : type === "hardlink" ? 0 : size;
    let consumed = 0;
    const body = async function* (): AsyncGenerator<Uint8Array> {
      for await (const c of src.chunks(bodySize - consumed)) {
        consumed += c.length;
        yield c;
      }
      if (consumed < bodySize) throw new TarFormatError(`the archive ends inside the contents of '${name}'`);
    };
    yield { entry, body };
    if (consumed < bodySize) {
      const k = await src.skip(bodySize - consumed);
      if (k < bodySize - consumed) throw new TarFormatError(`the archive ends inside the contents of '${name}'`);
      consumed = bodySize;
    }
    await skipPad(src, bodySize);
  }
}
