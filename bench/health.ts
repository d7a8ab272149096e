/**
 * The cost of health checks: 20 pods, one tcp check each every 2 s, for a
 * minute, in one throw-away systemd (the test lab). Measures the lab's whole CPU
 * time (its cgroup's cpuacct.usage: the checks, systemd starting their units,
 * journald) and PID 1's own, with the timers running and then with them
 * stopped, the same pods running both times; the difference is what the checks
 * cost. Also the CPU time and peak memory of one check process, and that no
 * check process is left between checks.
 *
 *   make bench                       (part of it)
 *   SECONDS_PER_PHASE=60 PODS=20 bun bench/health.ts
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Lab, REPO } from "../test/lab/lab.ts";

const PODS = Number(process.env.PODS ?? 20);
const PHASE = Number(process.env.SECONDS_PER_PHASE ?? 60);
const BIN = join(REPO, "dist/podunit");

const lab = await Lab.boot("bench-health");
try {
  const cgroups = readFileSync(join(lab.dir, "cgroups"), "utf8").split("\n").filter(Boolean);
  const cpuacct = cgroups.find((c) => c.includes("/cpuacct/"));
  if (!cpuacct) throw new Error("no cpuacct hierarchy for the lab");
  const labCpuNs = () => Number(readFileSync(join(cpuacct, "cpuacct.usage"), "utf8"));
  const pid1Ticks = () => {
    const f = readFileSync(`/proc/${lab.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return Number(f[11]) + Number(f[12]);
  };
  const tick = 100; // USER_HZ on Linux
  await lab.sh(["mkdir", "-p", "/srv/lab/pods"]);
  const server = ["/usr/bin/python3", "-c", "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', 5432)); s.listen(64)\nwhile True: c,_=s.accept(); c.close()"];
  for (let i = 0; i < PODS; i++) {
    const toml = `[containers.db]\ncommand = ${JSON.stringify(server)}\n[containers.db.health]\ntcp = "127.0.0.1:5432"\ninterval = "2s"\n`;
    await lab.sh(["bash", "-c", `cat > /srv/lab/pods/h${i}.toml`], { stdin: toml });
  }
  for (let i = 0; i < PODS; i++) await lab.sh(["env", "PODUNIT_SPEC_DIR=/srv/lab/pods", BIN, "start", `h${i}`]);
  console.log(`${PODS} pods with one tcp check every 2 s are running`);

  const measure = async (label: string) => {
    const [c0, p0, t0] = [labCpuNs(), pid1Ticks(), Date.now()];
    let leftover = 0;
    const end = t0 + PHASE * 1000;
    while (Date.now() < end) {
      await Bun.sleep(1000);
      // A check process still there a second later would be resident.
      const n = (await lab.sh(["bash", "-c", "pgrep -f '[i]nternal health /run' | wc -l"])).trim();
      leftover = Math.max(leftover, Number(n));
    }
    const secs = (Date.now() - t0) / 1000;
    const cpu = (labCpuNs() - c0) / 1e9;
    const pid1 = (pid1Ticks() - p0) / tick;
    console.log(`${label}: lab CPU ${cpu.toFixed(2)} s in ${secs.toFixed(0)} s (${((cpu / secs) * 100).toFixed(2)}% of one core), PID 1 ${pid1.toFixed(2)} s; check processes running at a sample (short-lived, started by the timers): at most ${leftover}`);
    return { cpu, pid1, secs };
  };
  const on = await measure("timers running");
  for (let i = 0; i < PODS; i++) await lab.sh(["systemctl", "stop", `podunit-h${i}-health-check.timer`]);
  const off = await measure("timers stopped");
  const checks = (PODS * on.secs) / 2;
  const extra = on.cpu / on.secs - off.cpu / off.secs;
  console.log(`checks cost: ${(extra * 100).toFixed(2)}% of one core (${((extra * on.secs * 1000) / checks).toFixed(1)} ms of CPU per check, ${checks.toFixed(0)} checks), systemd (PID 1) ${(((on.pid1 / on.secs - off.pid1 / off.secs) * on.secs * 1000) / checks).toFixed(1)} ms of it`);

  // One check process by itself: CPU time and peak memory.
  const one = await lab.sh(["bash", "-c", `for i in 1 2 3 4 5; do /usr/bin/time -f '%U %S %M' nsenter --net=/run/podunit/h0/ns/net ${BIN} internal health /run/podunit/h0/health.json 2>&1 >/dev/null | tail -1; sleep 2.1; done`]);
  const rows = one.trim().split("\n").map((l) => l.split(" ").map(Number));
  const cpuMs = rows.map((r) => (r[0]! + r[1]!) * 1000).sort((a, b) => a - b);
  const rss = rows.map((r) => r[2]!).sort((a, b) => a - b);
  console.log(`one check process: ${cpuMs[Math.floor(cpuMs.length / 2)]!.toFixed(0)} ms CPU (median of ${cpuMs.length}), peak RSS ${(rss[Math.floor(rss.length / 2)]! / 1024).toFixed(1)} MiB`);
  for (let i = 0; i < PODS; i++) await lab.sh(["env", "PODUNIT_SPEC_DIR=/srv/lab/pods", BIN, "stop", `h${i}`]);
} finally {
  lab.shutdown();
}
