/**
 * A reader for the unit files podunit renders, written from systemd's documented
 * parsing rules (specifiers, word splitting, C unescaping, Exec prefixes) and
 * independent of the renderer: tests read rendered files back into D-Bus values
 * and compare them with what toDbus() sends for the same plan.
 */
import { CAPABILITIES, PROPERTIES, type PropertyKey, SIGNALS, LOG_LEVELS } from "../../src/systemd/properties.ts";

export type UnitFileEntries = Map<string, Array<[string, string]>>;

/** Sections → (key, raw value) pairs, comments and blank lines skipped. */
export function readUnitFile(text: string): UnitFileEntries {
  const out: UnitFileEntries = new Map();
  let section = "";
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      section = head[1]!;
      if (out.has(section)) throw new Error(`section ${section} twice`);
      out.set(section, []);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0 || !section) throw new Error(`bad line: ${line}`);
    out.get(section)!.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return out;
}

/** Expands specifiers; podunit only ever writes `%%`. */
export function unspecify(s: string): string {
  return s.replace(/%(.)/g, (_m, c: string) => {
    if (c !== "%") throw new Error(`unexpected specifier %${c} in ${s}`);
    return "%";
  });
}

const SIMPLE_ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", a: "\x07", b: "\b", f: "\f", v: "\v", "\\": "\\", '"': '"', "'": "'", s: " " };

/** Splits into words with quotes and C escapes, as systemd's extract_first_word(UNQUOTE|CUNESCAPE). */
export function splitWords(s: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (s[i] === " " || s[i] === "\t") i++;
    if (i >= s.length) break;
    let word = "";
    let quote: string | null = null;
    for (; i < s.length; i++) {
      const c = s[i]!;
      if (c === "\\") {
        const n = s[i + 1]!;
        if (n === "x") {
          word += String.fromCharCode(parseInt(s.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (n in SIMPLE_ESCAPES) {
          word += SIMPLE_ESCAPES[n];
          i += 1;
        } else throw new Error(`unknown escape \\${n} in ${s}`);
      } else if (quote) {
        if (c === quote) quote = null;
        else word += c;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === " " || c === "\t") break;
      else word += c;
    }
    if (quote) throw new Error(`unterminated quote in ${s}`);
    words.push(word);
  }
  return words;
}

/** Reads one Exec line back into [path, argv, flags]. */
export function readExec(raw: string): [string, string[], string[]] {
  let s = unspecify(raw);
  const flags: string[] = [];
  let at = false;
  for (;;) {
    if (s[0] === "-") flags.push("ignore-failure");
    else if (s[0] === ":") flags.push("no-env-expand");
    else if (s[0] === "+") flags.push("privileged");
    else if (s[0] === "@") at = true;
    else break;
    s = s.slice(1);
  }
  const words = splitWords(s);
  const path = words.shift()!;
  const argv = at ? words : [path, ...words];
  return [path, argv, flags];
}

function readUsec(s: string): bigint {
  if (s === "infinity") return 0xffffffffffffffffn;
  const mult: Record<string, bigint> = { h: 3_600_000_000n, min: 60_000_000n, s: 1_000_000n, ms: 1_000n, us: 1n, "": 1_000_000n };
  let total = 0n;
  for (const part of s.split(" ")) {
    const m = /^(\d+)(h|min|s|ms|us)?$/.exec(part);
    if (!m) throw new Error(`bad time span ${s}`);
    total += BigInt(m[1]!) * mult[m[2] ?? ""]!;
  }
  return total;
}

function readPercent(s: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,2}))?%$/.exec(s);
  if (!m) throw new Error(`bad percentage ${s}`);
  const permyriad = BigInt(m[1]!) * 100n + BigInt((m[2] ?? "0").padEnd(2, "0"));
  return permyriad * 100n;
}

