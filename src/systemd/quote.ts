/**
 * Quoting for unit-file values. systemd reads a unit file in two passes that
 * matter here: `%` specifiers are expanded (so a literal `%` is written `%%`),
 * and list settings (Exec*, Environment=, LogExtraFields=) are split into words
 * with C-style unescaping inside and outside double quotes.
 */

/** Characters that never need quoting in a word. */
const BARE = /^[A-Za-z0-9_@+=:,.\/%-]+$/;

/** Doubles every `%` so systemd's specifier expansion gives the text back. */
export function escapeSpecifiers(s: string): string {
  return s.replaceAll("%", "%%");
}

function cEscape(ch: string): string {
  switch (ch) {
    case "\\":
      return "\\\\";
    case '"':
      return '\\"';
    case "\n":
      return "\\n";
    case "\t":
      return "\\t";
    case "\r":
      return "\\r";
    default: {
      const code = ch.codePointAt(0)!;
      if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, "0")}`;
      return ch;
    }
  }
}

/**
 * One word of a list setting: bare when it only holds safe characters,
 * otherwise in double quotes with `\`, `"` and control characters escaped.
 * A lone `;` (systemd's old command separator) and the empty string are quoted.
 */
export function quoteWord(s: string): string {
  if (s !== "" && BARE.test(s)) return escapeSpecifiers(s);
  let out = '"';
  for (const ch of s) out += cEscape(ch);
  return escapeSpecifiers(`${out}"`);
}

/** The first word of an Exec line: also quoted when it starts with a prefix character. */
export function quoteExecPath(s: string): string {
  return /^[-@:+!]/.test(s) ? escapeSpecifiers(`"${[...s].map(cEscape).join("")}"`) : quoteWord(s);
}

/**
 * A setting whose value is taken verbatim apart from specifiers (Description=,
 * SyslogIdentifier=, paths). Line breaks cannot be written there: they are
 * refused, and so is a trailing backslash (it would continue the line).
 */
export function plainValue(s: string): string {
  if (/[\n\r]/.test(s) || s.endsWith("\\")) {
    throw new Error(`Failed to write '${s}' into a unit file: a line break or a trailing backslash would end or continue the line`);
  }
  return escapeSpecifiers(s);
}

const UNESCAPE: Record<string, string> = { "\\": "\\", '"': '"', n: "\n", t: "\t", r: "\r" };

/**
 * The words of a list setting as podunit writes them (quoteWord, quoteExecPath):
 * bare words and double-quoted ones with C escapes, `%%` for `%`. Returns undefined
 * for text podunit does not write (an open quote, an unknown escape, a lone `%`).
 */
export function splitWords(value: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  const s = value;
  while (i < s.length) {
    if (s[i] === " ") {
      i++;
      continue;
    }
    let word = "";
    if (s[i] === '"') {
      i++;
      for (;;) {
        const ch = s[i];
        if (ch === undefined) return undefined;
        i++;
        if (ch === '"') break;
        if (ch === "%") {
          if (s[i] !== "%") return undefined;
          word += "%";
          i++;
        } else if (ch === "\\") {
          const e = s[i];
          if (e === "x" && /^[0-9a-f]{2}$/.test(s.slice(i + 1, i + 3))) {
            word += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
            i += 3;
          } else if (e !== undefined && e in UNESCAPE) {
            word += UNESCAPE[e];
            i++;
          } else return undefined;
        } else word += ch;
      }
      if (i < s.length && s[i] !== " ") return undefined;
    } else {
      while (i < s.length && s[i] !== " ") {
        if (s[i] === "%") {
          if (s[i + 1] !== "%") return undefined;
          i++;
        }
        if (s[i] === '"' || s[i] === "\\") return undefined;
        word += s[i];
        i++;
      }
    }
    words.push(word);
  }
  return words;
}
