/**
 * Writes the spec `kube play` makes as TOML: pod keys, `[install]`, then one
 * `[containers.NAME]` table per member with its `env` table. Only the value
 * types a spec has (strings, integers, booleans, arrays of strings). Pure.
 */

export type TomlScalar = string | number | bigint | boolean | string[];
/** A table: keys in the order written; `undefined` values are left out. */
export type TomlTable = Record<string, TomlScalar | undefined>;

/** A TOML basic string: `"`, `\` and control characters escaped. */
export function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out + '"';
}

/** A key, bare when it can be. */
export function tomlKey(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : tomlString(k);
}

function value(v: TomlScalar): string {
  if (Array.isArray(v)) return `[${v.map(tomlString).join(", ")}]`;
  if (typeof v === "string") return tomlString(v);
  return String(v);
}

function lines(t: TomlTable): string {
  return Object.entries(t)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${tomlKey(k)} = ${value(v!)}\n`)
    .join("");
}

/** A spec file: a comment, the top table, then named tables (`[install]`, `[containers.app]`, `[containers.app.env]`) that are not empty. */
export function writeToml(comment: string[], top: TomlTable, tables: { name: string[]; table: TomlTable; always?: boolean }[]): string {
  let out = comment.map((c) => `# ${c}\n`).join("") + lines(top);
  for (const { name, table, always } of tables) {
    const body = lines(table);
    if (!body && !always) continue;
    out += `\n[${name.map(tomlKey).join(".")}]\n${body}`;
  }
  return out;
}
