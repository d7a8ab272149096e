/**
 * Reads TOML 1.0. Bun's own parser (Bun.TOML, part of the runtime) reads a spec
 * in microseconds; loading @iarna/toml costs a command about 4 ms. Bun's parser
 * also takes some of TOML 1.1 (`\e` and `\xHH` escapes, inline tables over
 * several lines or with a trailing comma), so its result is taken only when the
 * text has none of those and no byte-order mark, and the result holds nothing but
 * tables, arrays, strings, numbers and booleans, with no name of a JavaScript
 * built-in as a key. Anything else (every syntax error, dates, integers past 2^53)
 * is read again by @iarna/toml, whose errors and values the rest of podunit is
 * written against. test/unit/toml.test.ts checks that both agree wherever Bun's
 * result is taken, over every fixture and the fuzz corpus.
 *
 * @iarna/toml has one flaw this guards the process against: it looks keys up
 * with `table[key] || newTable()`, so a table or dotted key named after an
 * inherited built-in (`[containers.constructor]`, `a.toString.x = 1`) makes it
 * write into JavaScript's own functions (`Object`, `Function.prototype.bind`,
 * ...). Those objects are snapshotted before the synchronous parse and put back
 * right after it; a spec that touched them is rejected. Pure from the caller's
 * point of view.
 */
import type * as IarnaToml from "@iarna/toml";

// Loaded on first use: evaluating the parser's modules costs start-up time that
// the commands which read no spec (stop, status, list, logs) should not pay.
let loaded: typeof IarnaToml.parse | undefined;
function parse(text: string): ReturnType<typeof IarnaToml.parse> {
  loaded ??= (require("@iarna/toml") as typeof IarnaToml).parse;
  return loaded(text);
}

export type TomlResult =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; error: unknown; /** The text used a built-in's name as a table. */ touchedBuiltins: boolean };

/** Names a TOML key can reach through inheritance: the own properties of Object.prototype and Function.prototype. */
export const INHERITED_NAMES: ReadonlySet<string> = new Set(
  [Object.prototype, Function.prototype].flatMap((o) => Object.getOwnPropertyNames(o)),
);

/** Every object a key can reach: the two prototypes and the values of their own properties. */
function reachable(): object[] {
  const out = new Set<object>([Object.prototype, Function.prototype]);
  for (const root of [Object.prototype, Function.prototype]) {
    for (const key of Reflect.ownKeys(root)) {
      const d = Object.getOwnPropertyDescriptor(root, key);
      if (d && "value" in d && (typeof d.value === "function" || (typeof d.value === "object" && d.value !== null))) {
        out.add(d.value as object);
      }
    }
  }
  return [...out];
}

type Snapshot = { target: object; props: Map<PropertyKey, PropertyDescriptor> }[];

function snapshot(): Snapshot {
  return reachable().map((target) => {
    const props = new Map<PropertyKey, PropertyDescriptor>();
    for (const key of Reflect.ownKeys(target)) props.set(key, Object.getOwnPropertyDescriptor(target, key)!);
    return { target, props };
  });
}

/** Puts back what changed since `snap`; returns whether anything had. */
function restore(snap: Snapshot): boolean {
  let changed = false;
  for (const { target, props } of snap) {
    for (const key of Reflect.ownKeys(target)) {
      const before = props.get(key);
      const now = Object.getOwnPropertyDescriptor(target, key);
      if (before === undefined) {
        changed = true;
        Reflect.deleteProperty(target, key);
      } else if (now && (now.value !== before.value || now.get !== before.get || now.set !== before.set)) {
        changed = true;
        Reflect.defineProperty(target, key, before);
      }
    }
  }
  return changed;
}

/**
 * Keys that a lookup in a plain table finds before the table has them: Object.prototype's
 * own names. Function.prototype's (`name`, `length`, `call`, ...) are reachable only
 * through one of these, so a key such as a pod's `name` reads the same in both parsers.
 */
