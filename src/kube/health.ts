/**
 * A member's health check and a container's probes, both ways. podunit has one
 * check per member: its first pass gates the member's start (bounded by
 * `startup_timeout`) and, once started, `retries` failures in a row restart it.
 * On a cluster that is three probes with the same handler: a startupProbe (the
 * bound), a readinessProbe and a livenessProbe (the restarts). `play` takes any
 * of the three, as long as they run the same check. Pure. docs/kubernetes.md
 * has the table.
 */
import type { HealthSpec } from "../podspec/types.ts";
import type { Findings } from "./check.ts";
import type { TomlTable } from "./toml.ts";
import type { KPath, YamlDoc } from "./yaml.ts";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const SECOND = 1_000_000n;

export const PROBES = ["livenessProbe", "readinessProbe", "startupProbe"] as const;
type ProbeKey = (typeof PROBES)[number];

/**
 * The three probes of a health check (none when `report(key, why)` was called
 * for what a cluster cannot say: durations that are not whole seconds, a check
 * of an address other than the pod's own).
 */
export function probesOf(h: HealthSpec, report: (key: string, message: string) => void): Obj {
  let refused = false;
  const refuse = (key: string, message: string) => ((refused = true), report(key, message));
  const secs = (v: bigint, key: string): number => {
    if (v % SECOND !== 0n) refuse(`health.${key}`, "a probe's times are whole seconds: write it in seconds");
    return Number(v / SECOND);
  };
  let handler: Obj;
  const c = h.check;
  if (c.kind === "exec") handler = { exec: { command: c.argv } };
  else {
    if (c.host !== "127.0.0.1") refuse(`health.${c.kind}`, `a cluster probes the pod's own address: write 127.0.0.1, found ${c.host.includes(":") ? `[${c.host}]` : c.host}`);
    handler = c.kind === "http" ? { httpGet: { path: c.path, port: c.port } } : { tcpSocket: { port: c.port } };
  }
  const period = secs(h.interval, "interval");
  const timeout = secs(h.timeout, "timeout");
  const start = secs(h.startPeriod, "start_period");
  const startup = secs(h.startupTimeout, "startup_timeout");
  const common = { ...handler, periodSeconds: period, timeoutSeconds: timeout };
  // The startup probe's period divides the startup timeout, so failureThreshold × periodSeconds is the timeout exactly.
  const startupPeriod = period > 0 && startup % period === 0 ? period : 1;
  // With --lossy, a check a cluster cannot run as the spec says is left out whole.
  if (refused) return {};
  return {
    startupProbe: { ...handler, periodSeconds: startupPeriod, timeoutSeconds: timeout, failureThreshold: Math.max(1, Math.floor(startup / startupPeriod)) },
    readinessProbe: { ...common, failureThreshold: h.retries },
    livenessProbe: { ...common, failureThreshold: h.retries, ...(start > 0 ? { initialDelaySeconds: start } : {}) },
  };
}

/** The handler of a probe as the spec's check key and value, with a form to compare two handlers by. */
function handlerOf(f: Findings, doc: YamlDoc, at: KPath, probe: Obj, ports: Obj[]): { key: "exec" | "http" | "tcp"; value: string | string[]; same: string } | undefined {
  const given = ["exec", "httpGet", "tcpSocket", "grpc"].filter((k) => probe[k] !== undefined && probe[k] !== null);
  if (given.length !== 1) {
    f.issue(doc, at, `expected exactly one of exec, httpGet or tcpSocket, found ${given.length ? given.join(" and ") : "none"}`);
    return undefined;
  }
  const kind = given[0]!;
  if (kind === "exec") {
    const cmd = obj(probe.exec).command;
    if (!Array.isArray(cmd) || !cmd.length || cmd.some((w) => typeof w !== "string" || w === "" || w.includes("\0"))) {
      f.issue(doc, [...at, "exec", "command"], "expected the program to run and its arguments, each a non-empty string");
      return undefined;
    }
    return { key: "exec", value: cmd as string[], same: JSON.stringify(["exec", cmd]) };
  }
  const h = obj(probe[kind]);
  const port = portOf(f, doc, [...at, kind, "port"], h.port, ports);
  if (port === undefined) return undefined;
  if (kind === "tcpSocket") return { key: "tcp", value: `127.0.0.1:${port}`, same: JSON.stringify(["tcp", port]) };
  const scheme = h.scheme ?? "HTTP";
  if (scheme !== "HTTP") {
    f.issue(doc, [...at, kind, "scheme"], `expected HTTP, found ${JSON.stringify(scheme)}: a check here speaks plain http inside the pod`);
    return undefined;
  }
  const path = typeof h.path === "string" ? h.path : "/";
  if (!/^\/[^\s#]*$/.test(path)) {
    f.issue(doc, [...at, kind, "path"], `expected a path such as "/healthz" (starting with "/", no spaces), found ${JSON.stringify(path)}`);
    return undefined;
  }
  return { key: "http", value: `http://127.0.0.1:${port}${path}`, same: JSON.stringify(["http", port, path]) };
}

/** A probe's port: a number, or the name of one of the container's ports. */
function portOf(f: Findings, doc: YamlDoc, at: KPath, port: unknown, ports: Obj[]): number | undefined {
  if (typeof port === "string") {
    const named = ports.find((p) => p.name === port)?.containerPort;
    if (typeof named === "number") return named;
    f.issue(doc, at, `expected a port number or the name of one of the container's ports, found ${JSON.stringify(port)}`);
    return undefined;
  }
  if (typeof port !== "number" || port < 1 || port > 65535) {
    f.issue(doc, at, "expected a port from 1 to 65535");
    return undefined;
  }
  return port;
}

/** A whole number of at least `min` (and at most `max`), or the default; an issue otherwise. */
function count(f: Findings, doc: YamlDoc, at: KPath, v: unknown, dflt: number, min: number, max = Infinity): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) return v;
  f.issue(doc, at, `expected a whole number from ${min}${max < Infinity ? ` to ${max}` : " up"}, found ${JSON.stringify(v)}`);
  return dflt;
}

