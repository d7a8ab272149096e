/**
 * Pods with userns = "auto" on a real systemd: the member's root is a host user
 * of the pod's own range (/proc/PID/status), cannot read a root-only host file
 * bound in through a host volume, writes persistent volume files owned by its
 * mapped ids; `exec` lands in its user namespace; two running pods hold disjoint
 * ranges; stop frees a range, and so does a start that failed.
 *
 * The lab's /var/lib/podunit is a host directory (ext4) bound in: the image
 * layers are mounted with the pod's ID map, which the lab's own root (an overlay)
 * does not allow.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { labHelpers, leftovers, useLab, writeSpec } from "./harness.ts";
import { busyboxLayer, writeImage } from "./images-build.ts";

const store = mkdtempSync("/var/tmp/podunit-userns-");
const t = useLab("userns", { binds: [`${store}:/var/lib/podunit`] });
const { podunit, show, journal } = labHelpers(t);
afterAll(() => rmSync(store, { recursive: true, force: true }));

/** The default block: ranges from 0x70000000 (src/podspec/usernsconfig.ts). */
const BLOCK_START = 0x70000000;

async function ok(p: Promise<{ status: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** uid, gid (real, effective, saved, fs) of a process in the lab, from /proc/PID/status. */
async function ids(pid: number): Promise<{ uid: number[]; gid: number[] }> {
  const status = await t.lab.sh(["cat", `/proc/${pid}/status`]);
  const field = (k: string) => /^\w+:\s+(.*)$/m.exec(status.split("\n").find((l) => l.startsWith(`${k}:`)) ?? "")![1]!.split(/\s+/).map(Number);
  return { uid: field("Uid"), gid: field("Gid") };
}

/** The range a pod's record holds (/run/podunit/userns/POD), or undefined. */
async function record(pod: string): Promise<number | undefined> {
  const out = (await t.lab.sh(["bash", "-c", `cat /run/podunit/userns/${pod} 2>/dev/null; true`])).trim();
  return out ? Number(out) : undefined;
}

async function rangeOf(pod: string): Promise<{ start: number; size: number }> {
  const s = JSON.parse(await ok(podunit("status", pod, "--json")));
  return s.userns;
}

beforeAll(async () => {
  writeImage(join(t.lab.shareDir, "images", "bb"), "localhost/bb:1", [busyboxLayer()], { Cmd: ["sleep", "1000000"], Env: ["PATH=/bin"] });
  await ok(podunit("image", "load", "/srv/lab/images/bb"));
  // A root-only file on the host, made visible to the member through a host volume.
  const host = join(t.lab.shareDir, "hostdir");
  mkdirSync(host, { recursive: true });
  chmodSync(host, 0o755);
  writeFileSync(join(host, "secret"), "host-secret\n");
  chmodSync(join(host, "secret"), 0o600);
}, 120_000);

describe("userns = auto", () => {
  test("the member's root is a host user of the pod's range; a root-only host file is unreadable; volume files are the mapped ids'; exec enters the user namespace", async () => {
    writeSpec(
      t.lab,
      "uone",
      `userns = "auto"

[volumes]
data = { type = "persistent" }
hostdir = { type = "host", path = "/srv/lab/hostdir" }

[containers.app]
image = "localhost/bb:1"
command = ["sh", "-c", "cat /host/secret && echo read-secret || echo secret-refused; echo written > /data/file; mkdir -p /data/sub; echo ready; exec sleep 1000000"]
mounts = ["data:/data", "hostdir:/host"]

[containers.side]
command = ["sleep", "1000000"]
`,
    );
    await ok(podunit("start", "uone"));
    const { start, size } = await rangeOf("uone");
    expect(size).toBe(65536);
    expect(start).toBeGreaterThanOrEqual(BLOCK_START);
    expect(await record("uone")).toBe(start);

    // The container's first process (catatonit) and its child, the command: root inside, start on the host.
    const pid = Number((await t.lab.sh(["cat", "/run/podunit/uone/app.pid"])).trim());
    const child = Number((await t.lab.sh(["bash", "-c", `cat /proc/${pid}/task/${pid}/children`])).trim().split(/\s+/)[0]);
    for (const p of [pid, child]) {
      const { uid, gid } = await ids(p);
      expect(uid.every((u) => u === start && u >= 65536)).toBe(true);
      expect(gid.every((g) => g === start)).toBe(true);
    }
    // The host member is not in the pod's user namespace (docs/security.md).
    const side = await ids(Number(await show("podunit-uone-side.service", "MainPID")));
    expect(side.uid).toEqual([0, 0, 0, 0]);

    let log = "";
    for (let i = 0; i < 100 && !log.includes("ready"); i++) {
      log = await journal("podunit-uone-app.service");
      if (!log.includes("ready")) await Bun.sleep(50);
    }
    expect(log).toContain("secret-refused");
    expect(log).not.toContain("host-secret");
    expect(log).not.toContain("read-secret");

    const owners = await t.lab.sh(["stat", "-c", "%n %u %g", "/var/lib/podunit/volumes/uone/data", "/var/lib/podunit/volumes/uone/data/file", "/var/lib/podunit/volumes/uone/data/sub"]);
    for (const line of owners.trim().split("\n")) expect(line.split(" ").slice(1)).toEqual([String(start), String(start)]);
    // The host volume keeps its host owner.
    expect((await t.lab.sh(["stat", "-c", "%u %a", "/srv/lab/hostdir/secret"])).trim()).toBe("0 600");

    const exec = await ok(podunit("exec", "uone", "app", "--", "sh", "-c", "id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user"));
    const [inside, map, userNs] = exec.trim().split("\n").map((l) => l.trim());
    expect(inside).toBe("0");
    expect(map!.split(/\s+/)).toEqual(["0", String(start), "65536"]);
    const sandboxPid = Number(await show("podunit-uone-sandbox.service", "MainPID"));
    expect(userNs).toBe((await t.lab.sh(["readlink", `/proc/${sandboxPid}/ns/user`])).trim());
    expect(userNs).not.toBe((await t.lab.sh(["readlink", "/proc/1/ns/user"])).trim());

    await ok(podunit("stop", "uone"));
    expect(await record("uone")).toBeUndefined();
    expect(await leftovers(t.lab, "uone")).toEqual([]);
    console.log(`userns: checked uid/gid ${start} of the member (host member 0), root-only host file refused, volume files owned by ${start}, exec in the pod's user namespace, range freed at stop`);
  }, 120_000);

  test("two running pods hold disjoint ranges of a block of two; a third is refused; each is free after its stop and taken again by the same pod", async () => {
    const spec = `userns = "auto"
[containers.m]
image = "localhost/bb:1"
command = ["sleep", "1000000"]
`;
    writeSpec(t.lab, "utwo", spec);
    writeSpec(t.lab, "uthree", spec);
    writeSpec(t.lab, "ufour", spec);
    // A block of two ranges: started at once, the pods cannot both take their preferred slot unless it differs.
    await t.lab.sh(["bash", "-c", `mkdir -p /etc/podunit && printf 'start = ${BLOCK_START}\nranges = 2\n' > /etc/podunit/userns.toml`]);
    await Promise.all([ok(podunit("start", "utwo")), ok(podunit("start", "uthree"))]);
    const third = await podunit("start", "ufour");
    expect(third.status).not.toBe(0);
    expect(third.stderr).toContain("all 2 ranges of 65536 ids");
    expect(await record("ufour")).toBeUndefined();
    expect(await leftovers(t.lab, "ufour")).toEqual([]);
    const a = await rangeOf("utwo");
    const b = await rangeOf("uthree");
    expect(a.start + a.size <= b.start || b.start + b.size <= a.start).toBe(true);
    for (const r of [a, b]) expect([BLOCK_START, BLOCK_START + 65536]).toContain(r.start);
    for (const [pod, r] of [["utwo", a], ["uthree", b]] as const) {
      const pid = Number((await t.lab.sh(["cat", `/run/podunit/${pod}/m.pid`])).trim());
      expect((await ids(pid)).uid[0]).toBe(r.start);
    }
    await ok(podunit("stop", "utwo"));
    expect(await record("utwo")).toBeUndefined();
    expect(await record("uthree")).toBe(b.start);
    await ok(podunit("start", "utwo"));
    expect((await rangeOf("utwo")).start).toBe(a.start);
    await ok(podunit("stop", "utwo"));
    await ok(podunit("stop", "uthree"));
    await t.lab.sh(["rm", "/etc/podunit/userns.toml"]);
    expect(await t.lab.sh(["ls", "/run/podunit/userns"])).toBe("");
    for (const pod of ["utwo", "uthree"]) expect(await leftovers(t.lab, pod)).toEqual([]);
    console.log(`userns: checked two pods' ranges disjoint in a block of two (${a.start}, ${b.start}), a third pod refused, freed at stop, the same range again at the next start`);
  }, 120_000);

  test("a start that fails frees its range: at a step (a missing host volume) and before any (the native backend)", async () => {
    writeSpec(
      t.lab,
      "ufail",
      `userns = "auto"
[volumes]
gone = { type = "host", path = "/srv/lab/no-such-dir" }
[containers.m]
image = "localhost/bb:1"
command = ["sleep", "1000000"]
mounts = ["gone:/gone"]
`,
    );
    const r = await podunit("start", "ufail");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("no-such-dir");
    expect(await record("ufail")).toBeUndefined();
    expect(await leftovers(t.lab, "ufail")).toEqual([]);

    writeSpec(t.lab, "unative", `userns = "auto"\n[containers.m]\nimage = "localhost/bb:1"\ncommand = ["sleep", "1000000"]\n`);
    const n = await podunit("start", "unative", "--backend", "native");
    expect(n.status).not.toBe(0);
    expect(n.stderr).toContain("needs a crun or runc sandbox");
    expect(await record("unative")).toBeUndefined();
    expect(await leftovers(t.lab, "unative")).toEqual([]);
    console.log("userns: checked a failed start (volumes step) and a refused one (native backend) leave no range held and nothing behind");
  }, 120_000);

  test("a stale record (its pod's units and run directory gone) is not held against other pods", async () => {
    // A record left by a crash: no run directory, no command holding the pod's lock.
    const { start } = JSON.parse(await ok(podunit("plan", "utwo", "--json"))).userns;
    await t.lab.sh(["bash", "-c", `mkdir -p /run/podunit/userns && echo ${start} > /run/podunit/userns/ghost`]);
    await ok(podunit("start", "utwo"));
    expect((await rangeOf("utwo")).start).toBe(start);
    expect(await record("ghost")).toBeUndefined();
    await ok(podunit("stop", "utwo"));
    console.log(`userns: checked a stale record of range ${start} is dropped and the range given to a running pod`);
  }, 120_000);
});
