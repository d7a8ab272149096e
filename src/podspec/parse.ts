/**
 * The pod spec front end: TOML text → PodSpec, or a SpecError carrying every
 * problem in the file, each with its line, column and field path. Pure.
 */
import { SpecError, type SpecIssue } from "../errors.ts";
import { describeChar, quote } from "./describe.ts";
import { Checker, type PathIssue, type Table } from "./fields.ts";
import { indexSource, positionOf, type Seg } from "./locate.ts";
import { INHERITED_NAMES, readToml } from "./toml.ts";
import type { PodSpec } from "./types.ts";
import { validatePod } from "./validate.ts";

/** At most this many issues are listed; the rest are counted in a last line. */
export const MAX_ISSUES = 100;

/**
 * Parses and validates a pod spec. `file` names the source in messages (and in
 * PodSpec.file); the pod's name is `opts.defaultName`, else the stem of `file`
 * when it ends in ".toml". Throws SpecError with all issues of the file.
 */
export function parseSpec(text: string, file: string, opts: { defaultName?: string; nameIsStem?: boolean } = {}): PodSpec {
  // A byte order mark is not part of the text (and the TOML parser rejects it).
  const src = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const read = readToml(src);
  if (!read.ok) throw new SpecError([read.touchedBuiltins ? builtinIssue(src, file) : syntaxIssue(read.error, src, file)]);
  const raw: Table = read.value;
  const c = new Checker(() => indexSource(src));
  const v = validatePod(c, raw, opts.defaultName ?? stemOf(file), file, opts.nameIsStem);
  if (c.issues.length > 0) throw new SpecError(resolveIssues(c, c.issues, file));
  const warnings = c.warnings.length ? resolveIssues(c, c.warnings, file) : [];
  return {
    name: v.name,
    file,
    hostname: v.hostname,
    share: v.share,
    hostNetwork: v.hostNetwork,
    hostIpc: v.hostIpc,
    hostPid: v.hostPid,
    ...(v.sandbox !== undefined ? { sandbox: v.sandbox } : {}),
    ...(v.userns !== undefined ? { userns: v.userns } : {}),
    ...(v.runtime !== undefined ? { runtime: v.runtime } : {}),
    limits: v.limits,
    ...(v.install !== undefined ? { install: v.install } : {}),
    members: v.members,
    ...(v.network !== undefined ? { network: v.network } : {}),
    ...(v.ports !== undefined ? { ports: v.ports } : {}),
    ...(warnings.length ? { warnings } : {}),
    ...(v.volumes !== undefined ? { volumes: v.volumes } : {}),
  };
}

/** "web" for "/etc/podunit/pods/web.toml"; undefined when the name does not end in ".toml". */
export function stemOf(file: string): string | undefined {
  const base = file.slice(file.lastIndexOf("/") + 1);
  return base.endsWith(".toml") && base.length > ".toml".length ? base.slice(0, -".toml".length) : undefined;
}

/** Renders a key path the way TOML would write it: `containers.app.command[0]`, `env."A B"`. */
export function formatPath(path: readonly Seg[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += (out === "" ? "" : ".") + (/^[A-Za-z0-9_-]+$/.test(seg) ? seg : quote(seg));
  }
  return out;
}

/** Turns the TOML parser's error into an issue with a line and column. */
export function syntaxIssue(e: unknown, src: string, file: string): SpecIssue {
  const err = e as { message?: unknown; pos?: unknown; fromTOML?: unknown };
  const text = typeof err?.message === "string" ? err.message : String(e);
  if (typeof err?.pos !== "number" || err.fromTOML !== true) {
    return { file, path: "", message: `invalid TOML: ${text}` };
  }
  // The parser's `pos` is one past the offending character; its `col` is off by one on line 1.
  const index = Math.max(0, Math.min(err.pos - 1, src.length));
  const base = text.split(/ at row \d+, col \d+, pos \d+:/)[0]!.trim();
  let { line, column } = positionOf(src, index);
  let message: string;
  if (/^Can't redefine/.test(base)) {
    // Reported after the value; point at the start of the line instead.
    const lineText = src.split("\n")[line - 1] ?? "";
    column = positionOf(lineText, lineText.length - lineText.trimStart().length).column;
    message = "expected each key and table to be defined once, found one defined again";
  } else if (/^Unknown character/.test(base)) {
    message = `expected a key, a [table] header or a comment, found ${describeChar(src, index)}`;
  } else if (/^(Unexpected|Invalid) character/.test(base)) {
    message = `${lowerFirst(base)}, found ${describeChar(src, index)}`;
  } else {
    message = lowerFirst(base);
  }
  return { file, line, column, path: "", message: `invalid TOML: ${message}` };
}

/** Where the text used a built-in's name (such as "constructor") as a table. */
function builtinIssue(src: string, file: string): SpecIssue {
  const index = indexSource(src);
  const paths = index.paths();
  const parents = new Set(paths.map((p) => JSON.stringify(p.slice(0, -1))));
  const risky = (p: Seg[]) => typeof p[p.length - 1] === "string" && INHERITED_NAMES.has(p[p.length - 1] as string);
  const at = paths.find((p) => risky(p) && parents.has(JSON.stringify(p))) ?? paths.find(risky);
  const name = at ? String(at[at.length - 1]) : "constructor";
  const issue: SpecIssue = {
    file,
    path: at ? formatPath(at) : "",
    message: `expected a table name other than ${quote(name)}, a name the TOML reader cannot use for a table`,
  };
  const offset = at ? index.offset(at) : undefined;
  if (offset !== undefined) Object.assign(issue, positionOf(src, offset));
  return issue;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** Positions, paths and order for the checker's issues (whole-file issues first, then by position). */
export function resolveIssues(c: Checker, found: readonly PathIssue[], file: string): SpecIssue[] {
  const index = c.index();
  // Sort by offset (whole-file issues first), then turn only the issues shown into lines and columns.
  const placed = found.map((issue, order) => ({ issue, order, at: issue.path.length > 0 ? index.locate(issue.path) : undefined }));
  placed.sort((a, b) => (a.at ?? -1) - (b.at ?? -1) || a.order - b.order);
  const issues = placed.slice(0, MAX_ISSUES).map(({ issue, at }) => {
    const out: SpecIssue = { file, path: formatPath(issue.path), message: issue.message };
    if (at !== undefined) Object.assign(out, index.position(at));
    return out;
  });
  if (placed.length <= MAX_ISSUES) return issues;
  return [...issues, { file, path: "", message: `and ${placed.length - MAX_ISSUES} more problems` }];
}
