/**
 * Writing to standard output and error without Node's stream objects: touching
 * process.stdout or process.stderr sets up a stream that costs every podunit run
 * about 7 ms, more than the rest of a \`podunit stop\`. A full non-blocking pipe
 * is waited for; a reader that went away raises the write's EPIPE error.
 */
import { writeSync } from "node:fs";

/** Writes all of `text` to the file descriptor `fd`. */
export function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
      Bun.sleepSync(1);
    }
  }
}

/** True for the error a write raises when its reader has gone (\`podunit logs | head\`). */
export function isBrokenPipe(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === "EPIPE";
}
