/**
 * The few libc calls podunit makes directly (no process spawn for them):
 * flock(2) for per-pod locks and umount2(2) for namespace pins.
 */
import { dlopen, FFIType, ptr, read } from "bun:ffi";

let lib: ReturnType<typeof load> | undefined;

function load() {
  return dlopen("libc.so.6", {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    umount2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  }).symbols;
}

function libc() {
  lib ??= load();
  return lib;
}

function errno(): number {
  return read.i32(libc().__errno_location()!, 0);
}

export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const MNT_DETACH = 2;
export const EWOULDBLOCK = 11;
export const EINVAL = 22;
export const ENOENT = 2;

/** flock(2); returns 0 or the errno. */
export function flock(fd: number, op: number): number {
  return libc().flock(fd, op) === 0 ? 0 : errno();
}

/** umount2(2); returns 0 or the errno. */
export function umount2(path: string, flags: number): number {
  const buf = Buffer.from(path + "\0");
  return libc().umount2(ptr(buf), flags) === 0 ? 0 : errno();
}
