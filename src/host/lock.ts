/**
 * File locks: concurrent podunit commands on one pod (a file under
 * `<runDir>/locks/`), or on the image store (its `lock` file), run one after the
 * other. The lock is flock(2); the kernel drops it when the process ends, so a
 * crashed command never leaves a stale lock.
 *
 * Taking a free lock is one non-blocking flock on this thread: every `podunit
 * start` does it, and a Worker costs ~10 ms to start. Only a held lock is waited
 * for, in a Worker blocked in flock(LOCK_EX), so the waiter wakes the moment the
 * holder lets go rather than at its next poll.
 *
 * The holder may remove the file as it lets go (a stopped pod leaves no lock file
 * behind: 1,000 pods started and stopped would leave 1,000). A waiter that was
 * blocked on the removed file then holds a lock nobody else can find, so every
 * taker checks, once it holds the lock, that the file at the path is still the one
 * it locked, and starts over when it is not.
 */
import { closeSync, fstatSync, mkdirSync, openSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { PodunitError } from "../errors.ts";
import { EINTR, EWOULDBLOCK, HostError } from "./errno.ts";
import { flock, LOCK_EX, LOCK_NB } from "./libc.ts";

export interface FileLock {
  /** Lets go; with `remove`, removes the lock file first (a later taker makes it again). */
  release(opts?: { remove?: boolean }): void;
}

/** The pod lock is a file lock. */
export type PodLock = FileLock;

/** The waiter's state, shared with the Worker: the one that moves it off WAITING decides who owns the lock. */
const WAITING = 0;
const TAKEN = 1;
const ABANDONED = 2;

/**
 * The Worker's program, as text: a compiled podunit carries no separate file to
 * start a Worker from. It opens the lock file itself (so an abandoned wait never
 * touches a descriptor the main thread has closed and the kernel handed out
 * again), blocks in flock, and hands the descriptor over unless the main thread
 * gave up meanwhile, in which case it lets go at once.
 */
const WAITER = `
import { dlopen, FFIType, read } from "bun:ffi";
import { closeSync, openSync } from "node:fs";
self.onmessage = ({ data: { path, state } }) => {
  const libc = dlopen("libc.so.6", {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  }).symbols;
  const fd = openSync(path, "a", 0o600);
  for (;;) {
    if (libc.flock(fd, ${LOCK_EX}) === 0) break;
    const errno = read.i32(libc.__errno_location(), 0);
    if (errno === ${EINTR}) continue;
    closeSync(fd);
    postMessage({ errno });
    return;
  }
  if (Atomics.compareExchange(state, 0, ${WAITING}, ${TAKEN}) === ${WAITING}) postMessage({ fd });
  else closeSync(fd);
};
`;

let waiterUrl: string | undefined;

function heldBy(fd: number, path: string): FileLock {
  let held = true;
  return {
    release(opts = {}) {
      if (!held) return;
      held = false;
      try {
        if (opts.remove) unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
          closeSync(fd);
          throw err;
        }
      }
      closeSync(fd);
    },
  };
}

/** Whether `fd` (locked) is still the file at `path`: the holder before may have removed it, or it may have been made anew. */
function stillThere(fd: number, path: string): boolean {
  try {
    const at = statSync(path);
    const held = fstatSync(fd);
    return at.ino === held.ino && at.dev === held.dev;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/** Waits in a Worker for the lock at `path` for up to `timeoutMs`; `what` names the lock in errors ("pod 'web'"). */
function waitForLock(path: string, what: string, timeoutMs: number, onTimeout: () => Error): Promise<FileLock> {
  waiterUrl ??= URL.createObjectURL(new Blob([WAITER], { type: "application/javascript" }));
  const state = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + timeoutMs;
  const worker = new Worker(waiterUrl);
  return new Promise<FileLock>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Taken meanwhile: its message is on the way and settles the wait.
      if (Atomics.compareExchange(state, 0, WAITING, ABANDONED) !== WAITING) return;
      // The Worker stays blocked until the holder lets go, then closes its descriptor; it must not keep podunit running.
      worker.unref();
      reject(onTimeout());
    }, timeoutMs);
    const settle = () => {
      clearTimeout(timer);
      worker.terminate();
    };
    worker.onmessage = (e: MessageEvent<{ fd?: number; errno?: number }>) => {
      settle();
      const fd = e.data.fd;
      if (fd === undefined) reject(new HostError(`lock ${what} at`, "flock", e.data.errno ?? 0, { path }));
      else if (stillThere(fd, path)) resolve(heldBy(fd, path));
      else {
        // The holder removed the file as it let go: lock the one at the path now, in the time left.
        closeSync(fd);
        lockFile(path, what, Math.max(0, deadline - Date.now()), onTimeout).then(resolve, reject);
      }
    };
    worker.onerror = (e: ErrorEvent) => {
      settle();
      reject(new PodunitError(`Failed to lock ${what} at '${path}': ${e.message}`));
    };
    worker.postMessage({ path, state });
  });
}

/** The exclusive lock of the file at `path` if it is free now; undefined when another process holds it. */
export function tryLockFile(path: string, what: string): FileLock | undefined {
  for (;;) {
    const fd = openSync(path, "a", 0o600);
    const err = flock(fd, LOCK_EX | LOCK_NB);
    if (err === 0 && stillThere(fd, path)) return heldBy(fd, path);
    closeSync(fd);
    // Removed between the open and the lock: the next open makes it again.
    if (err === 0) continue;
    if (err !== EWOULDBLOCK) throw new HostError(`lock ${what} at`, "flock", err, { path });
    return undefined;
  }
}

/**
 * Takes the exclusive lock of the file at `path` (made if missing), waiting up to
 * `timeoutMs` for its holder; then rejects with `onTimeout()`. `what` names the
 * lock in errors ("pod 'web'", "the image store '/var/lib/podunit/images'").
 */
export async function lockFile(path: string, what: string, timeoutMs: number, onTimeout: () => Error): Promise<FileLock> {
  return tryLockFile(path, what) ?? waitForLock(path, what, timeoutMs, onTimeout);
}

/**
 * Takes the exclusive lock of `pod`, waiting up to `timeoutMs` for another
 * command to finish.
 */
export async function lockPod(runDir: string, pod: string, timeoutMs = 120_000): Promise<PodLock> {
  const dir = join(runDir, "locks");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const busy = () =>
    new PodunitError(`Failed to lock pod '${pod}': another podunit command has held it for ${timeoutMs / 1000} s`, {
      hint: `Check for a hanging 'podunit' process working on '${pod}'.`,
    });
  return lockFile(join(dir, pod), `pod '${pod}'`, timeoutMs, busy);
}
