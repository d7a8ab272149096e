/** Small formatters shared by the verbs that print tables. */

/** Bytes as people read them: 1.5K, 12.3M, 2.0G. */
export function formatBytes(n: bigint | undefined): string {
  if (n === undefined) return "-";
  const units = ["B", "K", "M", "G", "T"];
  let v = Number(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v}B` : `${v.toFixed(1)}${units[i]}`;
}

/** A time as "2026-11-27 19:00:01 (3min ago)". */
export function formatSince(d: Date | undefined, now: Date): string {
  if (!d) return "-";
  const iso = d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "");
  let s = Math.max(0, Math.round((now.getTime() - d.getTime()) / 1000));
  const ago = s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}min` : s < 86400 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86400)}d`;
  return `${iso} (${ago} ago)`;
}

/** Left-aligned columns, two spaces apart. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}

/** JSON with bigints as numbers-in-strings and dates as ISO strings. */
export function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
}

/**
 * The version of the JSON documents `--json` prints (docs/json.md). It goes up
 * when a field changes its meaning or goes away; new fields do not change it.
 */
export const JSON_SCHEMA_VERSION = 1;

/** A `--json` document: `version` first, then the body's fields. */
export function jsonDocument(body: object): string {
  return toJson({ version: JSON_SCHEMA_VERSION, ...body });
}
