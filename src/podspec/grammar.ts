/**
 * Exact parsers for the value grammars of a pod spec: sizes, percentages,
 * durations, names, users, environment names, paths and unit names.
 * The grammars are documented in docs/pod-spec.md; keep the two in step.
 *
 * Each parser returns either the value or a message of the form
 * `expected ..., found ...` (the caller adds file, position and field path).
 */
import { quote } from "./describe.ts";

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** Longest string any of the number grammars looks at; longer input is rejected unread. */
const MAX_TOKEN = 64;

// ---------------------------------------------------------------------------
// Sizes

/** 2^63: sizes must stay below it (systemd keeps them in a uint64 with the top values reserved). */
export const SIZE_LIMIT = 1n << 63n;
const SIZE_UNITS: Record<string, bigint> = { K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };
const SIZE_RE = /^([0-9]+)(?:\.([0-9]+))?([KMGT])(?:i|iB)?$|^([0-9]+)$/;
export const SIZE_EXPECTED = `a size such as "512M" or "1.5G"`;

/**
 * Parses a size into bytes.
 *
 *     size = digits                                 a number of bytes
 *          | digits [ "." digits ] unit [ "i" | "iB" ]
 *     unit = "K" | "M" | "G" | "T"                  powers of 1024
 *
 * A fraction is rounded down to a whole byte. The result must be more than 0
 * and less than 2^63.
 */
export function parseSize(s: string): Parsed<bigint> {
  const m = s.length <= MAX_TOKEN ? SIZE_RE.exec(s) : null;
  if (!m) return fail(`expected ${SIZE_EXPECTED}, found ${quote(s)}${sizeHint(s)}`);
  let bytes: bigint;
  if (m[4] !== undefined) {
    bytes = BigInt(m[4]);
  } else {
    const frac = m[2] ?? "";
    bytes = (BigInt(m[1]! + frac) * SIZE_UNITS[m[3]!]!) / 10n ** BigInt(frac.length);
  }
  if (bytes <= 0n) return fail(`expected a size greater than 0, found ${quote(s)}`);
  if (bytes >= SIZE_LIMIT) return fail(`expected a size below 8388608T (2^63 bytes), found ${quote(s)}`);
  return ok(bytes);
}

/** Suggests a fix for the common near misses: "512m", "512MB", "512 M", "1.5". */
function sizeHint(s: string): string {
  if (s.length > MAX_TOKEN) return "";
  const fixed = s
    .replace(/\s+/g, "")
    .replace(/^([0-9.]+)([kmgt])/, (_, n: string, u: string) => n + u.toUpperCase())
    .replace(/^([0-9.]+[KMGT])B$/, "$1");
  if (fixed !== s && SIZE_RE.test(fixed)) return `; did you mean ${quote(fixed)}? (units are K, M, G, T, powers of 1024)`;
  if (/^[0-9]+\.[0-9]+$/.test(s)) return "; a size without a unit is a whole number of bytes";
  return "";
}

// ---------------------------------------------------------------------------
// Percentages

/** 100% per CPU, up to 1024 CPUs. */
export const PERCENT_MAX = 100 * 1024;
const PERCENT_RE = /^([0-9]{1,7})(?:\.([0-9]))?%$/;
export const PERCENT_EXPECTED = `a percentage of one CPU such as "50%" or "150%"`;

/**
 * Parses a CPU percentage: `digits [ "." digit ] "%"`, more than 0 and at most
 * 102400 (1024 CPUs). "150%" is one and a half CPUs.
 */
export function parsePercent(s: string): Parsed<number> {
  const m = PERCENT_RE.exec(s);
  if (!m) {
    const hint = /^[0-9]+(\.[0-9])?$/.test(s) ? `; did you mean "${s}%"?` : "";
    return fail(`expected ${PERCENT_EXPECTED} (at most one decimal), found ${quote(s)}${hint}`);
  }
  const tenths = Number(m[1]) * 10 + Number(m[2] ?? "0");
  if (tenths <= 0) return fail(`expected a percentage greater than 0%, found ${quote(s)}`);
  if (tenths > PERCENT_MAX * 10) return fail(`expected at most "${PERCENT_MAX}%" (1024 CPUs), found ${quote(s)}`);
  return ok(tenths / 10);
}

// ---------------------------------------------------------------------------
// Durations

