/**
 * Finds where keys and values sit in TOML source text. The TOML parser gives
 * values without positions; this scanner walks text the parser has already
 * accepted and records, for every key path, where its key starts (and, for
 * array elements, where the element starts), plus the source text of scalars.
 *
 * It understands `[table]` and `[[array]]` headers, dotted and quoted keys,
 * all four string forms, arrays and inline tables at any depth (without
 * recursion), comments and CRLF line ends. It is linear in the text's length.
 */

/** A step in a key path: a key, or an index into an array. */
export type Seg = string | number;

export interface SourcePos {
  /** 1-based line. */
  line: number;
  /** 1-based column, counted in characters (code points). */
  column: number;
}

export interface SourceIndex {
  /** Where the key (or array element) at `path` starts, else its nearest located ancestor. */
  find(path: readonly Seg[]): SourcePos | undefined;
  /** Like find, as an offset (UTF-16 units); cheap, for sorting. */
  locate(path: readonly Seg[]): number | undefined;
  /** Line and column of an offset. */
  position(offset: number): SourcePos;
  /** Offset (UTF-16 units) of the key at exactly `path`. */
  offset(path: readonly Seg[]): number | undefined;
  /** Source text of the scalar (number, boolean, date-time) at exactly `path`. */
  raw(path: readonly Seg[]): string | undefined;
  /** Every located path, in the order of the text. */
  paths(): Seg[][];
}

/** Line and column (1-based, columns in code points) of a UTF-16 offset. */
export function positionOf(text: string, offset: number, lineStarts?: number[]): SourcePos {
  const starts = lineStarts ?? lineStartsOf(text);
  const off = Math.max(0, Math.min(offset, text.length));
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= off) lo = mid;
    else hi = mid - 1;
  }
  let column = 1;
  for (let i = starts[lo]!; i < off; i++) {
    const c = text.charCodeAt(i);
    // Count a surrogate pair once.
    if (!(c >= 0xdc00 && c <= 0xdfff && i > starts[lo]! && isHigh(text.charCodeAt(i - 1)))) column++;
  }
  return { line: lo + 1, column };
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

const keyOf = (path: readonly Seg[]) => JSON.stringify(path);
const isBare = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_-]/.test(c);

/**
 * Paths deeper than this are scanned but not recorded: no spec key is that deep,
 * and copying ever longer paths would make deeply nested input quadratic.
 */
const MAX_DEPTH = 16;

/** A path to record, or null when it is too deep to be worth recording. */
type MaybePath = Seg[] | null;
const extend = (base: MaybePath, seg: Seg): MaybePath => (base === null || base.length >= MAX_DEPTH ? null : [...base, seg]);

type Frame = { kind: "array"; path: MaybePath; next: number } | { kind: "table"; path: MaybePath };

