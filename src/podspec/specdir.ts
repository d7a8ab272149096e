/**
 * Where pod specs live, which of them there are, and how a command line names a
 * pod: by its name, or by the path of its spec file. Apart from load.ts, so that
 * a command which reads no spec (`podunit stop web`, `podunit list`) loads no spec
 * parser.
 */
import { readdirSync } from "node:fs";
import { PermissionError, PodunitError } from "../errors.ts";

/** Where pod specs live unless --dir or PODUNIT_SPEC_DIR says otherwise. */
export const DEFAULT_SPEC_DIR = "/etc/podunit/pods";

/** Lists a directory's entries that are files (or links to them); undefined when the directory does not exist. */
export type ListDir = (dir: string) => Promise<string[] | undefined>;

/** The spec directory in effect: `dir`, else PODUNIT_SPEC_DIR, else /etc/podunit/pods. */
export function specDir(opts: { dir?: string; env: Record<string, string | undefined> }): string {
  return opts.dir || opts.env.PODUNIT_SPEC_DIR || DEFAULT_SPEC_DIR;
}

/** True when `ref` names a file rather than a pod: it contains "/" or ends in ".toml". */
export function isPathRef(ref: string): boolean {
  return ref.includes("/") || ref.endsWith(".toml");
}

/** Pod names of the `*.toml` files in `dir`, sorted; empty when the directory does not exist. */
export async function listSpecs(dir: string, list: ListDir = listDirFromDisk): Promise<string[]> {
  const names = (await list(dir)) ?? [];
  return names
    .filter((n) => n.endsWith(".toml") && n.length > ".toml".length)
    .map((n) => n.slice(0, -".toml".length))
    .sort();
}

/** Errors of a missing file or directory. */
export const MISSING = new Set(["ENOENT", "ENOTDIR"]);

/** The real directory lister. */
export const listDirFromDisk: ListDir = async (dir) => {
  try {
    const entries = readdirSync(dir, { withFileTypes: true });
    return entries.filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name);
  } catch (e) {
    if (MISSING.has((e as NodeJS.ErrnoException).code ?? "")) return undefined;
    throw fileError(dir, e);
  }
};

/** The error a person reads when a spec file or directory cannot be read. */
export function fileError(path: string, e: unknown): PodunitError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = e instanceof Error ? e.message : String(e);
  if (code === "EACCES" || code === "EPERM") {
    return new PermissionError(`Failed to read '${path}': permission denied.`, "Run as root, or make the file readable.");
  }
  return new PodunitError(`Failed to read '${path}': ${why}`, { cause: e });
}
