/**
 * Small helpers that put values and names into messages. Pure and bounded:
 * a huge or deeply nested value never produces a huge message.
 */

const MAX_SHOWN = 60;

/** A string as TOML/JSON would quote it, cut after 60 characters. */
export function quote(s: string): string {
  if (s.length <= MAX_SHOWN) return JSON.stringify(s);
  const head = JSON.stringify(s.slice(0, MAX_SHOWN));
  return `${head.slice(0, -1)}…" (${s.length} characters)`;
}

/** One character of source text for a syntax error. */
export function describeChar(text: string, index: number): string {
  if (index >= text.length) return "the end of the file";
  const cp = text.codePointAt(index)!;
  if (cp === 0x0a || cp === 0x0d) return "the end of the line";
  if (cp < 0x20 || cp === 0x7f || cp === 0xfeff || (cp >= 0x80 && cp < 0xa0)) {
    return `the character U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  }
  return JSON.stringify(String.fromCodePoint(cp));
}

/** True for a TOML number token that is a float (`1.0`, `1e3`, `inf`, `nan`). */
export function isFloatToken(raw: string): boolean {
  if (/^[+-]?(inf|nan)$/.test(raw)) return true;
  if (/^[+-]?0[xob]/.test(raw)) return false;
  return /[.eE]/.test(raw);
}

/**
 * What a TOML value is, with its type, for "found ..." in a type error:
 * `the string "ls"`, `the integer 5`, `an array of 3 items`, `a table`.
 * `raw` is the value's source text when known (tells 1.0 from 1, shows big integers).
 */
export function describeValue(v: unknown, raw?: string): string {
  switch (typeof v) {
    case "string":
      return `the string ${quote(v)}`;
    case "boolean":
      return `the boolean ${v}`;
    case "bigint":
      return `the integer ${raw !== undefined && raw.length <= MAX_SHOWN ? raw : "beyond ±2^53"}`;
    case "number": {
      const float = raw !== undefined ? isFloatToken(raw) : !Number.isInteger(v);
      const shown = raw !== undefined && raw.length <= MAX_SHOWN ? raw : String(v);
      return `the ${float ? "float" : "integer"} ${shown}`;
    }
    case "object":
      if (v === null) return "nothing";
      if (v instanceof Date) return "a date-time";
      if (Array.isArray(v)) return v.length === 0 ? "an empty array" : `an array of ${v.length} item${v.length === 1 ? "" : "s"}`;
      return "a table";
    default:
      return "nothing";
  }
}

/** A short list of quoted words: `"a", "b" or "c"`. */
export function oneOf(words: readonly string[], quoteWith: (s: string) => string = quote): string {
  const q = words.map(quoteWith);
  if (q.length <= 1) return q.join("");
  return `${q.slice(0, -1).join(", ")} or ${q[q.length - 1]}`;
}

/**
 * Optimal string alignment distance (insertions, deletions, substitutions and
 * adjacent transpositions), giving up early: returns `limit + 1` once the distance
 * is known to exceed `limit`.
 */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = new Array(b.length + 1).fill(0);
    row[0] = i;
    rows.push(row);
  }
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    let best = Infinity;
    const row = rows[i]!;
    const prev = rows[i - 1]!;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row[j] = d;
      if (d < best) best = d;
    }
    if (best > limit) return limit + 1;
  }
  return rows[a.length]![b.length]!;
}

/**
 * The candidate closest to `word` within edit distance 2 (1 for words of up to
 * 4 characters, where 2 edits make almost anything look alike), compared as
 * written and in lower case; undefined when none is that close.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length > 64) return undefined;
  const limit = word.length <= 4 ? 1 : 2;
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestD = limit + 1;
  for (const c of candidates) {
    const d = Math.min(editDistance(word, c, limit), editDistance(lower, c, limit));
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}
