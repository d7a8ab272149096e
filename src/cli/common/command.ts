/** The shape every verb in src/cli/ exports. */

/** Where a command writes; main.ts passes the real streams, tests pass buffers. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  /** Whether `out` is a terminal (progress is then redrawn in place); false when absent. */
  terminal?: boolean;
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
  /** Runs the verb; returns the exit code. Throws PodunitError subclasses on failure. */
  run(args: string[], io: Io): Promise<number>;
}
