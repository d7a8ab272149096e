/**
 * Error classes that carry data. Library code throws these; only the command
 * layer (src/main.ts) turns them into a message and an exit code.
 */

/** Stable, documented exit codes (docs/exit-codes.md). */
export const ExitCode = {
  OK: 0,
  /** An operation failed: a unit failed to start, a member died, a stop timed out. */
  FAILURE: 1,
  /** The command line was wrong: unknown command or option, missing argument. */
  USAGE: 2,
  /** The pod spec is invalid (syntax, types, values, names). */
  INVALID_SPEC: 3,
  /** systemd could not be reached over D-Bus. */
  SYSTEMD_UNREACHABLE: 4,
  /** The pod, spec file or member does not exist. */
  NOT_FOUND: 5,
  /** Refused for safety or permission reasons (not root, loose file modes). */
  PERMISSION: 6,
  /** A bug in podunit: an unexpected exception reached the top. */
  INTERNAL: 70,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class: a message for a person, an exit code, and an optional hint saying what to do. */
export class PodunitError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint?: string;
  constructor(message: string, opts: { exitCode?: ExitCodeValue; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.exitCode = opts.exitCode ?? ExitCode.FAILURE;
    this.hint = opts.hint;
  }
}

/** A wrong command line. */
export class UsageError extends PodunitError {
  constructor(message: string, hint = "Run 'podunit help' for usage.") {
    super(message, { exitCode: ExitCode.USAGE, hint });
  }
}

/** One problem found in a spec file. */
export interface SpecIssue {
  /** File the spec came from ("<string>" when parsed from memory). */
  file: string;
  /** 1-based line and column, when the TOML parser or the key's position gives one. */
  line?: number;
  column?: number;
  /** Field path such as `containers.app.memory_max`; empty for whole-file errors. */
  path: string;
  /** What was expected and what was found, in one sentence. */
  message: string;
}

/** Formats one issue as `file:line:col: path: message`. */
export function formatSpecIssue(i: SpecIssue): string {
  const where = [i.file, i.line, i.line !== undefined ? i.column : undefined].filter((x) => x !== undefined).join(":");
  return `${where}: ${i.path ? `${i.path}: ` : ""}${i.message}`;
}

/** A spec with one or more problems; all problems of a file are reported together. */
export class SpecError extends PodunitError {
  readonly issues: SpecIssue[];
  constructor(issues: SpecIssue[]) {
    const head = issues.length === 1 ? "Invalid pod spec" : `Invalid pod spec (${issues.length} problems)`;
    super(`${head}:\n${issues.map((i) => `  ${formatSpecIssue(i)}`).join("\n")}`, {
      exitCode: ExitCode.INVALID_SPEC,
    });
    this.issues = issues;
  }
}

/** Something that does not exist (a pod, a spec file, a member, a unit). */
export class NotFoundError extends PodunitError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.NOT_FOUND, hint });
  }
}

/** Refused for safety or permission reasons. */
export class PermissionError extends PodunitError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.PERMISSION, hint });
  }
}

/** The system bus or systemd on it could not be reached. */
export class BusUnreachableError extends PodunitError {
  readonly address: string;
  constructor(address: string, reason: string) {
    super(`Failed to reach systemd over D-Bus at '${address}': ${reason}`, {
      exitCode: ExitCode.SYSTEMD_UNREACHABLE,
      hint: "Is systemd running as PID 1 with its system bus? Set DBUS_SYSTEM_BUS_ADDRESS to use another bus.",
    });
    this.address = address;
  }
}

/** systemd answered with an error, or a job ended with a result other than `done`. */
export class SystemdError extends PodunitError {
  /** D-Bus error name (`org.freedesktop.systemd1.UnitExists`) or job result (`failed`). */
  readonly dbusName?: string;
  readonly unit?: string;
  /** Last journal lines of the unit, when they could be read. */
  journal?: string[];
  constructor(message: string, opts: { dbusName?: string; unit?: string; hint?: string; cause?: unknown } = {}) {
    super(message, { exitCode: ExitCode.FAILURE, hint: opts.hint, cause: opts.cause });
    this.dbusName = opts.dbusName;
    this.unit = opts.unit;
  }
}

/** A child process failed. */
export class ProcessError extends PodunitError {
  readonly argv: string[];
  readonly status: number | null;
  readonly stderr: string;
  constructor(argv: string[], status: number | null, stderr: string, hint?: string) {
    const what = status === null ? "was killed" : `exited with status ${status}`;
    const tail = stderr.trim() ? `: ${stderr.trim().split("\n").slice(-3).join(" / ")}` : "";
    super(`'${argv.join(" ")}' ${what}${tail}`, { exitCode: ExitCode.FAILURE, hint });
    this.argv = argv;
    this.status = status;
    this.stderr = stderr;
  }
}
