/**
 * Reads TOML with @iarna/toml, guarding the process against one flaw of that
 * parser: it looks keys up with `table[key] || newTable()`, so a table or dotted
 * key named after an inherited built-in (`[containers.constructor]`,
 * `a.toString.x = 1`) makes it write into JavaScript's own functions (`Object`,
 * `Function.prototype.bind`, ...). Those objects are snapshotted before the
 * synchronous parse and put back right after it; a spec that touched them is
 * rejected. Pure from the caller's point of view.
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

/** Parses TOML text; never lets the parser's writes to built-ins outlive the call. */
export function readToml(text: string): TomlResult {
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
