/**
 * The few libc calls podunit makes directly (no process spawn for them):
 * flock(2) for per-pod and image-store locks, mount(2) and umount2(2) for
 * members' root file systems and pins an older podunit left, lsetxattr(2),
 * lgetxattr(2), llistxattr(2) and mknod(2) for unpacking image layers, a
 * datagram to a unix socket (journald's) for the generator, which runs before
 * anything else, and setns(2), sethostname(2) and ioctl(2) to name a sandbox
 * and bring up its loopback from outside it; isatty(3) for `exec`. Each returns
 * 0 or the errno; the module using it turns an errno into a HostError.
 */
import { dlopen, FFIType, ptr, read } from "bun:ffi";
import { EINVAL, ENODATA } from "./errno.ts";

let lib: ReturnType<typeof load> | undefined;

function load() {
  return dlopen("libc.so.6", {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    umount2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    mount: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
    lsetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    lgetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    llistxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    mknod: { args: [FFIType.ptr, FFIType.u32, FFIType.u64], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    setns: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    isatty: { args: [FFIType.i32], returns: FFIType.i32 },
    sethostname: { args: [FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
    ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
    execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    syscall: { args: [FFIType.i64, FFIType.i64, FFIType.ptr, FFIType.i64, FFIType.ptr, FFIType.i64], returns: FFIType.i64 },
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

/** flock(2); returns 0 or the errno. */
export function flock(fd: number, op: number): number {
  return libc().flock(fd, op) === 0 ? 0 : errno();
}

/** umount2(2); returns 0 or the errno. */
export function umount2(path: string, flags: number): number {
  return libc().umount2(ptr(cstr(path)), flags) === 0 ? 0 : errno();
}

const cstr = (s: string) => Buffer.from(s + "\0");
/** bun:ffi refuses a pointer to an empty buffer. */
const nonEmpty = (b: Uint8Array) => (b.length ? b : new Uint8Array(1));

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;

/** mount(2); `source` and `fstype` may be null (a remount), `data` is the file system's option string. Returns 0 or the errno. */
export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): number {
  const opt = (s: string | null) => (s === null ? null : ptr(cstr(s)));
  return libc().mount(opt(source), ptr(cstr(target)), opt(fstype), flags, opt(data)) === 0 ? 0 : errno();
}

/** lsetxattr(2); returns 0 or the errno. */
export function lsetxattr(path: string, name: string, value: Uint8Array): number {
  return libc().lsetxattr(ptr(cstr(path)), ptr(cstr(name)), ptr(nonEmpty(value)), value.length, 0) === 0 ? 0 : errno();
}

/** lgetxattr(2): the value, undefined when the attribute is not set, or the errno as a number. */
export function lgetxattr(path: string, name: string): Uint8Array | undefined | number {
  const buf = Buffer.alloc(65536);
  const r = Number(libc().lgetxattr(ptr(cstr(path)), ptr(cstr(name)), ptr(buf), buf.length));
  if (r >= 0) return new Uint8Array(buf.subarray(0, r));
  const e = errno();
  return e === ENODATA ? undefined : e;
}

/** llistxattr(2): the names of the attributes set on the file itself, or the errno. */
export function llistxattr(path: string): string[] | number {
  const buf = Buffer.alloc(65536);
  const r = Number(libc().llistxattr(ptr(cstr(path)), ptr(buf), buf.length));
  if (r < 0) return errno();
  return buf.subarray(0, r).toString("utf8").split("\0").filter(Boolean);
}

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

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

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
/** sizeof(sockaddr_un.sun_path). */
const SUN_PATH_MAX = 108;

/**
 * Sends one datagram to the unix socket at `path` without ever blocking (a full
 * or absent receiver is an error, not a wait); returns 0 or the errno.
 */
export function sendDatagram(path: string, data: Uint8Array): number {
  const name = Buffer.from(path);
  if (name.length >= SUN_PATH_MAX) return EINVAL;
  const addr = Buffer.alloc(2 + SUN_PATH_MAX);
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, 2);
  const fd = libc().socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno();
  try {
    const buf = data.length ? data : new Uint8Array(1);
    const n = libc().sendto(fd, ptr(buf), data.length, MSG_DONTWAIT | MSG_NOSIGNAL, ptr(addr), 2 + name.length + 1);
    return Number(n) < 0 ? errno() : 0;
  } finally {
    libc().close(fd);
  }
}

export const CLONE_NEWNET = 0x40000000;
export const CLONE_NEWUTS = 0x04000000;

/** setns(2) of the calling thread; returns 0 or the errno. */
export function setns(fd: number, nstype: number): number {
  return libc().setns(fd, nstype) === 0 ? 0 : errno();
}

/** sethostname(2) in the calling thread's UTS namespace; returns 0 or the errno. */
export function sethostname(name: string): number {
  const buf = Buffer.from(name);
  return libc().sethostname(ptr(buf), buf.length) === 0 ? 0 : errno();
}

const AF_INET = 2;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 1;
/** sizeof(struct ifreq); the name comes first (IFNAMSIZ bytes), then the flags (a short). */
const IFREQ_SIZE = 40;
const IFNAMSIZ = 16;

/** Sets the IFF_UP flag of a network interface in the calling thread's network namespace; returns 0 or the errno. */
export function interfaceUp(name: string): number {
  const req = Buffer.alloc(IFREQ_SIZE);
  if (Buffer.byteLength(name) >= IFNAMSIZ) return EINVAL;
  req.write(name, 0);
  const fd = libc().socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno();
  try {
    if (libc().ioctl(fd, SIOCGIFFLAGS, ptr(req)) !== 0) return errno();
    req.writeUInt16LE(req.readUInt16LE(IFNAMSIZ) | IFF_UP, IFNAMSIZ);
    return libc().ioctl(fd, SIOCSIFFLAGS, ptr(req)) === 0 ? 0 : errno();
  } finally {
    libc().close(fd);
  }
}

/** isatty(3) (node:tty would cost every podunit command about 3 ms to load). */
export function isatty(fd: number): boolean {
  return libc().isatty(fd) === 1;
}

/** A NULL-terminated array of C strings; the buffers are returned too, so they live as long as the array is used. */
function cstrArray(items: readonly string[]): { array: BigUint64Array; keep: Buffer[] } {
  const keep = items.map(cstr);
  const array = new BigUint64Array(items.length + 1);
  keep.forEach((b, i) => (array[i] = BigInt(ptr(b))));
  return { array, keep };
}

/** execve(2): replaces this process with `argv` (argv[0] an absolute path); returns only on failure, with the errno. */
export function execve(argv: readonly string[], env: Record<string, string | undefined>): number {
  const a = cstrArray(argv);
  const e = cstrArray(Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`])));
  libc().execve(ptr(a.keep[0]!), ptr(a.array), ptr(e.array));
  const n = errno();
  void [a.keep, e.keep];
  return n;
}

/** x86_64 system call numbers of the new mount API (glibc 2.36 has no wrappers for them). */
const SYS_OPEN_TREE = 428;
const SYS_MOVE_MOUNT = 429;
const SYS_MOUNT_SETATTR = 442;
const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const OPEN_TREE_CLONE = 1;
const O_CLOEXEC = 0o2000000;
const MOUNT_ATTR_IDMAP = 0x00100000;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
/** sizeof(struct mount_attr): attr_set, attr_clr, propagation, userns_fd (four u64). */
const MOUNT_ATTR_SIZE = 32;

/**
 * Mounts `source` at `target` (a bind mount of it alone, not of mounts below it) with
 * the ID map of the user namespace open at `usernsFd` (an idmapped mount, Linux 5.12):
 * open_tree(2) clones it, mount_setattr(2) sets MOUNT_ATTR_IDMAP, move_mount(2)
 * attaches it. Returns 0 or `[the call that failed, its errno]`.
 */
export function idmappedBind(source: string, target: string, usernsFd: number): 0 | [string, number] {
  const c = libc();
  const fd = Number(c.syscall(SYS_OPEN_TREE, AT_FDCWD, ptr(cstr(source)), OPEN_TREE_CLONE | O_CLOEXEC, null, 0));
  if (fd < 0) return ["open_tree", errno()];
  try {
    const attr = new BigUint64Array([BigInt(MOUNT_ATTR_IDMAP), 0n, 0n, BigInt(usernsFd)]);
    if (Number(c.syscall(SYS_MOUNT_SETATTR, fd, ptr(cstr("")), AT_EMPTY_PATH, ptr(attr), MOUNT_ATTR_SIZE)) < 0) return ["mount_setattr", errno()];
    if (Number(c.syscall(SYS_MOVE_MOUNT, fd, ptr(cstr("")), AT_FDCWD, ptr(cstr(target)), MOVE_MOUNT_F_EMPTY_PATH)) < 0) return ["move_mount", errno()];
    return 0;
  } finally {
    c.close(fd);
  }
}
