/**
 * The host ids podunit gives pods with `userns = "auto"`, `/etc/podunit/userns.toml`:
 * `start`, the first host id of podunit's block, and `ranges`, how many ranges of
 * 65536 ids the block holds. A missing file means the defaults; a bad one is
 * refused with every problem and its line. Pure: text in, config or error out.
 */
import { ExitCode, formatSpecIssue, PodunitError, type SpecIssue } from "../errors.ts";
import { Checker, checkKeys, get, type Table } from "./fields.ts";
import { indexSource } from "./locate.ts";
import { resolveIssues, syntaxIssue } from "./parse.ts";
import { readToml } from "./toml.ts";

/** The ids of one pod: 65536 host uids and as many gids, from `start`, seen as 0-65535 inside. */
export const RANGE_SIZE = 65536;

export interface UsernsConfig {
  /** The first host id of podunit's block; a multiple of 65536. */
  start: number;
  /** How many ranges of 65536 ids the block holds (so how many userns pods can run at once). */
  ranges: number;
}

/**
 * 0x70000000-0x7FFDFFFF: above systemd-nspawn's container range (0x80000-0x6FFFFFFF),
 * the ranges useradd hands out in /etc/subuid (from 100000) and systemd's dynamic
 * users (61184-65519), below systemd's foreign range (0x7FFE0000-0x7FFEFFFF) and
 * 2^31, past which ids read as negative numbers to some programs.
 */
export const DEFAULT_USERNS: UsernsConfig = { start: 0x70000000, ranges: 4094 };
export const USERNS_FILE = "userns.toml";
const KEYS = ["start", "ranges"] as const;
/** The highest id a range may reach: 2^32 - 2 (2^32 - 1 is the invalid id). */
const LAST_ID = 2 ** 32 - 2;

export class UsernsConfigError extends PodunitError {
  constructor(readonly issues: SpecIssue[]) {
    const head = issues.length === 1 ? "Invalid user namespace configuration" : `Invalid user namespace configuration (${issues.length} problems)`;
    super(`${head}:\n${issues.map((i) => `  ${formatSpecIssue(i)}`).join("\n")}`, {
      exitCode: ExitCode.INVALID_SPEC,
      hint: "Fix the file, or remove it to use the defaults (docs/security.md).",
    });
  }
}

function readWhole(c: Checker, t: Table, key: string): number | undefined {
  const v = get(t, key);
  if (v === undefined) return undefined;
  if (typeof v !== "bigint" && typeof v !== "number") {
    c.wrongType([key], "an integer", v);
    return undefined;
  }
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) {
    c.add([key], `expected a positive integer, found ${String(v)}`);
    return undefined;
  }
  return n;
}

/** Parses the text of a userns.toml; `file` names it in messages. Throws UsernsConfigError. */
export function parseUsernsConfig(text: string, file: string): UsernsConfig {
  const read = readToml(text);
  if (!read.ok) throw new UsernsConfigError([syntaxIssue(read.error, text, file)]);
  const t: Table = read.value;
  const c = new Checker(() => indexSource(text));
  checkKeys(c, t, [], KEYS);
  const start = readWhole(c, t, "start") ?? DEFAULT_USERNS.start;
  const ranges = readWhole(c, t, "ranges") ?? DEFAULT_USERNS.ranges;
  if (start % RANGE_SIZE !== 0 || start < RANGE_SIZE) {
    c.add(["start"], `expected a multiple of 65536 of at least 65536 (the host's own ids 0-65535 are never given to a pod), found ${start}`);
  } else if (start + ranges * RANGE_SIZE - 1 > LAST_ID) {
    c.add(["ranges"], `expected at most ${Math.floor((LAST_ID + 1 - start) / RANGE_SIZE)} ranges from start = ${start} (ids end at ${LAST_ID}), found ${ranges}`);
  }
  if (c.issues.length) throw new UsernsConfigError(resolveIssues(c, c.issues, file));
  return { start, ranges };
}
