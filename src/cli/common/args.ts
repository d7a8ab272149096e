import { UsageError } from "../../errors.ts";

/**
 * Declares the options a verb accepts: long name → whether it takes a value, its
 * short form, and for completion what its value is (a directory, a file, or one
 * of a few words).
 */
export type OptionSpec = Record<string, { value: boolean; short?: string; values?: "dir" | "file" | readonly string[] }>;

/** Options that many verbs share. */
export const DIR_OPTION = { dir: { value: true, values: "dir" } } as const;
export const JSON_OPTION = { json: { value: false } } as const;
export const BACKEND_OPTION = { backend: { value: true, values: ["crun", "runc", "native"] } } as const;

export interface ParsedArgs {
  options: Record<string, string | true>;
  /** Every value of each option that takes one, in order (`options` keeps the last). */
  lists: Record<string, string[]>;
  positionals: string[];
}

/**
 * Parses `--name`, `--name=value`, `--name value`, `-x` and `--` for one verb.
 * Unknown options are usage errors; everything after `--` is positional.
 */
export function parseArgs(verb: string, args: string[], spec: OptionSpec): ParsedArgs {
  const options: Record<string, string | true> = {};
  const lists: Record<string, string[]> = {};
  const positionals: string[] = [];
  const byShort = new Map(Object.entries(spec).flatMap(([k, v]) => (v.short ? [[v.short, k] as const] : [])));
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      positionals.push(a);
      continue;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      inline = eq < 0 ? undefined : a.slice(eq + 1);
    } else {
      name = byShort.get(a.slice(1));
    }
    const opt = name === undefined ? undefined : spec[name];
    if (name === undefined || opt === undefined) {
      throw new UsageError(`Unknown option '${a}' for 'podunit ${verb}'.`, `Run 'podunit help ${verb}' for its options.`);
    }
    if (opt.value) {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`Option '--${name}' of 'podunit ${verb}' needs a value.`);
      options[name] = v;
      (lists[name] ??= []).push(v);
    } else {
      if (inline !== undefined) throw new UsageError(`Option '--${name}' of 'podunit ${verb}' takes no value.`);
      options[name] = true;
    }
  }
  return { options, lists, positionals };
}
