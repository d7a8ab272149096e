/**
 * Journal entries (as `journalctl -o json` prints them) → a pod's log lines,
 * for people and as JSON. Pure: the local time zone comes in as an argument.
 */

/** One field's value in journalctl's JSON: text, bytes (not valid UTF-8 or not printable), several values, or null. */
export type JournalValue = string | number[] | null | Array<string | number[] | null>;

/** One entry as journalctl prints it with `-o json`. */
export type JournalRecord = Record<string, JournalValue>;

/** One line of a pod's log. */
export interface LogEntry {
  /** Microseconds since the epoch (`__REALTIME_TIMESTAMP`). */
  usec: bigint;
  pod: string;
  /** Member name, "sandbox" for the sandbox. */
  member: string;
  /** The text; bytes that are not UTF-8 are replaced by U+FFFD. May span lines. */
  message: string;
  /** syslog priority, 0 (emerg) to 7 (debug). */
  priority: number;
  pid?: number;
  unit?: string;
  /** "member": written by the member's processes; "systemd": systemd's own line about the member's unit. */
  source: "member" | "systemd";
}

/** The first value of a field, decoded (byte arrays as UTF-8, invalid bytes as U+FFFD). */
export function fieldText(v: JournalValue | undefined): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (v.length > 0 && typeof v[0] !== "number") return fieldText(v[0] as JournalValue);
  if (v.some((b) => typeof b !== "number")) return undefined;
  return new TextDecoder("utf-8", { fatal: false }).decode(Uint8Array.from(v as number[]));
}

function fieldInt(v: JournalValue | undefined): number | undefined {
  const s = fieldText(v);
  if (s === undefined || !/^\d+$/.test(s)) return undefined;
  return Number(s);
}

/**
 * Turns a journal record into a log entry of `pod`, or undefined when it is not one
 * (no timestamp). `memberOfUnit` maps a unit name to its member, for systemd's own
 * lines (which carry `UNIT=` instead of the PODUNIT_ fields).
 */
export function toLogEntry(r: JournalRecord, pod: string, memberOfUnit: (unit: string) => string | undefined): LogEntry | undefined {
  const ts = fieldText(r.__REALTIME_TIMESTAMP);
  if (ts === undefined || !/^\d+$/.test(ts)) return undefined;
  const systemd = fieldText(r.PODUNIT_POD) === undefined && fieldText(r.UNIT) !== undefined;
  const unit = systemd ? fieldText(r.UNIT) : fieldText(r._SYSTEMD_UNIT);
  let member = systemd ? undefined : fieldText(r.PODUNIT_MEMBER);
  // Entries written before the sandbox carried PODUNIT_MEMBER: tell the member by identifier or unit.
  if (member === undefined) {
    const ident = fieldText(r.SYSLOG_IDENTIFIER);
    if (!systemd && ident?.startsWith(`${pod}/`)) member = ident.slice(pod.length + 1);
    else if (unit !== undefined) member = memberOfUnit(unit);
  }
  return {
    usec: BigInt(ts),
    pod,
    member: member ?? "-",
    message: fieldText(r.MESSAGE) ?? "",
    priority: fieldInt(r.PRIORITY) ?? 6,
    pid: fieldInt(r._PID),
    unit,
    source: systemd ? "systemd" : "member",
  };
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/** `YYYY-MM-DD HH:MM:SS` in local time, given the zone's offset from UTC in minutes at that instant. */
export function localTime(usec: bigint, offsetMinutes: number): string {
  const d = new Date(Number(usec / 1000n) + offsetMinutes * 60_000);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

/** ISO 8601 in UTC with microseconds: `2026-11-27T19:19:42.495217Z`. */
export function isoTime(usec: bigint): string {
  const secs = usec / 1_000_000n;
  const frac = String(usec % 1_000_000n).padStart(6, "0");
  return new Date(Number(secs) * 1000).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}

/**
 * Makes control characters visible (`\x1b`, `\x7f`, C1 codes as `\u009b`) so a log
 * line cannot move the cursor or re-program the terminal; tabs stay.
 */
export function escapeControls(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x80 ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`;
  });
}

/**
 * One entry for people: `TIME MEMBER  MESSAGE`, member names padded to `width`;
 * further lines of a multi-line message are indented under the first; systemd's
 * own lines start with `systemd: `. Ends with a newline.
 */
export function formatLogEntry(e: LogEntry, width: number, offsetMinutes: number): string {
  const head = `${localTime(e.usec, offsetMinutes)} ${e.member.padEnd(width)}  `;
  const text = e.source === "systemd" ? `systemd: ${e.message}` : e.message;
  const lines = text.replace(/\r?\n$/, "").split(/\r?\n/).map(escapeControls);
  return head + lines.join("\n" + " ".repeat(head.length)) + "\n";
}

/** One entry as a JSON object (one line, no newline). */
export function logEntryJson(e: LogEntry): string {
  return JSON.stringify({
    time: isoTime(e.usec),
    pod: e.pod,
    member: e.member,
    message: e.message,
    priority: e.priority,
    pid: e.pid ?? null,
    unit: e.unit ?? null,
    source: e.source,
  });
}
