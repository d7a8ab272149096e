/**
 * Log lines for the journal from a program that has no journal connection of its
 * own: the generator, whose standard error systemd does not collect. A message
 * goes to journald's native socket when journald runs (at daemon-reload), else
 * to the kernel log (at boot, before journald; journald reads it once it starts).
 * Neither can block: the socket send does not wait and /dev/kmsg never does.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { sendDatagram } from "./libc.ts";

export const JOURNAL_SOCKET = "/run/systemd/journal/socket";
const KMSG = "/dev/kmsg";
/** The kernel cuts longer lines; stay below it. */
const KMSG_MAX = 900;

/** syslog(3) priorities podunit uses. */
export const Priority = { ERR: 3, WARNING: 4, INFO: 6 } as const;

/** Journal fields in journald's native datagram form (values with a line break in its length-prefixed form). */
export function journalDatagram(fields: Record<string, string>): Uint8Array {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    const value = Buffer.from(v, "utf8");
    if (!value.includes(0x0a)) {
      parts.push(Buffer.from(`${k}=`), value, Buffer.from("\n"));
      continue;
    }
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(value.length));
    parts.push(Buffer.from(`${k}\n`), len, value, Buffer.from("\n"));
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** One line for /dev/kmsg: user facility, the priority, `identifier[pid]: message`. */
export function kmsgLine(identifier: string, pid: number, priority: number, message: string): string {
  const line = `<${8 + priority}>${identifier}[${pid}]: ${message.replace(/\n/g, " ")}`;
  return `${Buffer.from(line).subarray(0, KMSG_MAX).toString("utf8")}\n`;
}

/** Sends one message to the journal (or the kernel log); returns where it went, or "none". */
export function logMessage(identifier: string, priority: number, message: string, extra: Record<string, string> = {}): "journal" | "kmsg" | "none" {
  const fields = { MESSAGE: message, PRIORITY: String(priority), SYSLOG_IDENTIFIER: identifier, ...extra };
  try {
    if (sendDatagram(JOURNAL_SOCKET, journalDatagram(fields)) === 0) return "journal";
  } catch {
    // No libc to call: try the kernel log.
  }
  try {
    const fd = openSync(KMSG, "w");
    try {
      writeSync(fd, kmsgLine(identifier, process.pid, priority, message));
    } finally {
      closeSync(fd);
    }
    return "kmsg";
  } catch {
    return "none";
  }
}
