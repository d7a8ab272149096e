/**
 * What the command layer does for any command line, whichever way its verb was
 * loaded (the whole table in src/main.ts, or one verb alone: src/podunit.ts):
 * the process's streams, the error a person reads with its exit code, the exit.
 */
import type { Io } from "./command.ts";
import { ExitCode, PodunitError, UsageError } from "../../errors.ts";
import { formatMarks } from "../../trace.ts";
import { isatty } from "../../host/libc.ts";
import { VERSION } from "./about.ts";
import { writeAll } from "./output.ts";

/** The process's own streams and environment. */
export function processIo(): Io {
  return {
    out: (t) => writeAll(1, t),
    err: (t) => writeAll(2, t),
    env: process.env,
    // Asked only by the verbs that draw progress: isatty goes through libc's FFI, which every command would pay for.
    get terminal() {
      return isatty(1);
    },
  };
}

/** Turns an error into the message a person reads and the exit code. */
export function report(err: unknown, io: Io): number {
  if (err instanceof UsageError) {
    io.err(`podunit: ${err.message} ${err.hint ?? ""}`.trimEnd() + "\n");
    return err.exitCode;
  }
  if (err instanceof PodunitError) {
    io.err(`podunit: ${err.message}\n`);
    if (err.hint) io.err(`podunit: ${err.hint}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  io.err(`podunit: internal error: ${e?.message ?? String(err)}\n`);
  io.err(io.env.PODUNIT_DEBUG ? `${e?.stack ?? ""}\n` : "podunit: This is a bug in podunit " + VERSION + "; set PODUNIT_DEBUG=1 for details.\n");
  return ExitCode.INTERNAL;
}

/** Exits with the code `run` ends with, after the trace marks when PODUNIT_TRACE is set. */
export function exitWith(run: Promise<number>): void {
  void run.then((code) => {
    if (process.env.PODUNIT_TRACE) writeAll(2, formatMarks() + "\n");
    // Everything is written (synchronously) and every connection closed: exit now rather
    // than wait for the runtime to wind down its sockets and heap.
    process.exit(code);
  });
}
