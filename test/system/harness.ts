/**
 * Shared set-up for system tests: one lab per test file, booted before its
 * tests and shut down after them (also when they fail). A lab that cannot boot
 * fails every test of the file with the reason; nothing is skipped.
 */
import { afterAll, beforeAll } from "bun:test";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Lab, REPO, uncheckable, type RunOptions, type RunResult } from "../lab/lab.ts";

/** The compiled binary under test, at the same path inside the lab. */
export const PODUNIT = join(REPO, "dist/podunit");

export interface LabHandle {
  /** The booted lab; throws the boot error when it did not boot. */
  readonly lab: Lab;
  /** Runs the compiled podunit inside the lab. */
  podunit(args: string[], opts?: RunOptions): Promise<RunResult>;
}

/** Boots a lab named `name` for this test file (`binds`: host directories to bind into it, `HOST:LAB[:ro]`). */
export function useLab(name: string, opts: { binds?: string[] } = {}): LabHandle {
  let lab: Lab | undefined;
  let bootError: Error | undefined;
  beforeAll(async () => {
    try {
      lab = await Lab.boot(name, opts);
    } catch (err) {
      bootError = err as Error;
      throw err;
    }
    const version = (await lab.sh(["systemctl", "--version"])).split("\n")[0];
    record({ suite: name, systemd: version, cgroupMode: lab.cgroupMode, uncheckable: uncheckable(lab.cgroupMode) });
  }, 60_000);
  afterAll(() => lab?.shutdown());
  const handle: LabHandle = {
    get lab(): Lab {
      if (!lab) throw bootError ?? new Error("the lab is not booted");
      return lab;
    },
    podunit(args, opts) {
      return handle.lab.run([PODUNIT, ...args], opts);
    },
  };
  return handle;
}

/** Appends one line about a booted lab to the run's report (read by test/run.ts). */
function record(entry: object): void {
  const file = process.env.PODUNIT_TEST_REPORT;
  if (file) appendFileSync(file, JSON.stringify(entry) + "\n");
}

/** Waits for a condition by re-checking it (for effects systemd applies asynchronously, such as journald writes). */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/** Writes a pod spec where podunit inside the lab finds it (PODUNIT_SPEC_DIR=/srv/lab/pods). */
export function writeSpec(lab: Lab, pod: string, toml: string): void {
  mkdirSync(join(lab.shareDir, "pods"), { recursive: true });
  writeFileSync(join(lab.shareDir, "pods", `${pod}.toml`), toml);
}

/** The environment podunit runs with in the lab. */
export const POD_ENV = { PODUNIT_SPEC_DIR: "/srv/lab/pods" };

/** Where tests find a busybox root file system inside the lab (made by `makeRootfs`). */
export const BUSYBOX_ROOTFS = "/var/lib/podunit-test/busybox";

export async function makeRootfs(lab: Lab): Promise<void> {
  await lab.sh(["bash", join(REPO, "test/lab/mkrootfs.sh"), BUSYBOX_ROOTFS]);
}

/**
 * Everything of a pod that could be left behind inside the lab: loaded units,
 * cgroup directories in any hierarchy, the run directory, mounts, runc containers.
 */
export async function leftovers(lab: Lab, pod: string): Promise<string[]> {
  const script = `
    systemctl list-units --all --plain --no-legend 'podunit-${pod}.slice' 'podunit-${pod}-*' | awk '{print "unit " $1}'
    find /sys/fs/cgroup -maxdepth 3 -path '*podunit-${pod}.slice' -type d | sed 's/^/cgroup /'
    [ -e /run/podunit/${pod} ] && echo "dir /run/podunit/${pod}"
    findmnt -rn -o TARGET | grep -F '/run/podunit/${pod}/' | sed 's/^/mount /'
    runc list -q 2>/dev/null | grep -F 'podunit-${pod}.' | sed 's/^/runc /'
    true`;
  const out = await lab.sh(["bash", "-c", script]);
  return out.split("\n").filter(Boolean);
}