/**
 * A container's probes as `[containers.NAME.health]`, or undefined when it has
 * none. Probes running different checks are refused; timings only one probe can
 * have here (the liveness probe's win) are noted.
 */
export function playProbes(f: Findings, doc: YamlDoc, at: (...rest: (string | number)[]) => KPath, c: Obj): TomlTable | undefined {
  const given = PROBES.filter((k) => c[k] !== undefined && c[k] !== null);
  if (!given.length) return undefined;
  const ports = (Array.isArray(c.ports) ? c.ports : []).map(obj);
  const probe = (k: ProbeKey) => obj(c[k]);
  const handlers = new Map(given.map((k) => [k, handlerOf(f, doc, at(k), probe(k), ports)] as const));
  const first = given[0]!;
  const check = handlers.get(first);
  for (const k of given.slice(1)) {
    const h = handlers.get(k);
    if (check && h && h.same !== check.same) f.issue(doc, at(k), `expected the same check as ${first}: podunit runs one health check per member, found another`);
  }
  for (const k of given) {
    if (probe(k).successThreshold !== undefined && probe(k).successThreshold !== 1) f.issue(doc, at(k, "successThreshold"), "expected 1: a check here counts as passed at its first success");
  }
  if (!check) return undefined;

  const main: ProbeKey = given.includes("livenessProbe") ? "livenessProbe" : given.includes("readinessProbe") ? "readinessProbe" : "startupProbe";
  const m = probe(main);
  const interval = count(f, doc, at(main, "periodSeconds"), m.periodSeconds, 10, 1);
  const timeout = count(f, doc, at(main, "timeoutSeconds"), m.timeoutSeconds, 1, 1);
  const retries = count(f, doc, at(main, "failureThreshold"), m.failureThreshold, 3, 1, 100);
  if (timeout > interval) f.issue(doc, at(main, "timeoutSeconds"), `expected a timeout no longer than periodSeconds (${interval}): a check here ends before the next one starts`);
  const table: TomlTable = { [check.key]: check.value, interval: `${interval}s`, timeout: `${timeout}s`, retries };
  if (main === "livenessProbe") {
    const start = count(f, doc, at(main, "initialDelaySeconds"), m.initialDelaySeconds, 0, 0);
    if (start > 0) table.start_period = `${start}s`;
  }
  if (main === "readinessProbe") f.note(doc, at(main), "a readiness probe here is also a liveness probe: failureThreshold failures in a row restart the member (podunit's check is one)");
  if (main === "startupProbe") f.note(doc, at(main), "the check keeps running after the start here: failureThreshold failures in a row restart the member (podunit's check is one)");
  if (main === "livenessProbe" && !given.includes("readinessProbe")) f.note(doc, at(main), "the check's first pass also gates the member's start here (readiness): members after it wait for it");

  // The readiness probe's own timings, when they differ from the liveness probe's, cannot be kept.
  if (main === "livenessProbe" && given.includes("readinessProbe")) {
    const r = probe("readinessProbe");
    const same: [string, unknown, number][] = [["periodSeconds", r.periodSeconds, interval], ["timeoutSeconds", r.timeoutSeconds, timeout], ["failureThreshold", r.failureThreshold, retries]];
    for (const [k, v, want] of same) if (v !== undefined && v !== null && v !== want) f.note(doc, at("readinessProbe", k), `not kept: the one check here runs with the livenessProbe's ${k} (${want})`);
    if (r.initialDelaySeconds !== undefined && r.initialDelaySeconds !== null && r.initialDelaySeconds !== 0) f.note(doc, at("readinessProbe", "initialDelaySeconds"), "not kept: the check runs from the member's start, and its first pass makes the member ready");
  }
  if (given.includes("startupProbe") && main !== "startupProbe") {
    const s = probe("startupProbe");
    const delay = count(f, doc, at("startupProbe", "initialDelaySeconds"), s.initialDelaySeconds, 0, 0);
    const period = count(f, doc, at("startupProbe", "periodSeconds"), s.periodSeconds, 10, 1);
    const threshold = count(f, doc, at("startupProbe", "failureThreshold"), s.failureThreshold, 3, 1);
    const startup = delay + period * threshold;
    if (startup < timeout) f.issue(doc, at("startupProbe"), `expected initialDelaySeconds + failureThreshold × periodSeconds (${startup}) of at least the check's timeout (${timeout})`);
    table.startup_timeout = `${startup}s`;
    if (s.timeoutSeconds !== undefined && s.timeoutSeconds !== null && s.timeoutSeconds !== timeout) f.note(doc, at("startupProbe", "timeoutSeconds"), `not kept: the one check here runs with the ${main}'s timeoutSeconds (${timeout})`);
  }
  return table;
}
