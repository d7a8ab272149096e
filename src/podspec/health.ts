/**
 * A member's health check (`[containers.NAME.health]`): exactly one of `exec`,
 * `http` or `tcp`, and how often, how patiently and how many failures in a row
 * make the member unhealthy. Pure; every problem is recorded on the checker.
 * What happens with the check at run time: docs/health.md.
 */
import { quote } from "./describe.ts";
import { Checker, checkKeys, get, isTable, readDuration, readString, readStringArray, type Table } from "./fields.ts";
import type { Seg } from "./locate.ts";
import type { HealthCheck, HealthSpec, MemberKind } from "./types.ts";

export const HEALTH_KEYS = ["exec", "http", "tcp", "interval", "timeout", "retries", "start_period", "startup_timeout"] as const;

const HEALTH_HINTS: Record<string, string> = {
  https: "checks speak plain http inside the pod's network namespace; use http = \"http://127.0.0.1:PORT/path\"",
  test: "write the command as exec = [\"pg_isready\"], without Docker's \"CMD\" word",
};
const HEALTH_ALIASES: Record<string, string> = {
  command: "exec",
  cmd: "exec",
  url: "http",
  http_get: "http",
  tcp_socket: "tcp",
  period: "interval",
  period_seconds: "interval",
  timeout_seconds: "timeout",
  failure_threshold: "retries",
  start_interval: "start_period",
  initial_delay: "start_period",
  startup: "startup_timeout",
};

/** Defaults, in microseconds: interval 10 s, timeout 1 s, start period 0, startup timeout 60 s. */
export const HEALTH_DEFAULTS = { interval: 10_000_000n, timeout: 1_000_000n, retries: 3, startPeriod: 0n, startupTimeout: 60_000_000n } as const;

/** The shortest interval: a check every 100 ms already costs a core a good part of its time (docs/benchmarks.md). */
const MIN_INTERVAL = 100_000n;
const MAX_RETRIES = 100;

const ADDRESS_EXPECTED = `an address such as "127.0.0.1:5432" or "[::1]:5432"`;
const URL_EXPECTED = `a URL such as "http://127.0.0.1:8080/healthz"`;

/** `host:port` with an IP literal (v4, or v6 in brackets) or `localhost` (127.0.0.1); undefined when it is not one. */
export function parseHostPort(s: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+|localhost)):([0-9]{1,5})$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  if (m[1] !== undefined) return m[1].includes(":") ? { host: m[1], port } : undefined;
  const host = m[2] === "localhost" ? "127.0.0.1" : m[2]!;
  const parts = host.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255)) return undefined;
  return { host, port };
}

function readCheck(c: Checker, t: Table, path: Seg[]): HealthCheck | undefined {
  const given = (["exec", "http", "tcp"] as const).filter((k) => get(t, k) !== undefined);
  if (given.length !== 1) {
    const found = given.length === 0 ? "none" : given.join(" and ");
    c.add(path, `expected exactly one check: exec = ["pg_isready"], http = "http://127.0.0.1:8080/healthz" or tcp = "127.0.0.1:5432", found ${found}`);
    return undefined;
  }
  const key = given[0]!;
  const at = [...path, key];
  if (key === "exec") {
    const items = readStringArray(c, get(t, "exec"), at, `["pg_isready", "-h", "127.0.0.1"]`, true);
    if (items === undefined) return undefined;
    if (items.length === 0) {
      c.add(at, "expected at least the program to run, found an empty array");
      return undefined;
    }
    const bad = items.find((i) => i.value === "" || i.value.includes("\0"));
    if (bad) {
      c.add([...at, bad.index], `expected a non-empty string without NUL characters, found ${quote(bad.value)}`);
      return undefined;
    }
    return { kind: "exec", argv: items.map((i) => i.value) };
  }
  if (key === "tcp") {
    const s = readString(c, get(t, "tcp"), at, ADDRESS_EXPECTED);
    if (s === undefined) return undefined;
    const hp = parseHostPort(s);
    if (!hp) c.add(at, `expected ${ADDRESS_EXPECTED} (an IP address or localhost, and a port from 1 to 65535), found ${quote(s)}`);
    return hp && { kind: "tcp", ...hp };
  }
  const s = readString(c, get(t, "http"), at, URL_EXPECTED);
  if (s === undefined) return undefined;
  const m = /^http:\/\/([^/?#\s]+)(\/[^\s#]*)?$/.exec(s);
  const hp = m ? parseHostPort(/:[0-9]+$/.test(m[1]!) ? m[1]! : `${m[1]}:80`) : undefined;
  if (!m || !hp) {
    const why = s.startsWith("https:") ? " (checks speak plain http inside the pod)" : " (an IP address or localhost, an optional port, a path)";
    c.add(at, `expected ${URL_EXPECTED}${why}, found ${quote(s)}`);
    return undefined;
  }
  return { kind: "http", url: s, ...hp, path: m[2] ?? "/" };
}

function readRetries(c: Checker, v: unknown, path: Seg[]): number | undefined {
  if (v === undefined) return undefined;
  if (c.isInteger(v, path) && v >= 1 && v <= MAX_RETRIES) return v;
  c.wrongType(path, `an integer from 1 to ${MAX_RETRIES}`, v);
  return undefined;
}

/** Reads `[containers.NAME.health]`; undefined when absent or wrong. */
export function readHealth(c: Checker, v: unknown, member: string, kind: MemberKind): HealthSpec | undefined {
  const path: Seg[] = ["containers", member, "health"];
  if (v === undefined) return undefined;
  if (!isTable(v)) {
    c.wrongType(path, `a table such as [containers.${member}.health] with tcp = "127.0.0.1:5432"`, v);
    return undefined;
  }
  if (kind === "init") {
    c.add(path, "expected no health check on an init member (it runs to completion; members after it wait for it to finish), found one");
    return undefined;
  }
  checkKeys(c, v, path, HEALTH_KEYS, HEALTH_HINTS, HEALTH_ALIASES);
  const p = (k: string): Seg[] => [...path, k];
  const check = readCheck(c, v, path);
  const interval = readDuration(c, get(v, "interval"), p("interval"), 1n) ?? HEALTH_DEFAULTS.interval;
  const timeout = readDuration(c, get(v, "timeout"), p("timeout"), 1n) ?? HEALTH_DEFAULTS.timeout;
  const retries = readRetries(c, get(v, "retries"), p("retries")) ?? HEALTH_DEFAULTS.retries;
  const startPeriod = readDuration(c, get(v, "start_period"), p("start_period"), 0n) ?? HEALTH_DEFAULTS.startPeriod;
  const startupTimeout = readDuration(c, get(v, "startup_timeout"), p("startup_timeout"), 1n) ?? HEALTH_DEFAULTS.startupTimeout;
  const issues = c.issues.length;
  if (interval < MIN_INTERVAL) c.add(p("interval"), `expected an interval of at least 100ms, found ${quote(String(get(v, "interval")))}`);
  if (timeout > interval && get(v, "timeout") !== undefined) {
    c.add(p("timeout"), `expected a timeout no longer than the interval (${String(get(v, "interval") ?? "10s")}), found ${quote(String(get(v, "timeout")))}`);
  }
  if (timeout > startupTimeout) {
    c.add(p("startup_timeout"), `expected a startup timeout at least as long as the check's timeout, found ${quote(String(get(v, "startup_timeout") ?? "60s"))}`);
  }
  if (check === undefined || c.issues.length > issues) return undefined;
  return { check, interval, timeout, retries, startPeriod, startupTimeout };
}
