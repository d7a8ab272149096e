/**
 * The command line of `podunit exec`. Options come before POD and MEMBER;
 * everything after MEMBER (or after `--`) is the command, untouched, so
 * `podunit exec web app ls -l` passes `-l` to ls. Short flags cluster (`-it`).
 */
import { UsageError } from "../../errors.ts";
import type { OptionSpec } from "./args.ts";

export const EXEC_USAGE =
  "podunit exec [-i] [-t|-T] [-u UID[:GID]] [-w DIR] [-e KEY=VALUE]... [--dir DIR] POD|FILE MEMBER [--] COMMAND [ARG...]";

export interface ExecArgs {
  ref: string;
  member: string;
  command: string[];
  /** -i: connect standard input (also the default when it is a terminal). */
  interactive: boolean;
  /** -t: true, -T/--no-tty: false, neither: decided by whether the terminal is there. */
  tty?: boolean;
  /** `uid:gid`, the gid defaulting to the uid. */
  user?: string;
  workdir?: string;
  /** KEY=VALUE, in the order given. */
  env: string[];
  dir?: string;
}

type Key = "interactive" | "tty" | "no-tty" | "user" | "workdir" | "env" | "dir";
const LONG: Record<string, { key: Key; value: boolean }> = {
  interactive: { key: "interactive", value: false },
  tty: { key: "tty", value: false },
  "no-tty": { key: "no-tty", value: false },
  user: { key: "user", value: true },
  workdir: { key: "workdir", value: true },
  env: { key: "env", value: true },
  dir: { key: "dir", value: true },
};
const SHORT: Record<string, string> = { i: "interactive", t: "tty", T: "no-tty", u: "user", w: "workdir", e: "env" };

/** The same options in the shape of every other verb's, for completion and the man page. */
export const EXEC_OPTIONS: OptionSpec = Object.fromEntries(
  Object.entries(LONG).map(([name, o]) => {
    const short = Object.keys(SHORT).find((k) => SHORT[k] === name);
    return [name, { value: o.value, ...(short ? { short } : {}), ...(name === "dir" || name === "workdir" ? { values: "dir" as const } : {}) }];
  }),
);

function unknown(a: string): UsageError {
  return new UsageError(`Unknown option '${a}' for 'podunit exec'.`, "Run 'podunit help exec' for its options.");
}

/** Parses and checks `podunit exec`'s arguments. */
export function parseExecArgs(args: string[]): ExecArgs {
  const out: Partial<ExecArgs> & { env: string[]; interactive: boolean } = { env: [], interactive: false };
  const positionals: string[] = [];
  const set = (key: Key, value: string | undefined) => {
    if (key === "interactive") out.interactive = true;
    else if (key === "tty" || key === "no-tty") {
      const want = key === "tty";
      if (out.tty !== undefined && out.tty !== want) throw new UsageError("Options '--tty' and '--no-tty' exclude each other.");
      out.tty = want;
    } else if (key === "env") out.env.push(checkEnv(value!));
    else if (key === "user") out.user = checkUser(value!);
    else if (key === "workdir") out.workdir = checkWorkdir(value!);
    else out.dir = value!;
  };
  let command: string[] | undefined;
  let i = 0;
  for (; i < args.length && positionals.length < 2; i++) {
    const a = args[i]!;
    if (a === "--") {
      const rest = args.slice(i + 1);
      const need = 2 - positionals.length;
      positionals.push(...rest.slice(0, need));
      command = rest.slice(need);
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      positionals.push(a);
      continue;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const opt = LONG[eq < 0 ? a.slice(2) : a.slice(2, eq)];
      if (!opt) throw unknown(a);
      if (!opt.value && eq >= 0) throw new UsageError(`Option '${a.slice(0, eq)}' of 'podunit exec' takes no value.`);
      const v = opt.value ? (eq >= 0 ? a.slice(eq + 1) : args[++i]) : undefined;
      if (opt.value && v === undefined) throw new UsageError(`Option '--${opt.key}' of 'podunit exec' needs a value.`);
      set(opt.key, v);
      continue;
    }
    // A cluster of short options; one that takes a value takes the rest of the word or the next one.
    for (let k = 1; k < a.length; k++) {
      const long = SHORT[a[k]!];
      if (!long) throw unknown(k === 1 ? a : `-${a[k]}`);
      const opt = LONG[long]!;
      if (!opt.value) {
        set(opt.key, undefined);
        continue;
      }
      const v = k + 1 < a.length ? a.slice(k + 1) : args[++i];
      if (v === undefined) throw new UsageError(`Option '-${a[k]}' of 'podunit exec' needs a value.`);
      set(opt.key, v);
      break;
    }
  }
  if (command === undefined) {
    command = args.slice(i);
    if (command[0] === "--") command = command.slice(1);
  }
  if (positionals.length < 2) throw new UsageError("'podunit exec' needs a pod and a member.", `Usage: ${EXEC_USAGE}`);
  if (command.length === 0) throw new UsageError("'podunit exec' needs a command to run.", `Usage: ${EXEC_USAGE}`);
  return { ...out, ref: positionals[0]!, member: positionals[1]!, command } as ExecArgs;
}

function checkEnv(v: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(v)) throw new UsageError(`Option '--env' takes KEY=VALUE, found '${v}'.`);
  return v;
}

function checkUser(v: string): string {
  const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(v);
  if (!m || Number(m[1]) > 0xfffffffe || Number(m[2] ?? 0) > 0xfffffffe) {
    throw new UsageError(`Option '--user' takes a numeric UID[:GID], found '${v}'.`);
  }
  return `${Number(m[1])}:${Number(m[2] ?? m[1])}`;
}

function checkWorkdir(v: string): string {
  if (!v.startsWith("/")) throw new UsageError(`Option '--workdir' takes an absolute path, found '${v}'.`);
  return v;
}
