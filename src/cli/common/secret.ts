/**
 * Reading a user name or password from the terminal (`/dev/tty`, so it works
 * with redirected standard streams) or a password from standard input. The
 * terminal is read by a shell that turns echo off and back on in a trap, so a
 * Ctrl-C at the prompt does not leave the terminal silent; the password comes
 * back through a pipe, never on a command line.
 */
import { closeSync, openSync, readFileSync } from "node:fs";
import { UsageError } from "../../errors.ts";

const READ_LINE = 'trap "stty echo 2>/dev/null" EXIT; trap "exit 130" INT TERM; printf "%s" "$1" >&2; [ "$2" = hide ] && stty -echo; IFS= read -r line; s=$?; [ "$2" = hide ] && printf "\\n" >&2; [ $s = 0 ] && printf "%s" "$line"';

/** Whether this process has a controlling terminal to prompt on. */
export function hasTerminal(): boolean {
  try {
    closeSync(openSync("/dev/tty", "r+"));
    return true;
  } catch {
    return false;
  }
}

/** Prompts on the terminal and reads one line; `hide` turns echo off while it is typed. */
export function promptTerminal(prompt: string, hide: boolean): string {
  const tty = openSync("/dev/tty", "r+");
  try {
    const r = Bun.spawnSync(["/bin/sh", "-c", READ_LINE, "sh", prompt, hide ? "hide" : "show"], { stdin: tty, stdout: "pipe", stderr: tty });
    if (r.exitCode !== 0) throw new UsageError("No input was read from the terminal.");
    return r.stdout.toString();
  } finally {
    closeSync(tty);
  }
}

/** Reads a password from standard input: everything up to the end, without one trailing newline. */
export function passwordFromStdin(): string {
  return readFileSync(0, "utf8").replace(/\r?\n$/, "");
}
