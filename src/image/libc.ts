/**
 * The libc calls the image store needs and node:fs lacks: extended attributes on
 * the link itself (lsetxattr, lgetxattr, llistxattr), mknod(2) for device nodes
 * and overlay whiteouts, and flock(2) for the store's lock.
 */
import { dlopen, FFIType, ptr, read } from "bun:ffi";

let lib: ReturnType<typeof load> | undefined;

function load() {
  return dlopen("libc.so.6", {
    lsetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    lgetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    llistxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    mknod: { args: [FFIType.ptr, FFIType.u32, FFIType.u64], returns: FFIType.i32 },
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
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

const cstr = (s: string) => Buffer.from(s + "\0");
/** bun:ffi refuses a pointer to an empty buffer. */
const nonEmpty = (b: Uint8Array) => (b.length ? b : new Uint8Array(1));

export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const EWOULDBLOCK = 11;
export const ENODATA = 61;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

/** lsetxattr(2); returns 0 or the errno. */
export function lsetxattr(path: string, name: string, value: Uint8Array): number {
  const v = nonEmpty(value);
  return libc().lsetxattr(ptr(cstr(path)), ptr(cstr(name)), ptr(v), value.length, 0) === 0 ? 0 : errno();
}

/** lgetxattr(2); the value, or undefined when the attribute is not set. */
export function lgetxattr(path: string, name: string): Uint8Array | undefined {
  const p = cstr(path);
  const n = cstr(name);
  const buf = Buffer.alloc(65536);
  const r = Number(libc().lgetxattr(ptr(p), ptr(n), ptr(buf), buf.length));
  if (r < 0) {
    const e = errno();
    if (e === ENODATA) return undefined;
    throw new Error(`lgetxattr '${path}' '${name}': errno ${e}`);
  }
  return new Uint8Array(buf.subarray(0, r));
}

/** llistxattr(2): the names of the attributes set on the file itself. */
export function llistxattr(path: string): string[] {
  const buf = Buffer.alloc(65536);
  const r = Number(libc().llistxattr(ptr(cstr(path)), ptr(buf), buf.length));
  if (r < 0) throw new Error(`llistxattr '${path}': errno ${errno()}`);
  return buf.subarray(0, r).toString("utf8").split("\0").filter(Boolean);
}

/** makedev(3) as glibc encodes it. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

/** mknod(2); returns 0 or the errno. */
export function mknod(path: string, mode: number, major = 0, minor = 0): number {
  return libc().mknod(ptr(cstr(path)), mode, makedev(major, minor)) === 0 ? 0 : errno();
}

/** flock(2); returns 0 or the errno. */
export function flock(fd: number, op: number): number {
  return libc().flock(fd, op) === 0 ? 0 : errno();
}
