/**
 * Self-asserting spec fixtures: a good spec in test/fixtures/specs/good carries
 * what it must plan to as `## ` comment lines, so each fixture says what it proves
 * and checks only that (the Quadlet way). The lines and their grammar are described
 * in test/fixtures/README.md. Unit-file values are compared as written, escapes and
 * all, since how podunit writes them is the point of several fixtures.
 */
import { planToJson } from "../../src/plan/format.ts";
import { PodLayout } from "../../src/plan/layout.ts";
import { type PlanOptions, plan } from "../../src/plan/plan.ts";
import type { CgroupMode, HostFacts, Plan } from "../../src/plan/types.ts";
import { render, unitFilePlan } from "../../src/plan/unitfiles.ts";
import { parseSpec } from "../../src/podspec/parse.ts";
import { HOST, TEST_IMAGES } from "./plan-helpers.ts";
import { type UnitFileEntries, readUnitFile } from "./unitfile-reader.ts";

export interface Directive {
  line: number;
  name: string;
  /** The text after the directive's name. */
  rest: string;
}

/** A problem with a fixture: its line (0: the fixture as a whole) and what is wrong. */
export interface Finding {
  line: number;
  message: string;
}

/** A fixture's `## ` lines, and the comment on its first line that says what it proves. */
export function readDirectives(text: string): { purpose: string | undefined; directives: Directive[] } {
  const lines = text.split("\n");
  const first = /^# (\S.*)$/.exec(lines[0] ?? "");
  const directives: Directive[] = [];
  lines.forEach((l, i) => {
    if (!l.startsWith("##")) return;
    const m = /^##\s*(\S*)\s*(.*)$/.exec(l)!;
    directives.push({ line: i + 1, name: m[1]!, rest: m[2]!.trimEnd() });
  });
  return { purpose: first?.[1], directives };
}

/**
 * Splits off `count` words from the front of `s` (all of them when count is
 * undefined) and returns them with the text left after them.
 */
export function words(s: string, count?: number): { words: string[]; rest: string } {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    while (s[i] === " " || s[i] === "\t") i++;
    if (i >= s.length || (count !== undefined && out.length === count)) break;
    if (s[i] === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in ${s}`);
      out.push(s.slice(i + 1, end));
      i = end + 1;
    } else if (s[i] === '"') {
      let end = i + 1;
      while (end < s.length && s[end] !== '"') end += s[end] === "\\" ? 2 : 1;
      if (end >= s.length) throw new Error(`unterminated " in ${s}`);
      out.push(JSON.parse(s.slice(i, end + 1)) as string);
      i = end + 1;
    } else {
      const m = /^[^ \t]+/.exec(s.slice(i))!;
      out.push(m[0]);
      i += m[0].length;
    }
  }
  return { words: out, rest: s.slice(i) };
}

type Segment = string | number | "*";