/** One year, in microseconds: the longest duration a spec may give. */
export const DURATION_MAX_USEC = 365n * 24n * 3600n * 1_000_000n;
const SECOND = 1_000_000n;
const DURATION_UNITS: Record<string, bigint> = {
  usec: 1n,
  us: 1n,
  msec: 1000n,
  ms: 1000n,
  seconds: SECOND,
  second: SECOND,
  sec: SECOND,
  s: SECOND,
  minutes: 60n * SECOND,
  minute: 60n * SECOND,
  min: 60n * SECOND,
  m: 60n * SECOND,
  hours: 3600n * SECOND,
  hour: 3600n * SECOND,
  hr: 3600n * SECOND,
  h: 3600n * SECOND,
  days: 86400n * SECOND,
  day: 86400n * SECOND,
  d: 86400n * SECOND,
};
const DURATION_BARE_RE = /^([0-9]+)(?:\.([0-9]+))?$/;
// Longer units first, so that "min" is not read as "m" followed by "in".
const DURATION_PART_RE = new RegExp(`([0-9]+)(?:\\.([0-9]+))? *(${Object.keys(DURATION_UNITS).join("|")})(?![A-Za-z])`, "y");
export const DURATION_EXPECTED = `a duration such as "90s", "1min 30s" or "500ms"`;

/** `digits [ "." digits ]` scaled by `unit` microseconds, rounded down. */
function scaled(int: string, frac: string | undefined, unit: bigint): bigint {
  const f = frac ?? "";
  return (BigInt(int + f) * unit) / 10n ** BigInt(f.length);
}

/**
 * Parses a duration into microseconds.
 *
 *     duration = number                             seconds
 *              | part { { " " } part }
 *     part     = number { " " } unit
 *     number   = digits [ "." digits ]
 *     unit     = "us" | "usec" | "ms" | "msec"
 *              | "s" | "sec" | "second" | "seconds"
 *              | "m" | "min" | "minute" | "minutes"
 *              | "h" | "hr" | "hour" | "hours"
 *              | "d" | "day" | "days"
 *
 * Parts add up ("1min 30s" is 90 seconds); fractions round down to a whole
 * microsecond. The result is at most 365d.
 */
export function parseDuration(s: string): Parsed<bigint> {
  const bad = () => fail<bigint>(`expected ${DURATION_EXPECTED}, found ${quote(s)}`);
  if (s.length === 0 || s.length > MAX_TOKEN) return bad();
  let usec = 0n;
  const bare = DURATION_BARE_RE.exec(s);
  if (bare) {
    usec = scaled(bare[1]!, bare[2], DURATION_UNITS.s!);
  } else {
    let i = 0;
    while (i < s.length) {
      DURATION_PART_RE.lastIndex = i;
      const m = DURATION_PART_RE.exec(s);
      if (!m) return bad();
      usec += scaled(m[1]!, m[2], DURATION_UNITS[m[3]!]!);
      i = DURATION_PART_RE.lastIndex;
      let j = i;
      while (s[j] === " ") j++;
      if (j > i && j === s.length) return bad();
      i = j;
    }
  }
  if (usec > DURATION_MAX_USEC) return fail(`expected a duration of at most "365d", found ${quote(s)}`);
  return ok(usec);
}

/** Seconds given as a TOML integer. */
export function durationFromSeconds(n: number): Parsed<bigint> {
  if (!Number.isSafeInteger(n) || n < 0) return fail(`expected a duration of 0 seconds or more, found ${n}`);
  const usec = BigInt(n) * 1_000_000n;
  if (usec > DURATION_MAX_USEC) return fail(`expected a duration of at most 31536000 seconds (365d), found ${n}`);
  return ok(usec);
}

// ---------------------------------------------------------------------------
// Names

export const NAME_MAX = 63;
const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const NAME_EXPECTED = `a name such as "web" or "my-app" (a-z, 0-9 and "-", starting and ending with a letter or digit, at most ${NAME_MAX} characters)`;

/** True for a DNS-1123 label of at most 63 characters. */
export function isValidName(s: string): boolean {
  return s.length <= NAME_MAX && NAME_RE.test(s);
}

/**
 * Checks a pod or member name: a DNS-1123 label `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
 * of at most 63 characters. `sandbox` is reserved among member names.
 */
export function checkName(s: string, what: "pod" | "member"): Parsed<string> {
  if (what === "member" && s === "sandbox") {
    return fail(`expected a member name other than "sandbox", which is reserved for the pod's sandbox, found "sandbox"`);
  }
  if (s.length > NAME_MAX && NAME_RE.test(s)) {
    return fail(`expected a name of at most ${NAME_MAX} characters, found ${quote(s)}${s.length <= 60 ? ` (${s.length} characters)` : ""}`);
  }
  if (isValidName(s)) return ok(s);
  const lower = s.toLowerCase();
  const hint = lower !== s && isValidName(lower) ? `; did you mean ${quote(lower)}?` : "";
  return fail(`expected ${NAME_EXPECTED}, found ${quote(s)}${hint}`);
}

/**
 * Checks a hostname: dot-separated labels of letters, digits and "-" (each
 * starting and ending with a letter or digit, at most 63 characters), at most
 * 64 characters in all (the kernel's limit).
 */
export function checkHostname(s: string): Parsed<string> {
  const label = /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$/;
  if (s.length >= 1 && s.length <= 64 && s.split(".").every((l) => label.test(l))) return ok(s);
  return fail(`expected a hostname such as "web" or "web.example" (letters, digits, "-" and ".", at most 64 characters), found ${quote(s)}`);
}

