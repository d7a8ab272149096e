/**
 * Where podunit looks for the programs it runs. Apart from hostfacts.ts, whose
 * configuration readers bring in the spec parser: `podunit stop` needs this and
 * none of that.
 */
import { existsSync } from "node:fs";

/** Where programs are looked for, in order. */
export const SEARCH_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

export type Exists = (path: string) => boolean;

/** The first `<dir>/<name>` that exists, or undefined. */
export function findProgram(name: string, dirs: readonly string[] = SEARCH_PATH, exists: Exists = existsSync): string | undefined {
  for (const d of dirs) {
    const p = `${d}/${name}`;
    if (exists(p)) return p;
  }
  return undefined;
}