/** CLONE_NEW* flags by the names RestrictNamespaces= takes (linux/sched.h). */
const NS_FLAGS: Record<string, number> = { cgroup: 0x02000000, ipc: 0x08000000, net: 0x40000000, mnt: 0x00020000, pid: 0x20000000, user: 0x10000000, uts: 0x04000000 };
/** Whitespace-separated words, each cut at ":" outside double quotes (quotes kept for splitWords). */
function splitBindWords(s: string): string[][] {
  const out: string[][] = [];
  let parts: string[] = [];
  let cur = "";
  let quoted = false;
  const endWord = () => {
    if (cur !== "" || parts.length) out.push([...parts, cur]);
    parts = [];
    cur = "";
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\") {
      cur += c + (s[++i] ?? "");
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (!quoted && (c === " " || c === "\t")) endWord();
    else if (!quoted && c === ":") {
      parts.push(cur);
      cur = "";
    } else cur += c;
  }
  endWord();
  return out;
}

/** The D-Bus value the unit-file lines of one property stand for. */
export function readProperty(key: PropertyKey, values: string[]): unknown {
  const def = PROPERTIES[key];
  const one = () => {
    if (values.length !== 1) throw new Error(`${def.unitKey}= written ${values.length} times`);
    return values[0]!;
  };
  switch (def.signature) {
    case "s":
      return unspecify(one());
    case "b":
      return { yes: true, no: false }[one()] ?? new Error(`bad boolean ${one()}`);
    case "t":
      if (key === "CPUQuotaPerSecUSec") return readPercent(one());
      if (key === "AmbientCapabilities") return one().split(/\s+/).reduce((m, n) => m | (1n << BigInt(CAPABILITIES[n]!)), 0n);
      if (key === "RestartUSec" || key === "TimeoutStopUSec") return readUsec(one());
      if (key === "RestrictNamespaces") return one().split(/\s+/).reduce((m, n) => m | BigInt(NS_FLAGS[n] ?? NaN), 0n);
      if (["RestartUSec", "TimeoutStopUSec", "TimeoutStartUSec", "OnActiveSec", "OnUnitActiveSec", "AccuracyUSec"].includes(key)) return readUsec(one());
      return one() === "infinity" ? 0xffffffffffffffffn : BigInt(one());
    case "as":
      if (key === "Environment") return values.flatMap((v) => splitWords(unspecify(v)));
      return values.flatMap((v) => unspecify(v).split(/\s+/).filter(Boolean));
    case "aay":
      return values.flatMap((v) => splitWords(unspecify(v))).map((w) => Buffer.from(w, "utf8"));
    case "a(sasas)":
      return values.map(readExec);
    case "i":
      // KillSignal= is a signal name in files, SystemCallErrorNumber= an errno name.
      if (key === "SystemCallErrorNumber") return { EPERM: 1, ENOSYS: 38 }[one()] ?? new Error(`unknown errno ${one()}`);
      // Log levels by name; KillSignal=, a signal name in files.
      if (key === "SyslogLevel" || key === "LogLevelMax") return LOG_LEVELS.indexOf(one() as never);
      return SIGNALS[one()] ?? new Error(`unknown signal ${one()}`);
    case "(bas)": {
      // SystemCallFilter=: `~` makes it a deny list.
      const text = one();
      return [!text.startsWith("~"), text.replace(/^~/, "").split(/\s+/).filter(Boolean)];
    }
    case "(aiai)": {
      const words = one().split(/\s+/);
      return [words.filter((w) => /^\d+$/.test(w)).map(Number), words.filter((w) => !/^\d+$/.test(w)).map((w) => SIGNALS[w])];
    }
    case "a(ssbt)":
      // BindPaths=: words of SOURCE:DEST[:norbind], each part quoted on its own; ":" splits only outside quotes.
      return values.flatMap((v) => splitBindWords(unspecify(v))).map((parts) => {
        const [source, destination, option] = parts.map((x) => splitWords(x)[0] ?? "");
        return [source, destination, false, option === "norbind" ? 0n : 16384n];
      });
    default:
      throw new Error(`no reader for ${def.signature}`);
  }
}
