/**
 * Reads a pod's journal entries through journalctl (the journal's own reader
 * understands every journal file format): `journalctl -o json` with field
 * matches, one JSON object per line, optionally following new entries.
 */
import { PodunitError } from "../errors.ts";
import type { JournalRecord } from "./logentry.ts";

export interface JournalQuery {
  pod: string;
  /** Only this member's entries; all of the pod's when undefined. */
  member?: string;
  /** Units whose systemd lines (started, stopped, exited, restarting) are shown too. */
  units: string[];
  /** The last N entries, or every entry. */
  lines: number | "all";
  /** Passed to `journalctl --since` (its syntax: "2026-11-27 10:00", "-1h", "yesterday"). */
  since?: string;
  /** Only entries after this journal cursor. */
  afterCursor?: string;
  follow: boolean;
}

/** Fields podunit reads; journalctl always adds __REALTIME_TIMESTAMP and __CURSOR. */
const FIELDS = ["MESSAGE", "PRIORITY", "_PID", "PODUNIT_POD", "PODUNIT_MEMBER", "SYSLOG_IDENTIFIER", "_SYSTEMD_UNIT", "UNIT"];

/**
 * journalctl's arguments for a query. Matches on different fields are ANDed,
 * on the same field ORed, and `+` ORs whole groups:
 * `PODUNIT_POD=web [PODUNIT_MEMBER=app] + _PID=1 UNIT=<unit> UNIT=<unit>...`.
 */
export function journalctlArgs(q: JournalQuery): string[] {
  const args = ["--no-pager", "--quiet", "--output=json", "--all", `--output-fields=${FIELDS.join(",")}`, `--lines=${q.lines}`];
  if (q.since !== undefined) args.push(`--since=${q.since}`);
  if (q.afterCursor !== undefined) args.push(`--after-cursor=${q.afterCursor}`);
  if (q.follow) args.push("--follow");
  args.push(`PODUNIT_POD=${q.pod}`);
  if (q.member !== undefined) args.push(`PODUNIT_MEMBER=${q.member}`);
  if (q.units.length) args.push("+", "_PID=1", ...q.units.map((u) => `UNIT=${u}`));
  return args;
}

/** Splits a byte stream into lines of text (a line may arrive in several chunks). */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
  rest += decoder.decode();
  if (rest) yield rest;
}

/** Signals that end journalctl as an interruption rather than a failure. */
const INTERRUPTS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGPIPE"];

export interface ReadOptions {
  signal?: AbortSignal;
  /** The journalctl binary; found through PATH by default. */
  journalctl?: string;
}

/**
 * Runs journalctl for `q` and hands every record to `onRecord`; returns the cursor
 * of the last record. Resolves when journalctl ends, or once it has been stopped
 * after `signal` aborted (a followed journal ends only that way). Throws when
 * journalctl cannot run or fails.
 */
export async function readJournal(q: JournalQuery, onRecord: (r: JournalRecord) => void, opts: ReadOptions = {}): Promise<string | undefined> {
  const argv = [opts.journalctl ?? "journalctl", ...journalctlArgs(q)];
  let cursor: string | undefined;
  if (opts.signal?.aborted) return cursor;
  let proc: ReturnType<typeof Bun.spawn<"ignore", "pipe", "pipe">>;
  try {
    proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  } catch (err) {
    throw new PodunitError(`Failed to run 'journalctl': ${(err as Error).message}`, {
      hint: "podunit reads logs with journalctl, which comes with systemd.",
    });
  }
  const stop = () => proc.kill("SIGTERM");
  opts.signal?.addEventListener("abort", stop, { once: true });
  const stderr = new Response(proc.stderr).text();
  try {
    for await (const line of readLines(proc.stdout)) {
      if (!line.trim()) continue;
      let record: JournalRecord;
      try {
        record = JSON.parse(line) as JournalRecord;
      } catch {
        continue; // not an entry (journalctl prints nothing else on stdout with -o json)
      }
      if (typeof record.__CURSOR === "string") cursor = record.__CURSOR;
      onRecord(record);
    }
  } catch (err) {
    stop();
    throw err;
  } finally {
    opts.signal?.removeEventListener("abort", stop);
  }
  const status = await proc.exited;
  // Stopped by us, or interrupted with podunit (Ctrl-C reaches the whole process group).
  if (opts.signal?.aborted || INTERRUPTS.includes(String(proc.signalCode))) return cursor;
  if (status !== 0) {
    const text = (await stderr).trim().split("\n").slice(-3).join(" / ");
    throw new JournalctlError(argv, status, text);
  }
  return cursor;
}

/**
 * A pod's log the way people ask for it: the last `q.lines` entries (also together
 * with `since`, where journalctl alone would give the first ones), then, when
 * following, every new entry until `signal` aborts. The backlog is read first and
 * the follow continues after its last cursor, so no entry is shown twice or lost.
 */
export async function readPodLog(q: JournalQuery, onRecord: (r: JournalRecord) => void, opts: ReadOptions = {}): Promise<void> {
  const keep = q.lines === "all" ? Infinity : q.lines;
  if (keep === 0) {
    if (q.follow) await readJournal({ ...q, since: undefined, lines: 0, follow: true }, onRecord, opts);
    return;
  }
  // journalctl's --lines counts from the start when --since is given: then read all
  // since that time and keep the last. Otherwise entries go straight through.
  const direct = q.since === undefined || keep === Infinity;
  let backlog: JournalRecord[] = [];
  const keepLast = (r: JournalRecord) => {
    backlog.push(r);
    if (backlog.length >= 2 * keep) backlog = backlog.slice(-keep);
  };
  const cursor = await readJournal({ ...q, lines: direct ? q.lines : "all", follow: false }, direct ? onRecord : keepLast, opts);
  for (const r of backlog.slice(-keep)) onRecord(r);
  if (!q.follow || opts.signal?.aborted) return;
  // Without a cursor nothing matched yet, so everything that appears is new.
  await readJournal({ ...q, lines: "all", follow: true, afterCursor: cursor, since: cursor ? undefined : q.since }, onRecord, opts);
}

/** journalctl ended with an error. */
export class JournalctlError extends PodunitError {
  constructor(
    readonly argv: string[],
    readonly status: number,
    readonly stderr: string,
  ) {
    super(`Failed to read the journal: journalctl exited with status ${status}${stderr ? `: ${stderr}` : ""}`);
  }
}
