/**
 * Reading a user name or password from the terminal (`/dev/tty`, so it works
 * with redirected standard streams) or a password from standard input. Echo is
 * turned off with stty(1) while a password is typed and turned back on however
 * the prompt ends, Ctrl-C included (the read is asynchronous so the SIGINT
 * handler runs). The password never appears on a command line.
 */
import { closeSync, createReadStream, openSync, readFileSync, writeSync } from "node:fs";
import { PodunitError } from "../../errors.ts";

/** Whether this process has a controlling terminal to prompt on. */
export function hasTerminal(): boolean {
  try {
    closeSync(openSync("/dev/tty", "r+"));
    return true;
  } catch {
    return false;
  }
}

/** A terminal to ask on: one reader for every prompt (a second reader of /dev/tty would see its end at once). */
export interface Terminal {
  /** Prompts and reads one line; `hide` turns echo off while it is typed. */
  ask(prompt: string, hide: boolean): Promise<string>;
  close(): void;
}

export function openTerminal(): Terminal {
  const fd = openSync("/dev/tty", "r+");
  const stty = (arg: string) => Bun.spawnSync(["stty", arg], { stdin: fd, stdout: "ignore", stderr: "ignore" });
  // Its own descriptor: the stream closes it when destroyed.
  const input = createReadStream("/dev/tty", { encoding: "utf8" });
  let buffered = "";
  let waiting: { resolve: (line: string) => void; reject: (e: Error) => void } | undefined;
  const deliver = () => {
    const nl = buffered.indexOf("\n");
    if (nl < 0 || !waiting) return;
    const line = buffered.slice(0, nl).replace(/\r$/, "");
    buffered = buffered.slice(nl + 1);
    const w = waiting;
    waiting = undefined;
    w.resolve(line);
  };
  input.pause();
  input.on("data", (chunk) => {
    buffered += chunk;
    deliver();
  });
  input.on("end", () => waiting?.reject(new PodunitError("The terminal closed before a line was read.")));
  input.on("error", (e) => waiting?.reject(e));
  return {
    async ask(prompt, hide) {
      writeSync(fd, prompt);
      if (hide) stty("-echo");
      const onInt = () => waiting?.reject(new PodunitError("Interrupted at the prompt; nothing was stored."));
      process.once("SIGINT", onInt);
      try {
        return await new Promise<string>((resolve, reject) => {
          waiting = { resolve, reject };
          input.resume();
          deliver();
        });
      } finally {
        input.pause();
        process.off("SIGINT", onInt);
        if (hide) {
          stty("echo");
          writeSync(fd, "\n");
        }
      }
    },
    close() {
      input.destroy();
      closeSync(fd);
    },
  };
}

/** Reads a password from standard input: everything up to the end, without one trailing newline. */
export function passwordFromStdin(): string {
  return readFileSync(0, "utf8").replace(/\r?\n$/, "");
}
