/**
 * `podunit logs`: a pod's journal entries (PODUNIT_POD=<pod>, optionally
 * PODUNIT_MEMBER=<member>) and systemd's own lines about its units, one line
 * each with time and member, or as JSON; `-f` follows until interrupted.
 */
import { constants as osConstants } from "node:os";
import type { Command, Io } from "./common/command.ts";
import { DIR_OPTION, JSON_OPTION, parseArgs } from "./common/args.ts";
import { isBrokenPipe } from "./common/output.ts";
import { nameList } from "./common/verbs.ts";
import { withSystemd } from "../pods/wiring.ts";
import { podMembers, type PodMembers } from "../pods/queries.ts";
import { BusUnreachableError, NotFoundError, UsageError } from "../errors.ts";
import { memberUnitName, sandboxUnitName } from "../systemd/unitname.ts";
import { JournalctlError, readJournal, readPodLog, type JournalQuery } from "../status/journal.ts";
import { formatLogEntry, logEntryJson, toLogEntry } from "../status/logentry.ts";

/** Entries shown when -n is not given (with or without -f). */
export const DEFAULT_LINES = 50;

const OPTIONS = {
  follow: { value: false, short: "f" },
  lines: { value: true, short: "n", values: ["all", "10", "50", "100"] },
  since: { value: true, values: ["today", "yesterday", "-1h"] },
  ...JSON_OPTION,
  ...DIR_OPTION,
} as const;

const USAGE = "podunit logs POD|FILE [MEMBER] [-f|--follow] [-n N|--lines N|all] [--since TIME] [--json] [--dir DIR]";

export interface LogsArgs {
  ref: string;
  member?: string;
  follow: boolean;
  lines: number | "all";
  since?: string;
  json: boolean;
  dir?: string;
}

/** The command line of `logs`, checked. */
export function parseLogsArgs(args: string[]): LogsArgs {
  const { options, positionals } = parseArgs("logs", args, OPTIONS);
  if (positionals.length < 1 || positionals.length > 2) {
    throw new UsageError(`'podunit logs' takes a pod and optionally a member, found ${positionals.length} argument(s).`, `Usage: ${USAGE}`);
  }
  const since = options.since as string | undefined;
  if (since !== undefined && since.trim() === "") throw new UsageError("Option '--since' needs a time, found ''.");
  return {
    ref: positionals[0]!,
    member: positionals[1],
    follow: options.follow === true,
    lines: options.lines === undefined ? DEFAULT_LINES : parseLines(options.lines as string),
    since,
    json: options.json === true,
    dir: options.dir as string | undefined,
  };
}

/** `-n`: a whole number (0 and up) or "all". */
export function parseLines(v: string): number | "all" {
  if (v === "all") return "all";
  if (!/^\d{1,9}$/.test(v)) throw new UsageError(`Option '--lines' takes a whole number or 'all', found '${v}'.`);
  return Number(v);
}

/** The pod's members as far as the spec and systemd know them; a systemd that cannot be reached is no obstacle. */
async function knownMembers(a: LogsArgs, io: Io): Promise<PodMembers> {
  try {
    return await withSystemd(io.env, (sd) => podMembers(a.ref, a.dir, io.env, sd));
  } catch (err) {
    if (!(err instanceof BusUnreachableError)) throw err;
    return podMembers(a.ref, a.dir, io.env, undefined);
  }
}

/** Whether the journal holds any entry of the pod (or of one member of it). */
async function hasEntries(pod: string, member?: string): Promise<boolean> {
  let found = false;
  await readJournal({ pod, member, units: [], lines: 1, follow: false }, () => {
    found = true;
  });
  return found;
}

/** Checks that the pod (and member) exist somewhere: spec, systemd or journal. */
async function checkTarget(p: PodMembers, member: string | undefined): Promise<void> {
  const known = p.spec || p.units.size > 0;
  if (!known && !(await hasEntries(p.pod))) {
    throw new NotFoundError(
      `Failed to find pod '${p.pod}': it has no spec file, no units and no journal entries.`,
      "'podunit list' shows the pods there are.",
    );
  }
  if (member === undefined || member === "sandbox" || p.members.includes(member)) return;
  // A member that has left the spec and stopped still has its entries.
  if (await hasEntries(p.pod, member)) return;
  throw new NotFoundError(`Failed to find member '${member}' in pod '${p.pod}'.`, `Its members: ${nameList([...p.members, "sandbox"])}.`);
}

export const logs: Command = {
  name: "logs",
  summary: "Show a pod's log lines from the journal (one member's with MEMBER); -f follows",
  options: OPTIONS,
  args: ["pod", "member"],
  usage: `${USAGE}

  -f, --follow       keep printing new lines until interrupted (Ctrl-C or SIGTERM end it with status 0)
  -n, --lines N|all  the last N entries (default ${DEFAULT_LINES}; 0 with -f: only new ones)
  --since TIME       entries from TIME on, in journalctl's syntax: '2026-11-27 10:00', '-1h', 'yesterday'
  --json             one JSON object per line: time, pod, member, message, priority, pid, unit, source

Lines read 'TIME MEMBER MESSAGE', in local time; systemd's own lines about the
members' units (started, exited, restarting) start with 'systemd: '.`,
  async run(args, io) {
    const a = parseLogsArgs(args);
    const p = await knownMembers(a, io);
    await checkTarget(p, a.member);

    const shown = a.member !== undefined ? [a.member] : [...p.members, "sandbox"];
    const units = shown.map((m) => (m === "sandbox" ? sandboxUnitName(p.pod) : memberUnitName(p.pod, m)));
    const byUnit = new Map(shown.map((m, i) => [units[i]!, m]));
    const width = Math.max(...shown.map((m) => m.length));
    const query: JournalQuery = { pod: p.pod, member: a.member, units, lines: a.lines, since: a.since, follow: a.follow };

    const ac = new AbortController();
    let caught: NodeJS.Signals | undefined;
    const onSignal = (sig: NodeJS.Signals) => {
      caught ??= sig;
      ac.abort();
    };
    const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
    for (const s of signals) process.on(s, onSignal);
    // A reader that went away (`podunit logs web | head`) ends the command quietly.
    let closed = false;
    try {
      await readPodLog(
        query,
        (r) => {
          const e = toLogEntry(r, p.pod, (u) => byUnit.get(u));
          if (!e || closed) return;
          try {
            io.out(a.json ? logEntryJson(e) + "\n" : formatLogEntry(e, width, -new Date(Number(e.usec / 1000n)).getTimezoneOffset()));
          } catch (err) {
            if (!isBrokenPipe(err)) throw err;
            closed = true;
            ac.abort();
          }
        },
        { signal: ac.signal },
      );
    } catch (err) {
      if (err instanceof JournalctlError && a.since !== undefined && /parse timestamp/i.test(err.stderr)) {
        throw new UsageError(
          `Option '--since' takes a time journalctl understands, found '${a.since}'.`,
          "Use a form such as '2026-11-27 10:00', '-1h', 'today' or 'yesterday' (see systemd.time(7)).",
        );
      }
      throw err;
    } finally {
      for (const s of signals) process.off(s, onSignal);
    }
    // Following ends only by a signal, and that is its normal end.
    if (caught && !a.follow) return 128 + osConstants.signals[caught];
    return 0;
  },
};
