/**
 * The one error type of host calls: which call failed, on what, and the errno
 * by name, so a message reads `Failed to unmount '/run/podunit/web/ns/net':
 * umount2: EBUSY (Device or resource busy)` rather than a bare number.
 */
import { PodunitError } from "../errors.ts";

/** The errnos podunit meets (Linux numbering, the same on every architecture it runs on), with the C library's text. */
const ERRNO: Record<number, readonly [name: string, text: string]> = {
  1: ["EPERM", "Operation not permitted"],
  2: ["ENOENT", "No such file or directory"],
  3: ["ESRCH", "No such process"],
  4: ["EINTR", "Interrupted system call"],
  5: ["EIO", "Input/output error"],
  6: ["ENXIO", "No such device or address"],
  9: ["EBADF", "Bad file descriptor"],
  10: ["ECHILD", "No child processes"],
  11: ["EAGAIN", "Resource temporarily unavailable"],
  12: ["ENOMEM", "Cannot allocate memory"],
  13: ["EACCES", "Permission denied"],
  16: ["EBUSY", "Device or resource busy"],
  17: ["EEXIST", "File exists"],
  19: ["ENODEV", "No such device"],
  20: ["ENOTDIR", "Not a directory"],
  21: ["EISDIR", "Is a directory"],
  22: ["EINVAL", "Invalid argument"],
  24: ["EMFILE", "Too many open files"],
  28: ["ENOSPC", "No space left on device"],
  30: ["EROFS", "Read-only file system"],
  36: ["ENAMETOOLONG", "File name too long"],
  37: ["ENOLCK", "No locks available"],
  38: ["ENOSYS", "Function not implemented"],
  39: ["ENOTEMPTY", "Directory not empty"],
  40: ["ELOOP", "Too many levels of symbolic links"],
  61: ["ENODATA", "No data available"],
  95: ["EOPNOTSUPP", "Operation not supported"],
  111: ["ECONNREFUSED", "Connection refused"],
};

export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EAGAIN = 11;
/** flock(2)'s answer for a lock held elsewhere; Linux gives it EAGAIN's number. */
export const EWOULDBLOCK = EAGAIN;
export const EINVAL = 22;
export const ENODATA = 61;

/** The symbolic name of an errno (`EBUSY`), or `errno N` for one podunit does not know. */
export function errnoName(errno: number): string {
  return ERRNO[errno]?.[0] ?? `errno ${errno}`;
}

/** The errno as a person should read it: `EBUSY (Device or resource busy)`. */
export function errnoText(errno: number): string {
  const known = ERRNO[errno];
  return known ? `${known[0]} (${known[1]})` : `errno ${errno}`;
}

/** A failed host call: what podunit tried (`unmount`), on what path, which call (`umount2`), and its errno. */
export class HostError extends PodunitError {
  readonly call: string;
  readonly path?: string;
  readonly errno: number;
  /** The errno's symbolic name, for callers that tell failures apart. */
  readonly code: string;
  constructor(what: string, call: string, errno: number, opts: { path?: string; hint?: string; cause?: unknown } = {}) {
    const where = opts.path === undefined ? "" : ` '${opts.path}'`;
    super(`Failed to ${what}${where}: ${call}: ${errnoText(errno)}`, { hint: opts.hint, cause: opts.cause });
    this.call = call;
    this.path = opts.path;
    this.errno = errno;
    this.code = errnoName(errno);
  }
}
