/**
 * Puts a pod's unit files into a unit directory and takes them out again: for
 * `podunit generate --output`, `enable`/`disable` (/etc/systemd/system) and the
 * generator (its output directory). podunit only ever replaces or removes files it
 * wrote itself (they start with the header render.ts writes); anything else with a
 * pod unit's name, a masked unit among them, stops the install before any change.
 * `WantedBy=` becomes a `<target>.wants/<pod target>` symbolic link, the link
 * `systemctl enable` would make (`relative` links are what generators write).
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PodunitError } from "../errors.ts";
import { GENERATED_BY, type UnitFile } from "../systemd/render.ts";
import { podSliceName, podTargetName, podUnitPrefix, sandboxUnitName, unescapeUnitName } from "../systemd/unitname.ts";
import { splitWords } from "../systemd/quote.ts";
import { parsePrepareArgv, type PrepareArgs } from "../plan/unitfiles.ts";

/** Where `podunit enable` installs unit files (the administrator's unit directory). */
export const SYSTEM_UNIT_DIR = "/etc/systemd/system";

/** A pod's unit files and where its target is wanted. */
export interface PodUnits {
  pod: string;
  files: UnitFile[];
  /** Targets whose `.wants/` gets a link to the pod's target (empty: none). */
  wantedBy: string[];
}

export interface InstallResult {
  /** Files and links written or replaced. */
  written: string[];
  /** Files and links of an earlier install that the new one no longer has. */
  removed: string[];
}

/** A test for the unit-file names of `pod` (its slice, target, sandbox and member services). */
export function podUnitNameTest(pod: string): (name: string) => boolean {
  const base = podUnitPrefix(pod);
  const [slice, target] = [podSliceName(pod), podTargetName(pod)];
  return (name) => name === slice || name === target || (name.startsWith(`${base}-`) && name.endsWith(".service"));
}

/** True when `name` is a unit-file name of `pod`. */
export function isPodUnitName(pod: string, name: string): boolean {
  return podUnitNameTest(pod)(name);
}

type Entry = { kind: "missing" } | { kind: "ours"; content: string } | { kind: "foreign"; why: string };

function inspect(path: string): Entry {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return { kind: "missing" };
  }
  if (st.isSymbolicLink()) {
    const to = readlinkSync(path);
    return { kind: "foreign", why: to === "/dev/null" ? "masked: a link to /dev/null" : `a symbolic link to '${to}'` };
  }
  if (!st.isFile()) return { kind: "foreign", why: "not a regular file" };
  const content = readFileSync(path, "utf8");
  return content.startsWith(GENERATED_BY) ? { kind: "ours", content } : { kind: "foreign", why: "podunit did not write it" };
}

/** Unit files of `pod` in `dir` that podunit wrote. */
export function installedUnits(dir: string, pod: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const isPods = podUnitNameTest(pod);
  return names.filter((n) => isPods(n) && inspect(join(dir, n)).kind === "ours").sort();
}

/** Links to the pod's target in any `<unit>.wants/` or `<unit>.requires/` directory of `dir`. */
export function installedWants(dir: string, pod: string): string[] {
  const target = podTargetName(pod);
  const out: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  for (const d of names.filter((n) => n.endsWith(".wants") || n.endsWith(".requires")).sort()) {
    const link = join(dir, d, target);
    try {
      if (lstatSync(link).isSymbolicLink()) out.push(link);
    } catch {
      // No link for this pod in that directory.
    }
  }
  return out;
}

function writeAtomically(path: string, content: string): void {
  const tmp = join(path, "..", `.${path.split("/").pop()}.podunit-tmp`);
  writeFileSync(tmp, content, { mode: 0o644 });
  renameSync(tmp, path);
}

/**
 * Writes the pod's unit files into `dir`, replacing an earlier install of the same
 * pod and removing what it no longer has; with `links`, its wants links too (without,
 * links are left as they are). Checks everything
 * first: a file in the way that podunit did not write changes nothing and throws.
 */
