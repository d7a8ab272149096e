/**
 * Pod specs for the fuzz test, each made from its number alone (so a failing case
 * can be made again and shown): random specs written as TOML, fixtures with
 * random damage, and a fixed list of pathological inputs.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Case {
  id: number;
  kind: "generated" | "mutated" | "pathological";
  /** Text, or bytes for cases that must go through UTF-8 decoding. */
  input: string | Uint8Array;
}

/** mulberry32: a small, fast, seeded generator. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Rng = ReturnType<typeof rng>;

/** Names that must be refused or escaped correctly: slashes, dots, escapes, newlines, odd Unicode, edges of the grammar. */
export const ODD_NAMES = [
  "web", "a", "x-y", "a--b", "0", "a".repeat(63), "a".repeat(64), "Web", "we/b", "..", ".", "../etc", "a/../b", "/", "a\\x2db",
  "\\x2d", "x\ny", "x\r", "x\ty", "sandbox", "-a", "a-", "-", "é", "web ", " web", "", "a.b", "podunit", "a_b", "a:b", "a@b",
  "ｗｅｂ", "we\u200bb", "\u202eweb", "web\u0000", "a\u0301", "😀", "\ud800", "x".repeat(10_000), "0x1", "1e3", "*", "?", "[a]",
];
const ODD_STRINGS = [
  ...ODD_NAMES, "$HOME", "$(id)", "`id`", "a;b", "100%", "%n", "\\", '"', "'", "\u0001", "\u007f", "\u2028", "\ufeff",
  "x".repeat(70_000), "/run/podunit/other/ns/net", "../../../../etc/shadow", "/etc/shadow", "multi\nline\n[Service]\nExecStart=/bin/evil",
];
const PATHS = ["/", "//", "/srv/r", "/srv/r/", "/srv/../etc", "/srv/./r", "relative", "/run/podunit/x", "/a\nb", "/" + "d/".repeat(3000) + "x", "/ü", "/srv/r\u0000"];
const SIZES = ["512M", "1.5G", "0", "1", "8388608T", "8388609T", "512m", "512MB", "1e3", "-1", "1K", " 1K", "18446744073709551615", "0.5"];
const INTS = [0, 1, -1, 4194304, 4194305, 9007199254740991, 2 ** 53, 1e300];
const BIGS = ["9223372036854775807", "-9223372036854775808", "0x7fffffffffffffff", "0o777", "0b1", "+1", "1_000"];
const FLOATS = ["1.5", "-0.0", "inf", "-inf", "nan", "1e400", "6.02e23", "0.1"];
const DURATIONS = ["0", "1", "5", "1min 30s", "1m30s", "500ms", "365d", "366d", "-1s", "1.5", "2 h", "1x", "90"];
const PERCENTS = ["50%", "150.5%", "0%", "102400%", "102401%", "1.55%", "%", "abc"];
const USERS = ["1000", "1000:1000", "0", "4294967294", "4294967295", "root", "Root", "a".repeat(33), "1000:", ":1000", "1000:abc", "nobody"];
const TARGETS = ["multi-user.target", "getty@tty1.target", "x.service", "a b.target", ".target", "a/b.target", "t".repeat(300) + ".target"];
const POD_KEYS = ["name", "hostname", "share", "host_network", "host_ipc", "host_pid", "sandbox", "userns", "runtime", "memory_max", "cpu_quota", "tasks_max"];
const MEMBER_KEYS = [
  "kind", "command", "env", "workdir", "user", "rootfs", "readonly_rootfs", "runtime", "no_new_privileges", "memory_max", "cpu_quota",
  "tasks_max", "restart", "restart_sec", "stop_timeout", "after",
];

/** A TOML value in the making: raw TOML text for scalars, or structures. */
type V = { raw: string } | V[] | { [k: string]: V };

const str = (s: string): V => ({ raw: JSON.stringify(s) });
const raw = (s: string): V => ({ raw: s });

function key(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k);
}

