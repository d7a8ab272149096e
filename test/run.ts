/**
 * The test command (`make test`): pure tests, then system tests against real
 * systemd labs, then the VM test (pure cgroup v2, a reboot; test/vm), then a
 * check that nothing was left behind. Prints one summary,
 * ending in a line `tests: N passed, N failed`.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "./lab/lab.ts";
import { type Failure, failuresIn } from "./lab/bunout.ts";

const BUN = process.execPath;

interface Counts {
  pass: number;
  fail: number;
  skip: number;
  failures: Failure[];
}


/** Runs one `bun test` over a directory, streaming its output, and returns the counts it printed. */
async function bunTest(dir: string, timeoutMs: number, env: Record<string, string> = {}): Promise<Counts & { status: number }> {
  const proc = Bun.spawn([BUN, "test", "--timeout", String(timeoutMs), dir], {
    cwd: REPO,
    stdout: "inherit",
    stderr: "pipe",
    env: { ...process.env, PODUNIT_LAB_TAG: TAG, ...env },
  });
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of proc.stderr) {
    const s = decoder.decode(chunk);
    text += s;
    process.stderr.write(s);
  }
  const status = await proc.exited;
  const n = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  return { status, pass: n(/^\s*(\d+) pass$/m), fail: n(/^\s*(\d+) fail$/m), skip: n(/^\s*(\d+) skip$/m), failures: failuresIn(text) };
}

/** Labs of this run carry this tag in their names (see test/lab/lab.ts). */
const TAG = `r${process.pid}`;
const MINE = `podunit-lab-${TAG}-`;

/** Things this run's labs must not leave on the host: cgroups, mounts, lab directories. */
function leftovers(): string[] {
  const found: string[] = [];
  for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n").filter(Boolean)) {
    const [, ctl, path] = line.split(":") as [string, string, string];
    const name = ctl === "" ? "unified" : ctl.replace(/^name=/, "");
    const base = existsSync("/sys/fs/cgroup/cgroup.controllers") ? join("/sys/fs/cgroup", path) : join("/sys/fs/cgroup", name, path);
    try {
      for (const k of readdirSync(base)) if (k.startsWith(MINE)) found.push(`cgroup ${join(base, k)}`);
    } catch {}
  }
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    if (line.includes(MINE)) found.push(`mount ${line.split(" ")[4]}`);
  }
  for (const d of readdirSync(tmpdir())) {
    if (d.startsWith(MINE) || d.startsWith(`podunit-vm-${TAG}-`)) found.push(`directory ${join(tmpdir(), d)}`);
  }
  return found;
}

/** What test/vm/vm.test.ts reports about its VM run. */
interface VmReport {
  systemd: string;
  kernel: string;
  cgroupFs: string;
  accel: string;
  imageBuilt: boolean;
  imageSeconds: number;
  imageBytes: number;
  bootSeconds: (number | null)[];
  runSeconds: number;
}

function describeVm(r: VmReport): string {
  const image = `image ${r.imageBuilt ? "built" : "cached"} (${r.imageSeconds.toFixed(1)} s, ${Math.round(r.imageBytes / 2 ** 20)} MiB)`;
  // A boot that did not finish its scenario has no time.
  const boots = r.bootSeconds.map((s, i) => `boot ${i + 1} ${s === null ? "unfinished" : `${s.toFixed(1)} s`}`).join(", ");
  return `in a QEMU VM (${r.accel}): ${r.systemd}, kernel ${r.kernel}, ${r.cgroupFs}; ${image}; ${boots} to the scenario; ${r.runSeconds.toFixed(0)} s in all`;
}

const started = performance.now();

const unit = await bunTest("test/unit", 20_000);

const reportDir = mkdtempSync(join(tmpdir(), "podunit-test-"));
const reportFile = join(reportDir, "labs.jsonl");
const system = await bunTest("test/system", 180_000, { PODUNIT_TEST_REPORT: reportFile });
const labs = existsSync(reportFile)
  ? readFileSync(reportFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { systemd: string; cgroupMode: string; uncheckable: string[] })
  : [];
const vmReportFile = join(reportDir, "vm.jsonl");
const vm = await bunTest("test/vm", 45 * 60_000, { PODUNIT_VM_REPORT: vmReportFile });
const vmRuns = existsSync(vmReportFile) ? readFileSync(vmReportFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as VmReport) : [];
rmSync(reportDir, { recursive: true, force: true });
const left = leftovers();

const secs = ((performance.now() - started) / 1000).toFixed(1);
const modes = [...new Set(labs.map((l) => l.cgroupMode))];
const versions = [...new Set(labs.map((l) => l.systemd))];
// The failures again, after everything else, so that the end of the output alone says what failed and how.
const failures = [unit, system, vm].flatMap((r) => r.failures);
if (failures.length) {
  console.log("");
  for (const f of failures) console.log(`failed: ${f.name}\n  ${f.excerpt.join("\n  ")}`);
}
console.log("");
console.log(`unit tests: ${unit.pass} passed, ${unit.fail} failed, ${unit.skip} skipped`);
console.log(
  `system tests: ${system.pass} passed, ${system.fail} failed, ${system.skip} skipped, against a real ${versions.join(", ") || "systemd (no lab booted)"} ` +
    `in ${labs.length} lab(s), cgroup mode ${modes.join(", ") || "unknown"}`,
);
for (const m of modes) {
  const u = labs.find((l) => l.cgroupMode === m)?.uncheckable ?? [];
  if (u.length) console.log(`  not checkable in ${m} mode: ${u.join("; ")}`);
}
console.log(`vm tests: ${vm.pass} passed, ${vm.fail} failed, ${vm.skip} skipped, ${vmRuns.map(describeVm).join("; ") || "no VM ran"}`);
console.log(left.length ? `left behind on the host:\n  ${left.join("\n  ")}` : "left behind on the host: nothing");
// A run that leaves debris, boots no lab or VM, or whose runner failed without a failing test counts as one more failure.
const runnerFailed = [unit, system, vm].filter((r) => r.status !== 0 && r.fail === 0).length;
const failed = unit.fail + system.fail + vm.fail + Number(left.length > 0) + Number(labs.length === 0) + Number(vmRuns.length === 0) + runnerFailed;
console.log(`(${secs} s)`);
for (const f of failures) console.log(`failed: ${f.name}`);
console.log(`tests: ${unit.pass + system.pass + vm.pass} passed, ${failed} failed, ${unit.skip + system.skip + vm.skip} skipped`);
process.exit(failed === 0 ? 0 : 1);