export function installUnits(dir: string, u: PodUnits, opts: { links?: "absolute" | "relative" }): InstallResult {
  const conflicts = u.files
    .map((f) => ({ path: join(dir, f.name), entry: inspect(join(dir, f.name)) }))
    .filter((c) => c.entry.kind === "foreign");
  if (conflicts.length) {
    const list = conflicts.map((c) => `'${c.path}' (${(c.entry as { why: string }).why})`).join(", ");
    throw new PodunitError(`Failed to write the unit files of pod '${u.pod}' into '${dir}': ${list} would be overwritten.`, {
      hint: "podunit replaces only files it wrote. Move those files away (or 'systemctl unmask' a masked unit) and try again.",
    });
  }
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const written: string[] = [];
  const removed: string[] = [];
  const names = new Set(u.files.map((f) => f.name));
  for (const old of installedUnits(dir, u.pod)) {
    if (!names.has(old)) {
      rmSync(join(dir, old));
      removed.push(join(dir, old));
    }
  }
  for (const f of u.files) {
    const path = join(dir, f.name);
    const entry = inspect(path);
    if (entry.kind === "ours" && entry.content === f.content) continue;
    writeAtomically(path, f.content);
    written.push(path);
  }
  if (opts.links === undefined) return { written, removed };
  const target = podTargetName(u.pod);
  const dest = opts.links === "absolute" ? join(dir, target) : `../${target}`;
  const wanted = new Set(u.wantedBy.map((w) => join(dir, `${w}.wants`, target)));
  const kept = new Set<string>();
  for (const link of installedWants(dir, u.pod)) {
    if (wanted.has(link) && readlinkSync(link) === dest) {
      kept.add(link);
      continue;
    }
    rmSync(link);
    removed.push(link);
  }
  for (const link of wanted) {
    if (kept.has(link)) continue;
    mkdirSync(join(link, ".."), { recursive: true, mode: 0o755 });
    symlinkSync(dest, link);
    written.push(link);
  }
  return { written, removed: removed.filter((r) => !written.includes(r)) };
}

/** Removes the pod's wants links and the unit files podunit wrote for it from `dir`; returns what was removed. */
export function uninstallUnits(dir: string, pod: string): string[] {
  const removed: string[] = [];
  for (const link of installedWants(dir, pod)) {
    rmSync(link);
    removed.push(link);
  }
  for (const name of installedUnits(dir, pod)) {
    rmSync(join(dir, name));
    removed.push(join(dir, name));
  }
  return removed;
}

/** The pods whose target podunit wrote into `dir` (those `podunit enable` installed there), sorted. */
export function installedPods(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const pods = names.flatMap((n) => {
    const m = /^podunit-([^.-]+)\.target$/.exec(n);
    const pod = m ? unescapeUnitName(m[1]!) : undefined;
    return pod !== undefined && podTargetName(pod) === n && inspect(join(dir, n)).kind === "ours" ? [pod] : [];
  });
  return pods.sort();
}

/**
 * The arguments of the sandbox's prepare step in the unit file podunit wrote into
 * `dir` for `pod` (the spec file, backend and image pins the pod was enabled with);
 * undefined when there is no such file or step.
 */
export function installedPrepare(dir: string, pod: string): PrepareArgs | undefined {
  const entry = inspect(join(dir, sandboxUnitName(pod)));
  if (entry.kind !== "ours") return undefined;
  for (const line of entry.content.split("\n")) {
    if (!line.startsWith("ExecStartPre=")) continue;
    const words = splitWords(line.slice("ExecStartPre=".length).replace(/^[-@:+!]+/, ""));
    const args = words ? parsePrepareArgv(words.slice(1)) : undefined;
    if (args !== undefined && args.member === undefined) return args;
  }
  return undefined;
}
