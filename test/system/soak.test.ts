/**
 * The long run: start and stop a pod of three members (host, rootfs, named user)
 * PODUNIT_SOAK_COUNT times (20 in `make test`, 500 in `make soak`), and compare
 * what systemd holds before and after: units, cgroups, mounts, systemd's open
 * file descriptors, and the memory of systemd and journald. Prints both.
 */
import { beforeAll, expect, test } from "bun:test";
import { BUSYBOX_ROOTFS, eventually, labHelpers, leftovers, makeRootfs, useLab, writeSpec } from "./harness.ts";

const COUNT = Number(process.env.PODUNIT_SOAK_COUNT ?? 20);
const t = useLab("soak");
const { podunit } = labHelpers(t);
beforeAll(async () => {
  await makeRootfs(t.lab);
}, 60_000);

interface Sample {
  units: number;
  cgroups: number;
  mounts: number;
  systemdFds: number;
  systemdRssKiB: number;
  journaldFds: number;
  journaldRssKiB: number;
}

async function sample(): Promise<Sample> {
  const script = `
    j=$(systemctl show -p MainPID --value systemd-journald)
    systemctl list-units --all --no-legend --plain | wc -l
    find /sys/fs/cgroup -type d | wc -l
    wc -l < /proc/1/mountinfo
    ls /proc/1/fd | wc -l
    awk '/^VmRSS:/ {print $2}' /proc/1/status
    ls /proc/$j/fd | wc -l
    awk '/^VmRSS:/ {print $2}' /proc/$j/status`;
  const [units, cgroups, mounts, systemdFds, systemdRssKiB, journaldFds, journaldRssKiB] = (await t.lab.sh(["bash", "-c", script]))
    .trim()
    .split("\n")
    .map(Number) as [number, number, number, number, number, number, number];
  return { units, cgroups, mounts, systemdFds, systemdRssKiB, journaldFds, journaldRssKiB };
}

test(`${COUNT} start/stop cycles of a pod with three members leave systemd as it was`, async () => {
  const pod = "soak";
  writeSpec(t.lab, pod, `
[containers.host]
command = ["/bin/sleep", "600"]

[containers.box]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sleep", "600"]

[containers.user]
command = ["/bin/sleep", "600"]
user = "nobody"
`);
  const unitNames = async () =>
    new Set((await t.lab.sh(["systemctl", "list-units", "--all", "--no-legend", "--plain"])).split("\n").map((l) => l.split(" ")[0]!).filter(Boolean));
  /** Units of the pod or its pins (mount units) that systemd still knows of. */
  const ofPod = async () => [...(await unitNames())].filter((u) => u.includes("podunit-soak") || u.includes("podunit\\x2dsoak") || u.startsWith("run-podunit-soak"));
  // One cycle first, so that what any first start loads once (journal streams, the slice
  // podunit.slice) is in the baseline; then let systemd forget the pod's units and mounts.
  expect((await podunit("start", pod)).status).toBe(0);
  expect((await podunit("stop", pod)).status).toBe(0);
  await eventually("systemd to forget the first cycle", async () => (await ofPod()).length === 0, 15_000);
  const before = await sample();
  const namesBefore = await unitNames();
  const started = performance.now();
  for (let i = 1; i <= COUNT; i++) {
    const up = await podunit("start", pod);
    if (up.status !== 0 || !up.stdout.includes("started")) throw new Error(`cycle ${i}: start exited ${up.status}: ${up.stderr}`);
    const down = await podunit("stop", pod);
    if (down.status !== 0 || down.stderr !== "") throw new Error(`cycle ${i}: stop exited ${down.status}: ${down.stderr}`);
    if (i % 25 === 0 || i === COUNT) expect({ cycle: i, left: await leftovers(t.lab, pod) }).toEqual({ cycle: i, left: [] });
  }
  const secs = (performance.now() - started) / 1000;
  // systemd drops the mount units of unmounted pins a moment later (it reads mountinfo changes asynchronously).
  const after = await eventually(
    "systemd to settle",
    async () => {
      const s = await sample();
      return s.units === before.units && s.cgroups === before.cgroups && s.mounts === before.mounts ? s : undefined;
    },
    15_000,
  ).catch(() => sample());

  const rows = (Object.keys(before) as Array<keyof Sample>).map((k) => `  ${k.padEnd(15)} ${String(before[k]).padStart(8)} ${String(after[k]).padStart(8)} ${String(after[k] - before[k]).padStart(+7)}`);
  console.log(`soak: ${COUNT} start/stop cycles of a 3-member pod in ${secs.toFixed(1)} s (${((secs / COUNT) * 1000).toFixed(0)} ms per cycle)`);
  console.log(`  ${"".padEnd(15)} ${"before".padStart(8)} ${"after".padStart(8)} ${"change".padStart(7)}\n${rows.join("\n")}`);

  const namesAfter = await unitNames();
  expect({
    added: [...namesAfter].filter((u) => !namesBefore.has(u)),
    removed: [...namesBefore].filter((u) => !namesAfter.has(u)),
    cgroups: after.cgroups - before.cgroups,
    mounts: after.mounts - before.mounts,
  }).toEqual({ added: [], removed: [], cgroups: 0, mounts: 0 });
  // Descriptors come and go with journal streams and bus connections; a leak would grow with every cycle.
  expect(after.systemdFds - before.systemdFds).toBeLessThanOrEqual(5);
  expect(after.journaldFds - before.journaldFds).toBeLessThanOrEqual(5);
  // Memory: systemd keeps some per-unit-name state (and the journal its cache); a leak per cycle would show here.
  expect(after.systemdRssKiB - before.systemdRssKiB).toBeLessThan(16 * 1024 + COUNT * 16);
}, 120_000 + COUNT * 5_000);