function toml(v: V): string {
  if (Array.isArray(v)) return `[${v.map(toml).join(", ")}]`;
  if ("raw" in v && typeof (v as { raw: unknown }).raw === "string") return (v as { raw: string }).raw;
  return `{ ${Object.entries(v).map(([k, x]) => `${key(k)} = ${toml(x)}`).join(", ")} }`;
}

/** Any value at all, of any type, sometimes deeply nested. */
function anyValue(r: Rng, depth = 0): V {
  switch (r.int(depth > 3 ? 6 : 9)) {
    case 0: return str(r.pick(ODD_STRINGS));
    case 1: return raw(String(r.pick(INTS)));
    case 2: return raw(r.pick(BIGS));
    case 3: return raw(r.pick(FLOATS));
    case 4: return raw(r.pick(["true", "false"]));
    case 5: return raw(r.pick(["1979-05-27T07:32:00Z", "1979-05-27", "07:32:00"]));
    case 6: return Array.from({ length: r.int(4) }, () => anyValue(r, depth + 1));
    case 7: return Object.fromEntries(Array.from({ length: r.int(3) }, () => [r.pick(ODD_NAMES), anyValue(r, depth + 1)]));
    default: return str(r.pick(ODD_STRINGS).slice(0, 40));
  }
}

/** A value meant for `k`: usually of the right kind (valid or nearly), sometimes anything. */
function valueFor(r: Rng, k: string, members: string[]): V {
  if (r.chance(0.15)) return anyValue(r);
  switch (k) {
    case "name": return str(r.pick(ODD_NAMES));
    case "hostname": return str(r.pick(["web", "a.b.c", "x".repeat(64), "x".repeat(65), "-x", "a..b", "ho st", "ünï", "a\n", ...ODD_NAMES]));
    case "share": return Array.from({ length: r.int(5) }, () => str(r.pick(["net", "ipc", "uts", "pid", "mnt", "user", "NET", ""])));
    case "host_network": case "host_ipc": case "host_pid": case "readonly_rootfs": case "no_new_privileges":
      return raw(r.pick(["true", "false", '"true"']));
    case "sandbox": return str(r.pick(["runc", "native", "crun", "kata", ""]));
    case "userns": return str(r.pick(["auto", "host", "private", ""]));
    case "runtime": return str(r.pick(["crun", "runc", "kata", "", "CRUN"]));
    case "memory_max": return r.chance(0.7) ? str(r.pick(SIZES)) : raw(String(r.pick(INTS)));
    case "cpu_quota": return r.chance(0.8) ? str(r.pick(PERCENTS)) : raw(r.pick(FLOATS));
    case "tasks_max": return r.chance(0.8) ? raw(String(r.pick(INTS))) : raw(r.pick(BIGS));
    case "kind": return str(r.pick(["service", "init", "job"]));
    case "command": {
      if (r.chance(0.1)) return str("ls -l");
      const head = r.pick(["/bin/sleep", "sleep", "/usr/bin/env", "", "/bin/sh", "relative/prog", "/no/such"]);
      return [str(head), ...Array.from({ length: r.int(4) }, () => str(r.pick(ODD_STRINGS).slice(0, r.chance(0.9) ? 30 : 70_000)))];
    }
    case "env": return Object.fromEntries(Array.from({ length: r.int(4) }, () => [r.pick(["A", "PATH", "A B", "1A", "_x", "é", "LOG_LEVEL", ""]), r.chance(0.8) ? str(r.pick(ODD_STRINGS)) : anyValue(r)]));
    case "workdir": case "rootfs": return str(r.pick(PATHS));
    case "user": return r.chance(0.9) ? str(r.pick(USERS)) : raw("1000");
    case "restart": return str(r.pick(["no", "on-failure", "always", "never"]));
    case "restart_sec": case "stop_timeout": return r.chance(0.8) ? str(r.pick(DURATIONS)) : raw(String(r.pick(INTS)));
    case "after": return Array.from({ length: r.int(3) }, () => str(r.chance(0.7) && members.length ? r.pick(members) : r.pick(ODD_NAMES)));
    default: return anyValue(r);
  }
}

