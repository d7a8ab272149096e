/**
 * Putting podunit itself in place and taking it out again (`podunit system
 * install|uninstall`): a list of entries (files with their content, a copy of
 * the running binary, relative links, directories) written below a root.
 * Writing is idempotent: a file whose content is already there is left alone,
 * and every file is written to a temporary name first and renamed, so a running
 * binary is replaced, never changed in place.
 */
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readFileSync, readlinkSync, readdirSync, renameSync, rmdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PodunitError } from "../errors.ts";

export type InstallEntry =
  | { kind: "file"; path: string; content: string | Uint8Array; mode: number }
  | { kind: "copy"; path: string; from: string; mode: number }
  | { kind: "link"; path: string; target: string }
  /** A directory podunit owns; `keep`: never removed (it holds the administrator's files). */
  | { kind: "dir"; path: string; mode: number; keep?: boolean };

export interface SelfInstallResult {
  /** Paths (below the root) written or made. */
  changed: string[];
  /** Paths that were already as they should be. */
  unchanged: string[];
}

function failed(what: string, path: string, err: unknown): PodunitError {
  const e = err as NodeJS.ErrnoException;
  const why = e.code === "EACCES" || e.code === "EPERM" ? " (run it as root, or give --root a directory of yours)" : "";
  return new PodunitError(`Failed to ${what} '${path}': ${e.code ?? ""} ${e.message ?? String(err)}`.replace(/\s+/g, " ") + why, {
    hint: "Nothing else was changed by this step; fix the cause and run the command again: it is idempotent.",
  });
}

function sameFile(path: string, want: Uint8Array | { from: string }, mode: number): boolean {
  try {
    const st = lstatSync(path);
    if (!st.isFile() || (st.mode & 0o7777) !== mode) return false;
    const bytes = "from" in want ? readFileSync(want.from) : want;
    return st.size === bytes.length && Buffer.compare(readFileSync(path), Buffer.from(bytes)) === 0;
  } catch {
    return false;
  }
}

function isLinkTo(path: string, target: string): boolean {
  try {
    return readlinkSync(path) === target;
  } catch {
    return false;
  }
}

/** Writes every entry below `root`; returns what changed. */
export function applyInstall(root: string, entries: InstallEntry[]): SelfInstallResult {
  const r: SelfInstallResult = { changed: [], unchanged: [] };
  for (const e of entries) {
    const at = join(root, e.path);
    try {
      if (e.kind === "dir") {
        const there = statSync(at, { throwIfNoEntry: false })?.isDirectory();
        if (!there) mkdirSync(at, { recursive: true, mode: e.mode });
        (there ? r.unchanged : r.changed).push(e.path);
        continue;
      }
      mkdirSync(dirname(at), { recursive: true, mode: 0o755 });
      if (e.kind === "link") {
        if (isLinkTo(at, e.target)) r.unchanged.push(e.path);
        else {
          const tmp = `${at}.podunit-new`;
          rmSync(tmp, { force: true });
          symlinkSync(e.target, tmp);
          renameSync(tmp, at);
          r.changed.push(e.path);
        }
        continue;
      }
      const want = e.kind === "copy" ? { from: e.from } : typeof e.content === "string" ? Buffer.from(e.content) : e.content;
      if (sameFile(at, want, e.mode)) {
        r.unchanged.push(e.path);
        continue;
      }
      const tmp = `${at}.podunit-new`;
      if ("from" in want) copyFileSync(want.from, tmp);
      else writeFileSync(tmp, want);
      chmodSync(tmp, e.mode);
      renameSync(tmp, at);
      r.changed.push(e.path);
    } catch (err) {
      throw failed(e.kind === "dir" ? "make the directory" : "write", at, err);
    }
  }
  return r;
}

/**
 * Removes the entries' files and links below `root`, then their directories
 * that are empty and not kept; returns what was removed. What is not there is
 * no error.
 */
export function removeInstall(root: string, entries: InstallEntry[]): string[] {
  const removed: string[] = [];
  for (const e of entries) {
    if (e.kind === "dir") continue;
    const at = join(root, e.path);
    try {
      lstatSync(at);
    } catch {
      continue;
    }
    try {
      rmSync(at);
      removed.push(e.path);
    } catch (err) {
      throw failed("remove", at, err);
    }
  }
  for (const e of entries) {
    if (e.kind !== "dir" || e.keep) continue;
    const at = join(root, e.path);
    try {
      if (readdirSync(at).length === 0) {
        rmdirSync(at);
        removed.push(e.path);
      }
    } catch {
      // Not there, or not empty: left as it is.
    }
  }
  return removed;
}
