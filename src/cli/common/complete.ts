/**
 * Shell completion over the command table: given the words of a command line
 * and the index of the word being completed, the words that may stand there.
 * The shells' scripts (completion-scripts.ts) only pass the line in and hand
 * the answer back, so bash, zsh and fish complete alike. Three answers are
 * left to the shell, which knows its file system and commands best: `@file`,
 * `@dir` and `@command`.
 */
import type { OptionSpec } from "./args.ts";
import type { ArgKind, ArgSpec, Command } from "./command.ts";

/** Where the words that are not in the table come from; each returns [] when it cannot tell. */
export interface CompletionSources {
  /** Pods with a spec in the spec directory (`dir`, else the default) and pods that run. */
  pods(dir: string | undefined): Promise<string[]>;
  /** The members of a pod (a name or a spec file). */
  members(pod: string, dir: string | undefined): Promise<string[]>;
  /** Image names in the store. */
  images(): Promise<string[]>;
  /** Persistent volumes as POD/NAME. */
  volumes?(): Promise<string[]>;
}

export const SHELLS = ["bash", "zsh", "fish"] as const;

/** The arguments and options in force at a word: the verb's, or its subcommand's. */
interface Scope {
  options: OptionSpec;
  args: ArgSpec[];
  runsCommand: boolean;
  /** Index of the first word after the verb (and subcommand). */
  start: number;
}

function byPrefix(words: Iterable<string>, cur: string): string[] {
  return [...new Set(words)].filter((w) => w.startsWith(cur)).sort();
}

function kindAt(args: ArgSpec[], i: number): ArgKind | undefined {
  const last = args[args.length - 1];
  const spec = i < args.length ? args[i] : last?.endsWith("...") ? last : undefined;
  return spec?.replace("...", "") as ArgKind | undefined;
}

/** The completions of `words[cword]` (words[0] is the program). */
export async function complete(commands: Command[], words: string[], cword: number, src: CompletionSources): Promise<string[]> {
  const cur = words[cword] ?? "";
  const visible = commands.filter((c) => !c.hidden);
  if (cword <= 1) return cur.startsWith("-") ? byPrefix(["--help", "--version"], cur) : byPrefix(visible.map((c) => c.name), cur);
  const cmd = commands.find((c) => c.name === words[1]);
  if (!cmd) return [];
  let scope: Scope = { options: cmd.options, args: cmd.args, runsCommand: cmd.runsCommand === true, start: 2 };
  if (cmd.subcommands) {
    if (cword === 2) return byPrefix(cmd.subcommands.map((s) => s.name), cur);
    const sub = cmd.subcommands.find((s) => s.name === words[2]);
    if (!sub) return [];
    scope = { options: sub.options, args: sub.args, runsCommand: false, start: 3 };
  }
  return completeArgs(scope, words, cword, src, visible.map((c) => c.name));
}

async function completeArgs(scope: Scope, words: string[], cword: number, src: CompletionSources, verbs: string[]): Promise<string[]> {
  const cur = words[cword] ?? "";
  const short = new Map(Object.entries(scope.options).flatMap(([k, v]) => (v.short ? [[v.short, k] as const] : [])));
  const positionals: string[] = [];
  const values: Record<string, string> = {};
  let wantsValue: string | undefined;
  let optionsEnd = false;
  // bash splits `--dir=x` into `--dir`, `=`, `x`: the `=` joins them again.
  const joined = (i: number) => words[i - 1] === "=" && words[i - 2]?.startsWith("--");
  for (let i = scope.start; i < cword; i++) {
    const w = words[i]!;
    if (wantsValue !== undefined) {
      if (w !== "=") [values[wantsValue], wantsValue] = [w, undefined];
      continue;
    }
    if (optionsEnd || !w.startsWith("-") || w === "-") {
      positionals.push(w);
      if (scope.runsCommand && kindAt(scope.args, positionals.length - 1) === "command") optionsEnd = true;
      continue;
    }
    if (w === "--") {
      optionsEnd = true;
      continue;
    }
    const name = w.startsWith("--") ? w.slice(2).split("=")[0]! : short.get(w.slice(1));
    const opt = name === undefined ? undefined : scope.options[name];
    if (opt?.value && !w.includes("=")) wantsValue = name;
  }
  if (wantsValue === undefined && (cur === "=" || joined(cword)) && words[cword - (cur === "=" ? 1 : 2)]?.startsWith("--")) {
    wantsValue = words[cword - (cur === "=" ? 1 : 2)]!.slice(2);
  }
  if (wantsValue !== undefined) {
    const v = scope.options[wantsValue]?.values;
    const typed = cur === "=" ? "" : cur;
    if (v === "dir") return ["@dir"];
    if (v === "file") return ["@file"];
    return byPrefix(v ?? [], typed);
  }
  if (!optionsEnd && cur.startsWith("-")) {
    const names = Object.keys(scope.options).map((n) => `--${n}`);
    return byPrefix([...names, "--help"], cur);
  }
  const kind = kindAt(scope.args, positionals.length);
  const dir = values.dir;
  const files = cur.includes("/") || cur.startsWith(".") ? ["@file"] : [];
  switch (kind) {
    case "pod":
      return [...byPrefix(await src.pods(dir), cur), ...files];
    case "member":
      return byPrefix(await src.members(positionals[0]!, dir), cur);
    case "image":
      return byPrefix(await src.images(), cur);
    case "volume":
      return byPrefix((await src.volumes?.()) ?? [], cur);
    case "file":
      return ["@file"];
    case "command":
      return kindAt(scope.args, positionals.length - 1) === "command" ? ["@file"] : ["@command"];
    case "shell":
      return byPrefix(SHELLS, cur);
    case "verb":
      return byPrefix(verbs, cur);
    default:
      return [];
  }
}
