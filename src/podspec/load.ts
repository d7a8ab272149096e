/**
 * Finds and reads pod spec files: `web` means `<dir>/web.toml`, anything with a
 * "/" or ending in ".toml" is a path. The file system sits behind two small
 * functions so tests can run without a disk.
 */
// Synchronous calls of node:fs: a spec is one small file, and node:fs/promises would cost
// every command about 1 ms to load.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { basename, resolve } from "node:path";
import { NotFoundError, PermissionError, PodunitError, SpecError, UsageError } from "../errors.ts";
import { parseSpec, stemOf } from "./parse.ts";
import type { PodSpec } from "./types.ts";
import { isValidName } from "./grammar.ts";
import { checkTrustedPath, hostPathFs, type PathFs } from "./trusted-path.ts";
import { fileError, isPathRef, MISSING, specDir } from "./specdir.ts";

export { DEFAULT_SPEC_DIR, isPathRef, listDirFromDisk, listSpecs, specDir } from "./specdir.ts";

/** The largest spec file podunit reads. */
export const MAX_SPEC_BYTES = 1024 * 1024;

/** Reads a whole file; resolves to undefined when it does not exist. */
export type ReadFile = (path: string, maxBytes: number) => Promise<Uint8Array | undefined>;

export interface LoadOptions {
  /** Directory of named specs; default env.PODUNIT_SPEC_DIR, then /etc/podunit/pods. */
  dir?: string;
  env: Record<string, string | undefined>;
  /** Base for relative paths; default the process's working directory. */
  cwd?: string;
  readFile?: ReadFile;
}

/** Where `ref` is looked for. */
export function specPath(ref: string, opts: { dir?: string; env: Record<string, string | undefined>; cwd?: string }): string {
  const cwd = opts.cwd ?? process.cwd();
  if (isPathRef(ref)) return resolve(cwd, ref);
  if (!isValidName(ref)) {
    throw new UsageError(
      `'${ref}' is neither a pod name nor a path to a .toml file.`,
      "A pod name is lower-case letters, digits and '-' (such as 'web'); a path contains '/' or ends in '.toml'.",
    );
  }
  return resolve(cwd, specDir(opts), `${ref}.toml`);
}

/** Finds, reads and validates one pod spec. */
export async function loadSpec(ref: string, opts: LoadOptions): Promise<PodSpec> {
  const path = specPath(ref, opts);
  const read = opts.readFile ?? readFileFromDisk;
  const bytes = await read(path, MAX_SPEC_BYTES + 1);
  if (bytes === undefined) {
    const named = !isPathRef(ref);
    throw new NotFoundError(
      named ? `No pod spec for '${ref}': '${path}' does not exist.` : `No pod spec at '${path}': the file does not exist.`,
      named
        ? `Looked for ${path}. Put the spec there, choose another directory with --dir or PODUNIT_SPEC_DIR, or give a path to a .toml file.`
        : `Looked for ${path}. Check the path, or give a pod name to look in ${specDir(opts)}.`,
    );
  }
  const text = decodeSpec(bytes, path);
  const stem = stemOf(path) ?? basename(path);
  return parseSpec(text, path, { defaultName: stem, nameIsStem: !isPathRef(ref) });
}

/** UTF-8 text of a spec file, or a SpecError for a file too large or not UTF-8. */
export function decodeSpec(bytes: Uint8Array, file: string): string {
  if (bytes.length > MAX_SPEC_BYTES) {
    throw new SpecError([{ file, path: "", message: `expected a file of at most ${MAX_SPEC_BYTES} bytes, found a larger one` }]);
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    let line = 1;
    let start = 0;
    for (let i = 0; i < bad; i++) {
      if (bytes[i] === 0x0a) {
        line++;
        start = i + 1;
      }
    }
    const column = [...new TextDecoder().decode(bytes.subarray(start, bad))].length + 1;
    throw new SpecError([{ file, line, column, path: "", message: `expected UTF-8 text, found the byte 0x${bytes[bad]!.toString(16).padStart(2, "0")}` }]);
  }
  return new TextDecoder("utf-8").decode(bytes);
}

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let need: number;
    let min: number;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    let cp = c & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (x & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}



/**
 * As root, a spec is read only when no one but root can change it (the file and
 * every directory above it; see src/podspec/trusted-path.ts). Throws a
 * PermissionError that names the path at fault and the command that fixes it.
 * Returns the file's device and inode, to compare with the file that was opened.
 */
export function checkSpecTrusted(path: string, fs: PathFs = hostPathFs): { dev: number; ino: number } {
  const r = checkTrustedPath(path, fs);
  if ("ok" in r) return { dev: r.ok.dev, ino: r.ok.ino };
  const u = r.untrusted;
  const what = u.path === path ? `the file ${u.problem}` : `'${u.path}' ${u.problem}`;
  throw new PermissionError(
    `Failed to read pod spec '${path}': refused, because ${what}.`,
    "podunit runs as root and does what a spec says, so it reads only specs that no one but root can change: " +
      "the file and every directory above it must belong to root and must not be writable by group or others " +
      `(as sshd asks of key files). To fix it, run: ${u.fix}`,
  );
}

/** Whether this process runs as root (and so must check the specs it reads). */
function runningAsRoot(): boolean {
  return process.geteuid?.() === 0;
}

/** The real file reader: refuses anything but a regular file, checks trust as root, and stops after `maxBytes`. */
export const readFileFromDisk: ReadFile = async (path, maxBytes) => {
  let fd: number;
  try {
    // Non-blocking: opening a FIFO put where a spec should be must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if (MISSING.has((e as NodeJS.ErrnoException).code ?? "")) return undefined;
    throw fileError(path, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new PodunitError(`Failed to read '${path}': not a regular file.`);
    if (runningAsRoot()) {
      const checked = checkSpecTrusted(path);
      if (checked.dev !== st.dev || checked.ino !== st.ino) {
        throw new PermissionError(`Failed to read pod spec '${path}': refused, because the file was replaced while it was being read.`);
      }
    }
    const buf = new Uint8Array(Math.min(maxBytes, st.size + 1));
    let got = 0;
    while (got < buf.length) {
      const bytesRead = readSync(fd, buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } catch (e) {
    throw e instanceof PodunitError ? e : fileError(path, e);
  } finally {
    closeSync(fd);
  }
};