/** `a.b[2].c`, `x[-1]` (from the end), `x[*].y` (over every element), `x["a.b"]`, `x.length`. */
export function parsePath(path: string): Segment[] {
  const segs: Segment[] = [];
  const re = /\.?([A-Za-z_$][\w$-]*)|\[(-?\d+)\]|\[(\*)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  let i = 0;
  while (i < path.length) {
    re.lastIndex = i;
    const m = re.exec(path);
    if (!m || (i === 0 && path[0] === ".")) throw new Error(`bad path ${path} at '${path.slice(i)}'`);
    if (m[1] !== undefined) segs.push(m[1]);
    else if (m[2] !== undefined) segs.push(Number(m[2]));
    else if (m[3] !== undefined) segs.push("*");
    else segs.push(JSON.parse(m[4]!) as string);
    i = re.lastIndex;
  }
  return segs;
}

const MISSING = Symbol("missing");

function select(v: unknown, segs: Segment[]): unknown {
  if (segs.length === 0 || v === MISSING) return v;
  const [s, ...rest] = segs;
  if (s === "*") return Array.isArray(v) ? v.map((x) => select(x, rest)) : MISSING;
  if (typeof s === "number") return Array.isArray(v) ? select(s < 0 ? v[v.length + s] ?? MISSING : v[s] ?? MISSING, rest) : MISSING;
  if (Array.isArray(v) && s === "length") return select(v.length, rest);
  if (v === null || typeof v !== "object" || !Object.hasOwn(v, s!)) return MISSING;
  return select((v as Record<string, unknown>)[s!], rest);
}

const show = (v: unknown) => (v === MISSING ? "nothing" : JSON.stringify(v));

/** What one fixture plans and renders to. */
export interface Planned {
  host: HostFacts;
  plan: Plan;
  /** The plan as `podunit plan --json` shows it. */
  json: unknown;
  units: Map<string, UnitFileEntries>;
}

/** The host facts and plan options a fixture's `## plan-with` lines ask for. */
export function planSetup(directives: Directive[]): { host: HostFacts; opts: PlanOptions; findings: Finding[] } {
  let host: HostFacts = HOST;
  const opts: PlanOptions = {};
  const findings: Finding[] = [];
  for (const d of directives.filter((x) => x.name === "plan-with")) {
    for (const w of words(d.rest).words) {
      const [k, v] = w.split("=", 2);
      if (k === "backend" && (v === "crun" || v === "runc" || v === "native")) opts.backend = v;
      else if (k === "runc" && v === "absent") host = { ...host, paths: { ...host.paths, runc: undefined } };
      else if (k === "crun" && v === "present") host = { ...host, paths: { ...host.paths, crun: "/usr/bin/crun" } };
      else if (k === "cgroup" && (v === "legacy" || v === "hybrid" || v === "unified")) host = { ...host, cgroupMode: v as CgroupMode };
      else if (k === "systemd" && /^\d+$/.test(v ?? "")) host = { ...host, systemdVersion: Number(v) };
      else if (k === "images" && v === "test") opts.images = TEST_IMAGES;
      else findings.push({ line: d.line, message: `plan-with: unknown option '${w}'` });
    }
  }
  return { host, opts, findings };
}

/** Plans a fixture as if it lived in /etc/podunit/pods, so nothing depends on the checkout's path. */
export function planFixture(file: string, text: string, host: HostFacts = HOST, opts: PlanOptions = {}): Planned {
  const name = file.replace(/\.toml$/, "");
  const p = plan(parseSpec(text, `/etc/podunit/pods/${file}`, { defaultName: name }), host, opts);
  const units = new Map(render(unitFilePlan(p, host)).map((u) => [u.name, readUnitFile(u.content)]));
  return { host, plan: p, json: JSON.parse(planToJson(p)), units };
}

type Check = (d: Directive, p: Planned) => string | undefined;

/** A unit-file directive: UNIT SECTION KEY, then what the check makes of the key's values. */
function keyCheck(minArgs: number, maxArgs: number, test: (values: string[], args: string[]) => string | undefined): Check {
  return (d, p) => {
    const { words: w } = words(d.rest);
    if (w.length < 3 + minArgs || w.length > 3 + maxArgs) return `takes UNIT SECTION KEY and ${minArgs === maxArgs ? minArgs : `${minArgs} or more`} value(s), found ${w.length} words`;
    const [unit, section, key, ...args] = w as [string, string, string, ...string[]];
    const entries = p.units.get(unit);
    if (!entries) return `no unit file '${unit}' (there are: ${[...p.units.keys()].join(" ")})`;
    const values = (entries.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
    const why = test(values, args);
    return why && `${unit} [${section}] ${key}: ${why}`;
  };
}

function jsonCheck(before: number, target: (p: Planned, args: string[]) => unknown | string): Check {
  return (d, p) => {
    const { words: w, rest } = words(d.rest, before + 1);
    if (w.length < before + 1 || rest.trim() === "") return `takes ${before ? "MEMBER " : ""}PATH JSON`;
    let want: unknown;
    try {
      want = JSON.parse(rest);
    } catch (e) {
      return `bad JSON '${rest.trim()}': ${(e as Error).message}`;
    }
    const root = target(p, w.slice(0, before));
    if (typeof root === "string") return root;
    const got = select(root, parsePath(w[before]!));
    return Bun.deepEquals(got, want, true) ? undefined : `${w.join(" ")}: expected ${JSON.stringify(want)}, found ${show(got)}`;
  };
}

/** The config.json of a member with a rootfs or an image, or of the runc sandbox. */
function ociConfig(p: Planned, member: string): unknown | string {
  const layout = new PodLayout(p.host.runDir, p.plan.pod);
  const path = `${member === "sandbox" ? layout.sandboxBundle : layout.memberBundle(member)}/config.json`;
  const f = p.plan.files.find((x) => x.path === path);
  return f ? JSON.parse(f.content) : `no file ${path} in the plan (there are: ${p.plan.files.map((x) => x.path).join(" ") || "none"})`;
}

const CHECKS: Record<string, Check> = {
  "assert-key-is": keyCheck(1, Infinity, (values, want) =>
    Bun.deepEquals(values, want) ? undefined : `expected ${JSON.stringify(want)}, found ${JSON.stringify(values)}`,
  ),
  "assert-key-contains": keyCheck(1, Infinity, (values, want) => {
    const absent = want.filter((w) => !values.includes(w));
    return absent.length ? `no value ${JSON.stringify(absent)} among ${JSON.stringify(values)}` : undefined;
  }),
  "assert-key-is-regex": keyCheck(1, Infinity, (values, res) => {
    const ok = values.length === res.length && res.every((r, i) => new RegExp(`^(?:${r})$`).test(values[i]!));
    return ok ? undefined : `expected values matching ${JSON.stringify(res)}, found ${JSON.stringify(values)}`;
  }),
  "assert-key-missing": keyCheck(0, 0, (values) => (values.length ? `expected no value, found ${JSON.stringify(values)}` : undefined)),
  "assert-unit-missing": (d, p) => {
    const w = words(d.rest).words;
    if (w.length !== 1) return "takes UNIT";
    return p.units.has(w[0]!) ? `unit file '${w[0]}' is there` : undefined;
  },
  "assert-plan": jsonCheck(0, (p) => p.json),
  "assert-oci": jsonCheck(1, (p, [member]) => ociConfig(p, member!)),
};

/**
 * Plans and renders one fixture and checks each of its assertions. Returns what
 * failed as `FILE:LINE: what differed`; empty when the fixture holds.
 */
export function checkFixture(file: string, text: string): string[] {
  const { purpose, directives } = readDirectives(text);
  const findings: Finding[] = [];
  if (purpose === undefined) findings.push({ line: 1, message: "the first line must be a comment ('# ...') saying what the fixture proves" });
  const unknown = directives.filter((d) => d.name !== "plan-with" && !(d.name in CHECKS));
  for (const d of unknown) findings.push({ line: d.line, message: `unknown directive '## ${d.name}'` });
  if (!directives.some((d) => d.name in CHECKS)) findings.push({ line: 0, message: "no assertion: a fixture must say what it plans to" });
  const setup = planSetup(directives);
  findings.push(...setup.findings);
  if (findings.length === 0) {
    let planned: Planned | undefined;
    try {
      planned = planFixture(file, text, setup.host, setup.opts);
    } catch (e) {
      findings.push({ line: 0, message: `planning failed: ${(e as Error).message}` });
    }
    for (const d of planned ? directives.filter((x) => x.name in CHECKS) : []) {
      let why: string | undefined;
      try {
        why = CHECKS[d.name]!(d, planned!);
      } catch (e) {
        why = (e as Error).message;
      }
      if (why) findings.push({ line: d.line, message: `${d.name}: ${why}` });
    }
  }
  return findings.map((f) => `${file}:${f.line}: ${f.message}`);
}