/** A whole spec: pod keys, maybe [install], then members with keys meant for them and some that are not. */
function generated(r: Rng): string {
  const lines: string[] = [];
  const members = Array.from({ length: r.int(6) }, () => (r.chance(0.7) ? r.pick(["web", "db", "a", "b-c", "init", "x1"]) : r.pick(ODD_NAMES)));
  for (const k of POD_KEYS) if (r.chance(0.3)) lines.push(`${key(k)} = ${toml(valueFor(r, k, members))}`);
  if (r.chance(0.1)) lines.push(`${key(r.pick(ODD_NAMES))} = ${toml(anyValue(r))}`);
  if (r.chance(0.15)) lines.push("[install]", `wanted_by = ${toml(r.chance(0.8) ? Array.from({ length: r.int(3) }, () => str(r.pick(TARGETS))) : anyValue(r))}`);
  const done = new Set<string>();
  for (const m of members) {
    if (done.has(m) && r.chance(0.8)) continue;
    done.add(m);
    lines.push(`[containers.${key(m)}]`);
    if (r.chance(0.9)) lines.push(`command = ${toml(valueFor(r, "command", members))}`);
    for (const k of MEMBER_KEYS) if (k !== "command" && r.chance(0.25)) lines.push(`${k} = ${toml(valueFor(r, k, members))}`);
    if (r.chance(0.05)) lines.push(`${r.pick(["hostname", "image", "privileged", "cmd"])} = ${toml(anyValue(r))}`);
  }
  return lines.join(r.chance(0.05) ? "\r\n" : "\n") + "\n";
}

const GOOD_NAMES = ["web", "a", "x-y", "a--b", "0", "a".repeat(63), "web1", "my-app", "db", "init", "z9"];
/** Strings a spec may carry in argv and env values: anything but NUL, newlines, quotes, shell syntax and odd Unicode included. */
const GOOD_STRINGS = ODD_STRINGS.filter((x) => !x.includes("\u0000") && x !== "\ud800");