const TABLE_INHERITED: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/** True for a value of only plain tables, arrays, strings, finite or not numbers and booleans, with no key a plain table inherits. */
function plainData(v: unknown): boolean {
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return true;
  if (Array.isArray(v)) return v.every(plainData);
  if (typeof v !== "object" || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;
  for (const [k, x] of Object.entries(v)) if (TABLE_INHERITED.has(k) || !plainData(x)) return false;
  return true;
}

const ESCAPES_1_0 = new Set(["b", "t", "n", "f", "r", '"', "\\", "u", "U"]);

/**
 * False when `text` may use what TOML 1.1 added and 1.0 lacks: an escape other than
 * 1.0's in a basic string, or an inline table over several lines or with a trailing
 * comma. A scan of strings, comments and braces, not a parser: it may say false for
 * 1.0 text (that text then goes to @iarna/toml), never true for 1.1 text.
 */
export function withinToml10(text: string): boolean {
  let depth = 0; // of inline tables
  let lastSignificant = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
      i--;
      continue;
    }
    if (c === "\n" && depth > 0) return false;
    if (c === '"' || c === "'") {
      const multi = text.startsWith(c.repeat(3), i);
      const close = multi ? c.repeat(3) : c;
      i += close.length;
      for (; i < text.length && !text.startsWith(close, i); i++) {
        if (c === '"' && text[i] === "\\") {
          const next = text[i + 1] ?? "";
          if (!ESCAPES_1_0.has(next) && !(multi && /\s/.test(next))) return false;
          i++;
        } else if (!multi && text[i] === "\n") {
          return false;
        }
      }
      // A multi-line string may end in up to two more quotes: they are part of it.
      if (multi) while (text[i + 3] === c) i++;
      i += close.length - 1;
      lastSignificant = c;
      continue;
    }
    if (c === "{") depth++;
    if (c === "}") {
      if (lastSignificant === ",") return false;
      depth--;
    }
    if (!/\s/.test(c)) lastSignificant = c;
  }
  return true;
}

/** Texts longer than this (characters) are not given to Bun's parser. */
const FAST_LIMIT = 64 * 1024;

/** Bun's reading of `text`, when it is one podunit can take as it is (see above). */
export function readTomlFast(text: string): Record<string, unknown> | undefined {
  // Carriage returns: @iarna/toml refuses some CR LF line ends that Bun reads (one after a
  // comment), so such texts take the careful path and read as they always did.
  if (text.charCodeAt(0) === 0xfeff || text.includes("\r") || !withinToml10(text)) return undefined;
  // Bun's parser takes time quadratic in the number of keys (measured: 76 ms for 5,000 keys,
  // 1.1 s for 20,000, where @iarna/toml takes 33 ms); a spec is a few kilobytes, and a text
  // this large goes to the linear parser, so that no file can stall a command for seconds.
  if (text.length > FAST_LIMIT) return undefined;
  let value: unknown;
  try {
    value = Bun.TOML.parse(text);
  } catch {
    return undefined;
  }
  return plainData(value) ? (value as Record<string, unknown>) : undefined;
}

/** Parses TOML text; never lets the parser's writes to built-ins outlive the call. */
export function readToml(text: string): TomlResult {
  const fast = readTomlFast(text);
  if (fast !== undefined) return { ok: true, value: fast };
  return readTomlCarefully(text);
}

/** Parses TOML text with @iarna/toml alone; never lets its writes to built-ins outlive the call. */
export function readTomlCarefully(text: string): TomlResult {
  const snap = snapshot();
  let result: TomlResult;
  try {
    result = { ok: true, value: parse(text) as Record<string, unknown> };
  } catch (error) {
    result = { ok: false, error, touchedBuiltins: false };
  }
  if (restore(snap)) return { ok: false, error: result.ok ? undefined : result.error, touchedBuiltins: true };
  return result;
}
