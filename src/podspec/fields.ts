/**
 * Typed readers for the fields of a pod spec. Each reader takes the raw TOML
 * value and its key path, returns the validated value (or undefined), and
 * records an issue on the checker when the value is wrong. Pure.
 */
import { closest, describeValue, isFloatToken, oneOf, quote } from "./describe.ts";
import type { Seg, SourceIndex } from "./locate.ts";
import {
  DURATION_EXPECTED,
  PERCENT_EXPECTED,
  PERCENT_MAX,
  SIZE_EXPECTED,
  durationFromSeconds,
  parseDuration,
  parsePercent,
  parseSize,
  type Parsed,
} from "./grammar.ts";

export type Table = Record<string, unknown>;

/** A TOML table (not an array, not a date-time). */
export function isTable(v: unknown): v is Table {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** The table's own value for `key` (never one inherited from Object.prototype). */
export function get(t: Table, key: string): unknown {
  return Object.hasOwn(t, key) ? t[key] : undefined;
}

/** One problem, with the key path it belongs to; positions are resolved later. */
export interface PathIssue {
  path: Seg[];
  message: string;
}

/** The largest task count the kernel's pids controller takes (PID_MAX_LIMIT on 64-bit). */
export const TASKS_MAX_LIMIT = 4194304;

/** Collects issues; knows the source so it can tell `1.0` from `1` and show big integers. */
export class Checker {
  readonly issues: PathIssue[] = [];
  /** What is allowed but worth a second look (`podunit check` shows them). */
  readonly warnings: PathIssue[] = [];
  private idx?: SourceIndex;
  constructor(private readonly makeIndex: () => SourceIndex) {}

  /** The source index, built on first use. */
  index(): SourceIndex {
    return (this.idx ??= this.makeIndex());
  }

  add(path: readonly Seg[], message: string): void {
    this.issues.push({ path: [...path], message });
  }

  warn(path: readonly Seg[], message: string): void {
    this.warnings.push({ path: [...path], message });
  }

  /** Source text of a scalar, for numbers only (strings are shown from their value). */
  raw(v: unknown, path: readonly Seg[]): string | undefined {
    return typeof v === "number" || typeof v === "bigint" ? this.index().raw(path) : undefined;
  }

  describe(v: unknown, path: readonly Seg[]): string {
    return describeValue(v, this.raw(v, path));
  }

  /** Records `expected <what>, found <the value with its type><hint>`. */
  wrongType(path: readonly Seg[], expected: string, v: unknown, hint = ""): void {
    this.add(path, `expected ${expected}, found ${this.describe(v, path)}${hint}`);
  }

  /** True when `v` was written as a TOML integer (not `1.0`), within ±2^53. */
  isInteger(v: unknown, path: readonly Seg[]): v is number {
    if (typeof v !== "number" || !Number.isInteger(v)) return false;
    const raw = this.index().raw(path);
    return raw === undefined || !isFloatToken(raw);
  }

  /** Applies a string parser; records its message on failure. */
  parsed<T>(path: readonly Seg[], r: Parsed<T>): T | undefined {
    if (r.ok) return r.value;
    this.add(path, r.message);
    return undefined;
  }
}

/** A validated limit together with how the file wrote it (for messages comparing two limits). */
export interface Shown<T> {
  value: T;
  shown: string;
}

export function readBool(c: Checker, v: unknown, path: Seg[]): boolean | undefined {
  if (v === undefined || typeof v === "boolean") return v;
  const hint = v === "true" || v === "false" ? `; write ${v} without quotes` : "";
  c.wrongType(path, "true or false", v, hint);
  return undefined;
}

export function readString(c: Checker, v: unknown, path: Seg[], expected: string): string | undefined {
  if (v === undefined || typeof v === "string") return v;
  c.wrongType(path, expected, v);
  return undefined;
}

/** A string from a fixed set, with a did-you-mean. */
export function readChoice<T extends string>(c: Checker, v: unknown, path: Seg[], choices: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string") {
    c.wrongType(path, oneOf(choices), v);
    return undefined;
  }
  if ((choices as readonly string[]).includes(v)) return v as T;
  const near = closest(v, choices);
  c.add(path, `expected ${oneOf(choices)}, found ${quote(v)}${near ? `; did you mean ${quote(near)}?` : ""}`);
  return undefined;
}

export function readSize(c: Checker, v: unknown, path: Seg[]): Shown<bigint> | undefined {
  if (v === undefined) return undefined;
  if (typeof v === "string") {
    const value = c.parsed(path, parseSize(v));
    return value === undefined ? undefined : { value, shown: quote(v) };
  }
  if (c.isInteger(v, path)) {
    if (v > 0) return { value: BigInt(v), shown: String(v) };
    c.add(path, `expected a size greater than 0, found ${v}`);
    return undefined;
  }
  if (typeof v === "bigint") {
    c.add(path, `expected a number of bytes of at most 9007199254740991 (or a size with a unit such as "16T"), found ${c.describe(v, path)}`);
    return undefined;
  }
  c.wrongType(path, SIZE_EXPECTED, v);
  return undefined;
}