// ---------------------------------------------------------------------------
// Users

const ID_RE = /^(0|[1-9][0-9]{0,9})$/;
const USER_NAME_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
/** 2^32 - 2: the largest valid id; 2^32 - 1 means "no id" to the kernel. */
export const ID_MAX = 4294967294;
export const USER_EXPECTED = `a user such as "1000", "1000:1000" or "www-data"`;

export interface ParsedUser {
  /** The user name, when given by name. */
  name?: string;
  uid?: number;
  gid?: number;
}

/**
 * Parses a user: `uid`, `uid:gid` (decimal, no leading zeros, at most
 * 4294967294) or a user name `[a-z_][a-z0-9_-]*` of at most 32 characters.
 */
export function parseUser(s: string): Parsed<ParsedUser> {
  const bad = (extra = "") => fail<ParsedUser>(`expected ${USER_EXPECTED}, found ${quote(s)}${extra}`);
  const colon = s.indexOf(":");
  if (colon >= 0) {
    const u = s.slice(0, colon);
    const g = s.slice(colon + 1);
    if (!ID_RE.test(u) || !ID_RE.test(g)) {
      return bad(USER_NAME_RE.test(u) ? "; a group can only be given as a number after a numeric uid" : "");
    }
    const uid = Number(u);
    const gid = Number(g);
    if (uid > ID_MAX || gid > ID_MAX) return fail(`expected ids of at most ${ID_MAX}, found ${quote(s)}`);
    return ok({ uid, gid });
  }
  if (ID_RE.test(s)) {
    const uid = Number(s);
    if (uid > ID_MAX) return fail(`expected a uid of at most ${ID_MAX}, found ${quote(s)}`);
    return ok({ uid });
  }
  if (USER_NAME_RE.test(s)) return ok({ name: s });
  return bad();
}

export const IMAGE_USER_EXPECTED = `a user such as "1000", "1000:1000", "app" or "app:staff"`;

/**
 * Parses the user of an image member: `USER[:GROUP]`, each a number or a name,
 * as an image's own `User` is written. Names are looked up in the image's
 * /etc/passwd and /etc/group when the pod starts.
 */
export function parseImageUser(s: string): Parsed<string> {
  const parts = s.split(":");
  const valid = (p: string) => ID_RE.test(p) ? Number(p) <= ID_MAX : USER_NAME_RE.test(p);
  if (parts.length <= 2 && parts.every(valid)) return ok(s);
  return fail(`expected ${IMAGE_USER_EXPECTED} (numbers of at most ${ID_MAX}, names of a-z, 0-9, "_" and "-"), found ${quote(s)}`);
}

// ---------------------------------------------------------------------------
// Environment, paths, unit names

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True for an environment variable name `[A-Za-z_][A-Za-z0-9_]*`. */
export function isEnvName(s: string): boolean {
  return ENV_NAME_RE.test(s);
}

/** The longest path the kernel takes (PATH_MAX, with its terminating NUL). */
export const PATH_MAX = 4095;

/**
 * Checks an absolute, normalised path: starts with "/", no empty, "." or ".."
 * segments (so no "//" and no trailing "/"), no control characters, at most
 * 4095 characters. `allowRoot` says whether "/" itself is acceptable.
 */
export function checkAbsolutePath(s: string, allowRoot: boolean): Parsed<string> {
  const expected = `an absolute path such as "/var/lib/app"`;
  if (s.length > PATH_MAX) return fail(`expected a path of at most ${PATH_MAX} characters, found one of ${s.length}`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(s)) return fail(`expected ${expected} without control characters, found ${quote(s)}`);
  if (!s.startsWith("/")) return fail(`expected ${expected}, found the relative path ${quote(s)}`);
  if (s === "/") {
    return allowRoot ? ok(s) : fail(`expected a path other than "/" (leave rootfs out to run on the host's file system), found "/"`);
  }
  const segs = s.slice(1).split("/");
  if (segs.includes("..")) return fail(`expected ${expected} without ".." segments, found ${quote(s)}`);
  if (segs.some((x) => x === "" || x === ".")) {
    const clean = "/" + segs.filter((x) => x !== "" && x !== ".").join("/");
    return fail(`expected a normalised path (no "//", "/./" or trailing "/"), found ${quote(s)}; did you mean ${quote(clean)}?`);
  }
  return ok(s);
}

const TARGET_RE = /^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]+)?\.target$/;

/** Checks a target unit name such as "multi-user.target" (systemd's unit name characters, at most 255). */
export function checkTargetName(s: string): Parsed<string> {
  if (s.length <= 255 && TARGET_RE.test(s)) return ok(s);
  const hint = s.length <= MAX_TOKEN && /^[A-Za-z0-9:_.\\@-]+$/.test(s) && !s.includes(".") ? `; did you mean "${s}.target"?` : "";
  return fail(`expected a target unit name such as "multi-user.target", found ${quote(s)}${hint}`);
}
