/**
 * The inside half of bench/siblings.ts: how long systemd takes to start one unit
 * (`systemd-run --wait /bin/true`) in system.slice and in a new slice below
 * podunit.slice, with no other slice there and with N sibling slices (each holding
 * one `sleep` service) there.
 *
 *   bun bench/siblings-lab.ts OUT.json N
 */
import { readFileSync, writeFileSync } from "node:fs";

const [out, nArg] = process.argv.slice(2);
const N = Number(nArg ?? 1000);

function ms(argv: string[]): number {
  const t0 = Bun.nanoseconds();
  const r = Bun.spawnSync(argv, { stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`'${argv.join(" ")}' exited ${r.exitCode}: ${r.stderr.toString()}`);
  return (Bun.nanoseconds() - t0) / 1e6;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const systemdCpu = () => {
  const f = readFileSync("/proc/1/stat", "utf8").split(") ")[1]!.split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
};

let probe = 0;
/** Medians of 11 one-unit starts, in system.slice and in a fresh slice below podunit.slice, alternating; and systemd's CPU time per start. */
function oneUnit(): { systemSlice: number; podunitSlice: number; cpuSystemSlice: number; cpuPodunitSlice: number } {
  const a: number[] = [];
  const b: number[] = [];
  let ca = 0;
  let cb = 0;
  for (let i = 0; i < 11; i++) {
    let c = systemdCpu();
    a.push(ms(["systemd-run", "-q", "--wait", "-p", "Type=exec", "/bin/true"]));
    ca += systemdCpu() - c;
    c = systemdCpu();
    b.push(ms(["systemd-run", "-q", "--wait", "-p", "Type=exec", `--slice=podunit-probe${probe++}.slice`, "/bin/true"]));
    cb += systemdCpu() - c;
  }
  return { systemSlice: median(a), podunitSlice: median(b), cpuSystemSlice: ca / 11, cpuPodunitSlice: cb / 11 };
}

const before = oneUnit();
for (let i = 1; i <= N; i++) ms(["systemd-run", "-q", "-p", "Type=exec", `--unit=sib${i}`, `--slice=podunit-sib${i}.slice`, "sleep", "6000"]);
const after = oneUnit();
for (let i = 1; i <= N; i++) ms(["systemctl", "stop", `podunit-sib${i}.slice`]);
writeFileSync(out!, JSON.stringify({ n: N, before, after }));