/** Scans `text` (valid TOML) once and returns its index. */
export function indexSource(text: string): SourceIndex {
  const keys = new Map<string, number>();
  const raws = new Map<string, string>();
  const arrayTables = new Map<string, number>();
  const n = text.length;
  let i = 0;

  const record = (path: MaybePath, off: number) => {
    if (path === null) return;
    const k = keyOf(path);
    if (!keys.has(k)) keys.set(k, off);
  };

  const skipSpaces = () => {
    while (i < n && (text[i] === " " || text[i] === "\t")) i++;
  };
  const skipToLineEnd = () => {
    const nl = text.indexOf("\n", i);
    i = nl < 0 ? n : nl + 1;
  };
  /** Skips whitespace, newlines and comments (inside arrays and between statements). */
  const skipBlank = () => {
    for (;;) {
      const c = text[i];
      if (c === " " || c === "\t" || c === "\r" || c === "\n") i++;
      else if (c === "#") skipToLineEnd();
      else return;
    }
  };

  /** Reads one string at `i` (any of the four forms); returns its value. */
  const readString = (): string => {
    const q = text[i]!;
    const multi = text.startsWith(q + q + q, i);
    i += multi ? 3 : 1;
    let out = "";
    while (i < n) {
      const c = text[i]!;
      if (multi ? text.startsWith(q + q + q, i) : c === q) {
        i += multi ? 3 : 1;
        // A multi-line string may end with one or two quotes before its delimiter.
        if (multi) for (let extra = 0; extra < 2 && text[i] === q; extra++, i++) out += q;
        return out;
      }
      if (!multi && (c === "\n" || c === "\r")) return out;
      if (c === "\\" && q === '"') {
        const e = text[i + 1];
        const simple: Record<string, string> = { b: "\b", t: "\t", n: "\n", f: "\f", r: "\r", '"': '"', "\\": "\\" };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          i += 2;
        } else if (e === "u" || e === "U") {
          const len = e === "u" ? 4 : 8;
          const hex = text.slice(i + 2, i + 2 + len);
          const cp = Number.parseInt(hex, 16);
          out += Number.isFinite(cp) && cp <= 0x10ffff ? String.fromCodePoint(cp) : "";
          i += 2 + len;
        } else {
          // Line-ending backslash in a multi-line string: skip the newline and following blanks.
          i++;
          while (i < n && /[ \t\r\n]/.test(text[i]!)) i++;
        }
        continue;
      }
      out += c;
      i++;
    }
    return out;
  };

  /** Reads a dotted key at `i`; returns its segments and where each starts. */
  const readKey = (): { segs: string[]; offs: number[] } => {
    const segs: string[] = [];
    const offs: number[] = [];
    for (;;) {
      skipSpaces();
      const start = i;
      if (text[i] === '"' || text[i] === "'") {
        segs.push(readString());
      } else {
        while (isBare(text[i])) i++;
        if (i === start) break;
        segs.push(text.slice(start, i));
      }
      offs.push(start);
      skipSpaces();
      if (text[i] !== ".") break;
      i++;
    }
    return { segs, offs };
  };

  const recordKey = (base: MaybePath, key: { segs: string[]; offs: number[] }): MaybePath => {
    let path = base;
    key.segs.forEach((s, k) => {
      path = extend(path, s);
      record(path, key.offs[k]!);
    });
    return path;
  };

  /** Reads one value at `i` for `path`, arrays and inline tables included, without recursion. */
  const readValue = (path0: MaybePath) => {
    const stack: Frame[] = [];
    let atValue = true;
    let path: MaybePath = path0;
    while (i < n) {
      const before = i;
      if (atValue) {
        // Start of a value.
        const c = text[i];
        if (c === "[") {
          i++;
          stack.push({ kind: "array", path, next: 0 });
        } else if (c === "{") {
          i++;
          stack.push({ kind: "table", path });
        } else if (c === '"' || c === "'") {
          readString();
        } else {
          const start = i;
          while (i < n && !/[,\]}#\s]/.test(text[i]!)) i++;
          // A date and a time may be separated by one space.
          if (/^\d{4}-\d{2}-\d{2}$/.test(text.slice(start, i)) && text[i] === " " && /\d/.test(text[i + 1] ?? "")) {
            i++;
            while (i < n && !/[,\]}#\s]/.test(text[i]!)) i++;
          }
          if (path !== null) raws.set(keyOf(path), text.slice(start, i));
        }
        atValue = false;
      } else {
        // After a value, or just inside a container: find the next element or the end.
        const top = stack[stack.length - 1];
        if (top === undefined) return;
        if (top.kind === "array") {
          skipBlank();
          if (text[i] === ",") {
            i++;
            skipBlank();
          }
          if (text[i] === "]") {
            i++;
            stack.pop();
          } else if (i < n) {
            path = extend(top.path, top.next++);
            record(path, i);
            atValue = true;
          }
        } else {
          skipSpaces();
          if (text[i] === ",") {
            i++;
            skipSpaces();
          }
          if (text[i] === "}") {
            i++;
            stack.pop();
          } else if (i < n) {
            const key = readKey();
            if (key.segs.length === 0) return;
            const p = recordKey(top.path, key);
            skipSpaces();
            if (text[i] === "=") i++;
            skipSpaces();
            path = p;
            atValue = true;
          }
        }
        if (stack.length === 0) return;
      }
      if (i === before && !atValue) return; // no progress: give up rather than loop
    }
  };

  let current: MaybePath = [];
  while (i < n) {
    const before = i;
    skipBlank();
    if (i >= n) break;
    if (text[i] === "[") {
      const isArray = text[i + 1] === "[";
      i += isArray ? 2 : 1;
      const key = readKey();
      const path = recordKey([], key);
      if (isArray) {
        const k = keyOf(path ?? []);
        const idx = arrayTables.get(k) ?? 0;
        arrayTables.set(k, idx + 1);
        current = extend(path, idx);
        record(current, key.offs[0] ?? before);
      } else {
        current = path;
      }
      skipToLineEnd();
    } else {
      const key = readKey();
      if (key.segs.length === 0) {
        skipToLineEnd();
      } else {
        const path = recordKey(current, key);
        skipSpaces();
        if (text[i] === "=") i++;
        skipSpaces();
        readValue(path);
        skipSpaces();
        if (text[i] === "#" || text[i] === "\r" || text[i] === "\n") skipToLineEnd();
      }
    }
    if (i === before) i++;
  }

  let starts: number[] | undefined;
  const locate = (path: readonly Seg[]) => {
    for (let len = path.length; len > 0; len--) {
      const off = keys.get(keyOf(path.slice(0, len)));
      if (off !== undefined) return off;
    }
    return undefined;
  };
  const position = (offset: number) => positionOf(text, offset, (starts ??= lineStartsOf(text)));
  return {
    find(path) {
      const off = locate(path);
      return off === undefined ? undefined : position(off);
    },
    locate,
    position,
    offset: (path) => keys.get(keyOf(path)),
    raw: (path) => raws.get(keyOf(path)),
    paths: () => [...keys.keys()].map((k) => JSON.parse(k) as Seg[]),
  };
}