/** A spec meant to be valid, with every value chosen to stress quoting, escaping and naming downstream. */
function valid(r: Rng): string {
  const lines: string[] = [];
  const pod = r.pick(GOOD_NAMES);
  lines.push(`name = ${JSON.stringify(pod)}`);
  const share = ["net", "ipc", "uts", "pid"].filter(() => r.chance(0.6));
  const hostNet = r.chance(0.15) && !share.includes("net");
  if (r.chance(0.7)) lines.push(`share = ${JSON.stringify(share)}`);
  if (hostNet) lines.push("host_network = true");
  if (share.includes("uts") && r.chance(0.5)) lines.push(`hostname = ${JSON.stringify(r.pick(["web", "a.b.c", "x".repeat(63), "w-1.example.org"]))}`);
  if (r.chance(0.3)) lines.push(`sandbox = ${JSON.stringify(r.pick(["crun", "runc", "native"]))}`);
  if (r.chance(0.2)) lines.push(`userns = ${JSON.stringify(r.pick(["auto", "host"]))}`);
  if (r.chance(0.3)) lines.push(`memory_max = "8388608T"`, `tasks_max = 4194304`, `cpu_quota = "102400%"`);
  if (r.chance(0.2)) lines.push("[install]", `wanted_by = ["multi-user.target", "getty@tty1.target"]`);
  const names = [...new Set(Array.from({ length: 1 + r.int(6) }, () => r.pick(GOOD_NAMES)))];
  const kinds = new Map<string, string>();
  names.forEach((m, i) => {
    const kind = r.chance(0.25) ? "init" : "service";
    kinds.set(m, kind);
    const rootfs = r.chance(0.4);
    lines.push(`[containers.${m}]`, `kind = "${kind}"`);
    const args = Array.from({ length: r.int(6) }, () => JSON.stringify(r.pick(GOOD_STRINGS).slice(0, r.chance(0.95) ? 50 : 70_000)));
    lines.push(`command = [${[JSON.stringify(r.pick(["/bin/sleep", "sleep", "/usr/bin/env", "/bin/sh"])), ...args].join(", ")}]`);
    if (rootfs) lines.push(`rootfs = ${JSON.stringify(r.pick(["/srv/r", "/var/lib/x y", "/ü/é", "/run/podunit-elsewhere"]))}`);
    if (rootfs && r.chance(0.3)) lines.push("readonly_rootfs = true");
    if (r.chance(0.3)) lines.push(`no_new_privileges = ${r.pick(["true", "false"])}`);
    if (r.chance(0.4)) lines.push(`user = ${JSON.stringify(rootfs ? r.pick(["1000", "1000:1000", "0", "4294967294"]) : r.pick(["1000", "0:0", "root", "nobody", "a_b-c"]))}`);
    if (r.chance(0.3)) lines.push(`workdir = ${JSON.stringify(r.pick(["/", "/srv/app", "/a b/ü", "/%n/$HOME"]))}`);
    if (r.chance(0.4)) {
      const env = Array.from({ length: 1 + r.int(4) }, () => `${r.pick(["A", "PATH", "_x", "LOG_LEVEL", "B1"])} = ${JSON.stringify(r.pick(GOOD_STRINGS).slice(0, 80))}`);
      lines.push(`env = { ${[...new Map(env.map((e) => [e.split(" ")[0], e])).values()].join(", ")} }`);
    }
    if (r.chance(0.3)) lines.push(`restart = "${kind === "init" ? r.pick(["no", "on-failure"]) : r.pick(["no", "on-failure", "always"])}"`);
    if (r.chance(0.3)) lines.push(`restart_sec = ${JSON.stringify(r.pick(["0", "1min 30s", "365d", "500ms"]))}`, `stop_timeout = ${JSON.stringify(r.pick(["1us", "1h 2m 3s 4ms 5us", "90"]))}`);
    if (r.chance(0.3)) lines.push(`memory_max = "1K"`, `cpu_quota = "0.1%"`, "tasks_max = 1");
    const earlier = names.slice(0, i).filter((n) => kind === "service" || kinds.get(n) === "init");
    if (earlier.length && r.chance(0.5)) lines.push(`after = ${JSON.stringify([...new Set(earlier.filter(() => r.chance(0.6)))])}`);
  });
  return lines.join("\n") + "\n";
}

const JUNK = ['"', "'", "[", "]", "{", "}", "=", ",", ".", "\n", "#", "\\", "\u0000", "é", "😀", "[[", '"""', "1e400", "-", "\\x2d", "/..", "\r"];

/** A fixture with one to three kinds of damage. */
function mutated(r: Rng, text: string): string {
  let t = text;
  for (let k = 1 + r.int(3); k > 0; k--) {
    const at = r.int(t.length + 1);
    const lines = t.split("\n");
    switch (r.int(6)) {
      case 0: t = t.slice(0, at); break;
      case 1: t = t.slice(0, at) + t.slice(at + 1 + r.int(8)); break;
      case 2: t = t.slice(0, at) + r.pick(JUNK) + t.slice(at); break;
      case 3: { const i = r.int(lines.length); lines.splice(i, 0, lines[i] ?? ""); t = lines.join("\n"); break; }
      case 4: { const [i, j] = [r.int(lines.length), r.int(lines.length)]; [lines[i], lines[j]] = [lines[j]!, lines[i]!]; t = lines.join("\n"); break; }
      default: t = t.replace(/"[^"\n]*"/g, (s) => (r.chance(0.2) ? JSON.stringify(r.pick(ODD_STRINGS).slice(0, 80)) : s));
    }
  }
  return t;
}

