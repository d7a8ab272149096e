/** Per-pod locks: concurrent podunit commands on one pod run one after the other. */
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { PodunitError } from "../errors.ts";
import { EWOULDBLOCK, flock, LOCK_EX, LOCK_NB } from "./libc.ts";

export interface PodLock {
  release(): void;
}

/**
 * Takes the exclusive lock of `pod` (a file under `<runDir>/locks/`), waiting up to
 * `timeoutMs` for another command to finish. The kernel drops the lock when the
 * process ends, so a crashed command never leaves a stale lock.
 */
export async function lockPod(runDir: string, pod: string, timeoutMs = 120_000): Promise<PodLock> {
  const dir = join(runDir, "locks");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fd = openSync(join(dir, pod), "a", 0o600);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const err = flock(fd, LOCK_EX | LOCK_NB);
    if (err === 0) {
      let held = true;
      return {
        release() {
          if (held) closeSync(fd);
          held = false;
        },
      };
    }
    if (err !== EWOULDBLOCK) {
      closeSync(fd);
      throw new PodunitError(`Failed to lock pod '${pod}': errno ${err}`);
    }
    if (Date.now() > end) {
      closeSync(fd);
      throw new PodunitError(`Failed to lock pod '${pod}': another podunit command has held it for ${timeoutMs / 1000} s`, {
        hint: `Check for a hanging 'podunit' process working on '${pod}'.`,
      });
    }
    await Bun.sleep(10);
  }
}
