/**
 * Shared set-up for system tests: one lab per test file, booted before its
 * tests and shut down after them (also when they fail). A lab that cannot boot
 * fails every test of the file with the reason; nothing is skipped.
 */
import { afterAll, beforeAll } from "bun:test";
import { appendFileSync, chmodSync, mkdirSync, writeFileSync } from "node:fs";
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

/**
 * Writes a pod spec where podunit inside the lab finds it (PODUNIT_SPEC_DIR=/srv/lab/pods).
 * Modes are set explicitly, whatever the umask: podunit, as root, reads only specs that
 * no one but root can change.
 */
export function writeSpec(lab: Lab, pod: string, toml: string): string {
  const dir = join(lab.shareDir, "pods");
  mkdirSync(dir, { recursive: true });
  chmodSync(lab.shareDir, 0o755);
  chmodSync(dir, 0o755);
  const file = join(dir, `${pod}.toml`);
  writeFileSync(file, toml);
  chmodSync(file, 0o644);
  return file;
}

/** The environment podunit runs with in the lab. */
export const POD_ENV = { PODUNIT_SPEC_DIR: "/srv/lab/pods" };

/** Where tests find a busybox root file system inside the lab (made by `makeRootfs`). */
export const BUSYBOX_ROOTFS = "/var/lib/podunit-test/busybox";

export async function makeRootfs(lab: Lab): Promise<void> {
  await lab.sh(["bash", join(REPO, "test/lab/mkrootfs.sh"), BUSYBOX_ROOTFS]);
}

/** A pod name as systemd writes it in unit names and cgroup paths ('-' becomes '\x2d'). */
export function escapedPod(pod: string): string {
  return pod.replace(/-/g, "\\x2d");
}

/** The namespaces (`net:[4026532...]`) the running sandbox of `pod` holds, to look for processes left in them later. */
export async function podNamespaces(lab: Lab, pod: string): Promise<string[]> {
  const unit = `podunit-${escapedPod(pod)}-sandbox.service`;
  const pid = (await lab.sh(["systemctl", "show", "--value", "-p", "MainPID", unit])).trim();
  if (pid === "0") throw new Error(`${unit} has no main process`);
  const out = await lab.sh(["bash", "-c", `for n in net ipc uts; do readlink /proc/${pid}/ns/$n; done`]);
  return out.split("\n").filter(Boolean);
}

/**
 * Everything of a pod that could be left behind inside the lab: loaded units, cgroup
 * directories in any hierarchy, the run directory, pins mounted in any process's mount
 * namespace, crun and runc containers, and processes in the pod's cgroups or (given
 * `namespaces` from podNamespaces) in its namespaces.
 */
export async function leftovers(lab: Lab, pod: string, namespaces: string[] = []): Promise<string[]> {
  const esc = escapedPod(pod);
  const script = `
    pod=$1 esc=$2 ns=" $3 "
    systemctl list-units --all --plain --no-legend "podunit-$esc.slice" "podunit-$esc-*" | awk '{print "unit " $1}'
    find /sys/fs/cgroup -maxdepth 3 -name "podunit-$esc.slice" -type d | sed 's/^/cgroup /'
    [ -e "/run/podunit/$pod" ] && echo "dir /run/podunit/$pod"
    for f in /proc/[0-9]*/mountinfo; do
      p=\${f#/proc/}; p=\${p%/mountinfo}
      grep -F " /run/podunit/$pod/" "$f" 2>/dev/null | awk -v p="$p" '{print "mount " $5 " (seen by process " p ")"}'
    done | sort -u -k2,2
    for rt in crun runc; do
      command -v $rt >/dev/null && $rt list -q 2>/dev/null | grep -F "podunit-$pod." | sed "s/^/$rt /"
    done
    for d in /proc/[0-9]*; do
      p=\${d#/proc/}
      [ "$p" = $$ ] && continue
      hit=
      grep -qF "/podunit-$esc.slice" "$d/cgroup" 2>/dev/null && hit=cgroup
      for n in net ipc uts; do
        l=$(readlink "$d/ns/$n" 2>/dev/null) || continue
        case "$ns" in *" $l "*) hit="\${hit:+$hit, }$l";; esac
      done
      [ -n "$hit" ] && echo "process $p ($hit): $(tr '\\0' ' ' <"$d/cmdline" 2>/dev/null)"
    done
    true`;
  const out = await lab.sh(["bash", "-c", script, "leftovers", pod, esc, namespaces.join(" ")]);
  return out.split("\n").filter(Boolean);
}

/**
 * The OCI runtimes the tests that prove runtime behaviour run under, each in its own
 * describe: both where both are installed (the machines that build and test podunit).
 */
export const RUNTIMES = ["crun", "runc"] as const;
export type TestRuntime = (typeof RUNTIMES)[number];

/** Small helpers most system test files use, bound to their lab. */
export function labHelpers(t: LabHandle) {
  const show = async (unit: string, prop: string): Promise<string> => (await t.lab.sh(["systemctl", "show", "--value", "-p", prop, unit])).trim();
  return {
    /** The compiled podunit inside the lab, with the test spec directory. */
    podunit: (...args: string[]) => t.podunit(args, { env: POD_ENV }),
    /** One property of a unit, as `systemctl show --value` prints it. */
    show,
    mainPid: async (unit: string): Promise<number> => Number(await show(unit, "MainPID")),
    /** A unit's journal lines, after journald has written what it was given. */
    journal: async (unit: string): Promise<string> => {
      await t.lab.sh(["journalctl", "--sync"]);
      return t.lab.sh(["journalctl", "-u", unit, "-o", "cat", "--no-pager"]);
    },
  };
}