const te = new TextEncoder();
/** Inputs no random walk would find: depth, size, and bytes that are not text. */
const PATHOLOGICAL: Array<() => string | Uint8Array> = [
  () => `x = ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`,
  () => `x = ${"{ a = ".repeat(5_000)}1${" }".repeat(5_000)}\n`,
  () => `${Array.from({ length: 10_000 }, () => "a").join(".")} = 1\n`,
  () => `[${Array.from({ length: 10_000 }, () => "containers").join(".")}]\n`,
  () => `[containers.a]\ncommand = ["/bin/echo", "${"x".repeat(1_000_000)}"]\n`,
  () => `${"x".repeat(100_000)} = 1\n`,
  () => Array.from({ length: 2_000 }, (_, i) => `[containers.m${i}]\ncommand = ["/bin/sleep", "1"]\n${i ? `after = ["m${i - 1}"]\n` : ""}`).join(""),
  () => `[containers.a]\ncommand = ["/bin/true"]\n[containers.a.env]\n${Array.from({ length: 10_000 }, (_, i) => `V${i} = "${i}"`).join("\n")}\n`,
  () => Array.from({ length: 3_000 }, (_, i) => `[containers.m${i}]\ncommand = ["/bin/sleep", "1"]\nafter = ["m${(i + 1) % 3000}"]\n`).join(""),
  () => `[containers.a]\ncommand = ["/bin/true"]\nafter = [${Array.from({ length: 5_000 }, () => '"a"').join(", ")}]\n`,
  () => new Uint8Array([0xff, 0xfe, 0x00, 0x5b, 0xc0, 0xaf]),
  () => te.encode("\ufeff\ufeff[containers.a]\ncommand = [\"/bin/true\"]\n"),
  () => new Uint8Array([...te.encode('[containers.a]\ncommand = ["/bin/'), 0xed, 0xa0, 0x80, ...te.encode('"]\n')]),
  () => '[containers.a]\ncommand = ["/bin/true", "\\uD800", "\\u0000"]\n',
  () => "\u0000".repeat(1000),
  () => "[containers.a]\ncommand = [\"/bin/true\"]\n".repeat(500),
  () => `[containers."${"a".repeat(64)}"]\ncommand = ["/bin/true"]\n`,
  () => `name = "a"\n[containers.b]\ncommand = ["/bin/true"]\nrootfs = "/srv/r"\nuser = "nobody"\n`,
  () => `tasks_max = 99999999999999999999999\n[containers.a]\ncommand = ["/bin/true"]\n`,
  () => `memory_max = 1e309\ncpu_quota = nan\n[containers.a]\ncommand = ["/bin/true"]\n`,
];

/** How many cases of each kind the fuzz runs. */
export const COUNTS = { generated: 4000, mutated: 2500, pathological: PATHOLOGICAL.length } as const;
/** Of the generated specs, every second is meant to be valid (to reach the planner), the others anything. */
export const TOTAL = COUNTS.generated + COUNTS.mutated + COUNTS.pathological;

let fixtures: Array<[string, string]> | undefined;
function fixtureTexts(): Array<[string, string]> {
  if (!fixtures) {
    const root = join(import.meta.dir, "../../fixtures/specs");
    fixtures = ["good", "bad"].flatMap((d) =>
      readdirSync(join(root, d))
        .filter((f) => f.endsWith(".toml"))
        .sort()
        .map((f): [string, string] => [`${d}/${f}`, readFileSync(join(root, d, f), "utf8")]),
    );
  }
  return fixtures;
}

/** Case number `id` (0 ≤ id < TOTAL). */
export function makeCase(id: number): Case {
  const r = rng(id * 2654435761 + 1);
  if (id < COUNTS.generated) return { id, kind: "generated", input: id % 2 === 0 ? valid(r) : generated(r) };
  const m = id - COUNTS.generated;
  if (m < COUNTS.mutated) {
    const f = fixtureTexts();
    return { id, kind: "mutated", input: mutated(r, f[m % f.length]![1]) };
  }
  return { id, kind: "pathological", input: PATHOLOGICAL[m - COUNTS.mutated]!() };
}