export function readPercent(c: Checker, v: unknown, path: Seg[]): Shown<number> | undefined {
  if (v === undefined) return undefined;
  if (typeof v === "string") {
    const value = c.parsed(path, parsePercent(v));
    return value === undefined ? undefined : { value, shown: quote(v) };
  }
  let hint = "";
  if (typeof v === "number" && v > 0 && v * 100 <= PERCENT_MAX) {
    const pct = Math.round(v * 1000) / 10;
    hint = `; for ${v} CPU${v === 1 ? "" : "s"} write "${pct}%"`;
  }
  c.wrongType(path, PERCENT_EXPECTED, v, hint);
  return undefined;
}

export function readTasks(c: Checker, v: unknown, path: Seg[]): Shown<bigint> | undefined {
  if (v === undefined) return undefined;
  const expected = `an integer from 1 to ${TASKS_MAX_LIMIT}`;
  if (c.isInteger(v, path)) {
    if (v >= 1 && v <= TASKS_MAX_LIMIT) return { value: BigInt(v), shown: String(v) };
    c.add(path, `expected ${expected}, found ${c.index().raw(path) ?? v}`);
    return undefined;
  }
  if (typeof v === "bigint") {
    c.add(path, `expected ${expected}, found ${c.describe(v, path)}`);
    return undefined;
  }
  const hint = typeof v === "string" && /^[0-9]{1,16}$/.test(v) ? `; write ${v} without quotes` : "";
  c.wrongType(path, `${expected} such as 512`, v, hint);
  return undefined;
}

/** A duration; `min` is 0 or 1 microsecond (for keys where 0 would mean "never"). */
export function readDuration(c: Checker, v: unknown, path: Seg[], min: 0n | 1n): bigint | undefined {
  if (v === undefined) return undefined;
  let usec: bigint | undefined;
  if (typeof v === "string") {
    usec = c.parsed(path, parseDuration(v));
  } else if (c.isInteger(v, path)) {
    usec = c.parsed(path, durationFromSeconds(v));
  } else {
    const raw = c.raw(v, path);
    const hint = typeof v === "number" && raw !== undefined && /^[0-9]+\.[0-9]+$/.test(raw) ? `; write "${raw}s"` : "";
    c.wrongType(path, DURATION_EXPECTED, v, hint);
    return undefined;
  }
  if (usec !== undefined && usec < min) {
    c.add(path, `expected a duration greater than 0, found ${typeof v === "string" ? quote(v) : String(v)}`);
    return undefined;
  }
  return usec;
}

/**
 * An array of strings. `what` names one element ("a namespace"); `example` shows
 * a whole array. Elements that are not strings are reported one by one.
 * Returns the strings with their indices, or undefined when `v` is not an array.
 */
export function readStringArray(
  c: Checker,
  v: unknown,
  path: Seg[],
  example: string,
  /** Suggest quoting numbers and booleans (for argv-like arrays). */
  quoteHint = false,
): { value: string; index: number }[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) {
    const hint = typeof v === "string" ? arrayHint(String(path[path.length - 1]), v) : "";
    c.wrongType(path, `an array of strings such as ${example}`, v, hint);
    return undefined;
  }
  const out: { value: string; index: number }[] = [];
  v.forEach((x: unknown, index) => {
    if (typeof x === "string") out.push({ value: x, index });
    else {
      const quotable = quoteHint && (typeof x === "number" || typeof x === "boolean");
      c.wrongType([...path, index], "a string", x, quotable ? `; write "${c.raw(x, [...path, index]) ?? String(x)}"` : "");
    }
  });
  return out;
}

/** `; write command = ["ls", "-l"]` for `command = "ls -l"`, when the string is short and plain. */
function arrayHint(key: string, s: string): string {
  if (s.length > 60 || /["'\\]/.test(s) || !/^[A-Za-z0-9_-]+$/.test(key)) return "";
  const words = s.trim().split(/\s+/).filter((w) => w !== "");
  if (words.length === 0) return "";
  return `; write ${key} = [${words.map((w) => quote(w)).join(", ")}]`;
}

/** Reports every key of `t` not in `known`, with a did-you-mean or a hint. */
export function checkKeys(
  c: Checker,
  t: Table,
  path: Seg[],
  known: readonly string[],
  hints: Record<string, string> = {},
  aliases: Record<string, string> = {},
): void {
  for (const key of Object.keys(t)) {
    if (known.includes(key)) continue;
    const hint = Object.hasOwn(hints, key) ? hints[key] : undefined;
    const near = Object.hasOwn(aliases, key) ? aliases[key] : closest(key, known);
    const tail = hint ?? (near !== undefined ? `did you mean '${near}'?` : `expected one of ${known.map((k) => `'${k}'`).join(", ")}`);
    c.add([...path, key], `unknown key; ${tail}`);
  }
}
