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

/** systemd answered a call with an error, or did not answer in time. */
export class SystemdError extends PodunitError {
  /** The D-Bus error systemd answered with (`org.freedesktop.systemd1.NoSuchUnit`); undefined for time-outs. */
  readonly dbusName?: string;
  readonly unit?: string;
  constructor(message: string, opts: { dbusName?: string; unit?: string; hint?: string; cause?: unknown } = {}) {
    super(message, { exitCode: ExitCode.FAILURE, hint: opts.hint, cause: opts.cause });
    this.dbusName = opts.dbusName;
    this.unit = opts.unit;
  }
}

/** A job systemd ran for a unit ended with a result other than `done`. */
export class JobFailedError extends SystemdError {
  /** The job's result as systemd reports it in `JobRemoved`: `failed`, `dependency`, `timeout`, `canceled`, ... */
  readonly result: string;
  constructor(verb: string, unit: string, result: string) {
    super(`Failed to ${verb} '${unit}': job ended with result '${result}'`, {
      unit,
      hint: `See 'systemctl status ${unit}' and 'journalctl -u ${unit}'.`,
    });
    this.result = result;
  }
}
