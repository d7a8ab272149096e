/** The pod lock (src/host/lock.ts): a second taker waits on the lock and wakes when it is let go. */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lockFile, lockPod, tryLockFile } from "../../src/host/lock.ts";
import { networkDown } from "../../src/pods/network.ts";

const runDir = mkdtempSync(join(tmpdir(), "podunit-lock-"));
afterAll(() => rmSync(runDir, { recursive: true, force: true }));

describe("lockPod", () => {
  test("a free lock is taken at once, and again after its release", async () => {
    const a = await lockPod(runDir, "free");
    a.release();
    a.release(); // twice is harmless
    const b = await lockPod(runDir, "free");
    b.release();
  });

  test("the second taker gets the lock only after the first let go, and then at once", async () => {
    const events: string[] = [];
    const first = await lockPod(runDir, "web");
    const second = lockPod(runDir, "web").then((l) => {
      events.push("second took it");
      return l;
    });
    // Other pods are not held up meanwhile.
    (await lockPod(runDir, "other")).release();
    events.push("first lets go");
    first.release();
    const lock = await second;
    expect(events).toEqual(["first lets go", "second took it"]);
    lock.release();
  });

  test("a lock held past the timeout fails, saying so; once let go it can be taken again", async () => {
    const held = await lockPod(runDir, "busy");
    const err = await lockPod(runDir, "busy", 200).catch((e) => e);
    expect(err.message).toBe("Failed to lock pod 'busy': another podunit command has held it for 0.2 s");
    expect(err.hint).toBe("Check for a hanging 'podunit' process working on 'busy'.");
    held.release();
    // The wait given up on lets go as soon as it gets the lock.
    const again = await lockPod(runDir, "busy", 5000);
    again.release();
  });

  test("a lock held by another process is waited for too", async () => {
    const path = join(runDir, "locks", "shared");
    await Bun.write(path, "");
    const holder = Bun.spawn(["flock", path, "sh", "-c", "echo held; read x"], { stdin: "pipe", stdout: "pipe" });
    const reader = holder.stdout.getReader();
    await reader.read(); // "held": the other process has the lock
    const waiting = lockPod(runDir, "shared");
    holder.stdin.end(); // its shell reads end of input and exits, and the lock goes with it
    const lock = await waiting;
    lock.release();
    await holder.exited;
  });
});

describe("lockFile (the image store's lock too)", () => {
  test("a free file is taken at once; a held one is tried without waiting, waited for, or given up with the caller's error", async () => {
    const path = join(runDir, "store-lock");
    const first = await lockFile(path, "the store", 1000, () => new Error("unused"));
    expect(tryLockFile(path, "the store")).toBeUndefined();
    const late = await lockFile(path, "the store", 100, () => new Error("the store is busy")).catch((e) => e);
    expect(late.message).toBe("the store is busy");
    const t0 = Date.now();
    const waiting = lockFile(path, "the store", 5000, () => new Error("unused"));
    setTimeout(() => first.release(), 150);
    const second = await waiting;
    // Woken by the release, not by a poll.
    expect(Date.now() - t0).toBeLessThan(1000);
    second.release();
    tryLockFile(path, "the store")!.release();
  });
});

describe("a lock file removed as its holder lets go", () => {
  test("is made again by the next taker, and leaves nothing behind", async () => {
    const path = join(runDir, "locks", "gone");
    const a = await lockPod(runDir, "gone");
    expect(existsSync(path)).toBe(true);
    a.release({ remove: true });
    expect(existsSync(path)).toBe(false);
    const b = await lockPod(runDir, "gone");
    expect(existsSync(path)).toBe(true);
    b.release({ remove: true });
    b.release({ remove: true }); // twice is harmless
    expect(existsSync(path)).toBe(false);
  });

  test("a taker that waited on the removed file starts over on the new one, so two takers never hold it at once", async () => {
    const first = await lockPod(runDir, "moved");
    const events: string[] = [];
    // Waits in flock on the file `first` is about to remove.
    const second = lockPod(runDir, "moved").then((l) => (events.push("second took it"), l));
    await Bun.sleep(100);
    first.release({ remove: true });
    // A third taker comes after the removal and makes the file again.
    const third = await lockPod(runDir, "moved");
    events.push("third took it");
    await Bun.sleep(100);
    expect(events).toEqual(["third took it"]);
    third.release();
    const lock = await second;
    expect(events).toEqual(["third took it", "second took it"]);
    lock.release();
  });
});

describe("the stop of a pod on the host's network", () => {
  test("takes no network lock and leaves no lock file: it has no network record to take down", async () => {
    const dir = mkdtempSync(join(tmpdir(), "podunit-netdown-"));
    try {
      expect(await networkDown(dir, "web")).toEqual([]);
      expect(existsSync(join(dir, "locks"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
