/**
 * The ranges of host ids held by pods with `userns = "auto"`: one record per pod,
 * `<runDir>/userns/<pod>` (its first host id), written and removed under one lock
 * (`<runDir>/userns/.lock`; a dot cannot begin a pod name). A record is live while
 * its pod's run directory exists (systemd removes it with the sandbox, also when
 * the sandbox dies on its own) or a podunit command holds the pod's lock (a start
 * under way writes the record before the run directory); any other record is
 * stale, dropped by the next allocation, so a crash never keeps a range forever.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PodunitError } from "../errors.ts";
import { isValidName } from "../podspec/grammar.ts";
import { RANGE_SIZE, type UsernsConfig } from "../podspec/usernsconfig.ts";
import { type IdRange, pickRange, type RangeRecord } from "../plan/userns.ts";
import { rangeRecord, rangesDir } from "../plan/layout.ts";
import { lockFile, tryLockFile } from "./lock.ts";


function readRecords(runDir: string): RangeRecord[] {
  let names: string[];
  try {
    names = readdirSync(rangesDir(runDir));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const out: RangeRecord[] = [];
  for (const pod of names.filter(isValidName)) {
    const start = Number(readFileSync(rangeRecord(runDir, pod), "utf8").trim());
    if (Number.isSafeInteger(start) && start > 0) out.push({ pod, start });
  }
  return out;
}

/** Whether the record of `pod` is still held: its run directory is there, or a command holds its lock. */
function live(runDir: string, pod: string): boolean {
  if (existsSync(join(runDir, pod))) return true;
  const locks = join(runDir, "locks");
  if (!existsSync(join(locks, pod))) return false;
  const lock = tryLockFile(join(locks, pod), `pod '${pod}'`);
  lock?.release();
  return lock === undefined;
}

async function withRangesLock<T>(runDir: string, fn: () => T): Promise<T> {
  mkdirSync(rangesDir(runDir), { recursive: true, mode: 0o700 });
  const path = join(rangesDir(runDir), ".lock");
  const lock = await lockFile(path, "the user namespace ranges", 30_000, () => new PodunitError(`Failed to lock the user namespace ranges at '${path}': another podunit command has held the lock for 30 s.`));
  try {
    return fn();
  } finally {
    lock.release();
  }
}

/** A range held for a pod; `fresh` when this call took it (so an error before the start's steps must free it). */
export interface HeldRange {
  range: IdRange;
  fresh: boolean;
}

/**
 * Holds a range for `pod` (the caller holds the pod's lock): the one it has, else a
 * free one, recorded before the lock is let go. Stale records are removed first.
 */
export function holdRange(runDir: string, pod: string, config: UsernsConfig): Promise<HeldRange> {
  return withRangesLock(runDir, () => {
    const records = readRecords(runDir).filter((r) => {
      if (r.pod === pod || live(runDir, r.pod)) return true;
      rmSync(rangeRecord(runDir, r.pod), { force: true });
      return false;
    });
    const own = records.find((r) => r.pod === pod);
    const range = pickRange(pod, config, records);
    if (!own) {
      const tmp = join(rangesDir(runDir), `.${pod}.new`);
      writeFileSync(tmp, `${range.start}\n`, { mode: 0o644 });
      renameSync(tmp, rangeRecord(runDir, pod));
    }
    return { range, fresh: !own };
  });
}

/**
 * Frees the range of `pod`; a pod without one is fine, and costs one stat: every
 * stop calls this. The caller holds the pod's lock, so no record of it can appear
 * meanwhile.
 */
export async function freeRange(runDir: string, pod: string): Promise<void> {
  const record = rangeRecord(runDir, pod);
  if (!existsSync(record)) return;
  await withRangesLock(runDir, () => rmSync(record, { force: true }));
}

/** The range `pod` holds, if any (no lock: a record is written whole or not at all, and read for display). */
export function heldRange(runDir: string, pod: string): IdRange | undefined {
  return readRecords(runDir)
    .filter((r) => r.pod === pod)
    .map((r) => ({ start: r.start, size: RANGE_SIZE }))[0];
}

/** The range `pod` would get now (what `podunit plan` and `check` show), without holding it. */
export function previewRange(runDir: string, pod: string, config: UsernsConfig): IdRange {
  const records = readRecords(runDir).filter((r) => r.pod === pod || live(runDir, r.pod));
  return pickRange(pod, config, records);
}
