/** The shape every verb in src/cli/ exports. */
import type { OptionSpec } from "./args.ts";

/** Where a command writes; main.ts passes the real streams, tests pass buffers. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  /** Whether `out` is a terminal (progress is then redrawn in place); false when absent. */
  terminal?: boolean;
}

/**
 * What a positional argument is, so that shell completion can offer the right
 * words: a pod (a name in the spec directory, a running pod, or a spec file),
 * a member of the pod named before it, an image in the store, a file, a
 * command of the user's, a verb of podunit's, a shell's name. A trailing
 * "..." means it repeats.
 */
export type ArgKind = "pod" | "member" | "image" | "file" | "command" | "verb" | "shell" | "registry" | "volume";
export type ArgSpec = ArgKind | `${ArgKind}...`;

/** A subcommand (`image load`, `system install`): its own options and arguments. */
export interface Subcommand {
  name: string;
  options: OptionSpec;
  args: ArgSpec[];
}

export interface Command {
  name: string;
  /** One line for `podunit help`. */
  summary: string;
  /** Usage line(s) for `podunit help NAME`. */
  usage: string;
  /** Not listed by `podunit help` (helpers that units run, not people). */
  hidden?: boolean;
  /**
   * Its arguments end in a command of the user's (`exec POD MEMBER CMD...`): `--help`
   * asks for podunit's help only before the first positional argument.
   */
  runsCommand?: boolean;
  /** The options it parses (with `parseArgs`); completion and the man page read them too. */
  options: OptionSpec;
  /** Its positional arguments, in order. */
  args: ArgSpec[];
  /** Its subcommands, when it has them (then `options` and `args` are empty). */
  subcommands?: Subcommand[];
  /** Runs the verb; returns the exit code. Throws PodunitError subclasses on failure. */
  run(args: string[], io: Io): Promise<number>;
}
