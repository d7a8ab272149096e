/**
 * Health checks on a real systemd: readiness orders members (`after`), a check
 * that never passes fails and rolls back the start, a member that stops
 * answering is killed and restarted, an http check reaches a rootfs member that
 * has no http client, and a stopped pod leaves no timer or other unit.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { leftovers, RUNTIMES, useLab, writeSpec, labHelpers } from "./harness.ts";

const t = useLab("health");
const { podunit, show, mainPid, journal } = labHelpers(t);
/** A rootfs with busybox alone (no applet links, so no wget) and one page to serve. */
const BARE = "/var/lib/podunit-test/bare";
beforeAll(async () => {
  await t.lab.sh(["bash", "-c", `mkdir -p ${BARE}/bin ${BARE}/www ${BARE}/proc ${BARE}/dev ${BARE}/tmp && cp /bin/busybox ${BARE}/bin/ && echo ok >${BARE}/www/healthz`]);
}, 60_000);

async function startOk(pod: string): Promise<void> {
  const r = await podunit("start", pod);
  if (r.status !== 0) throw new Error(`podunit start ${pod} exited ${r.status}: ${r.stderr}`);
}
async function stopClean(pod: string): Promise<void> {
  const r = await podunit("stop", pod);
  expect(r.status).toBe(0);
  expect(await leftovers(t.lab, pod)).toEqual([]);
}
const mono = async (unit: string) => Number(await show(unit, "ActiveEnterTimestampMonotonic"));

/** A python http server that answers only after `delay` seconds. */
function slowServer(delay: number, port: number): string[] {
  return ["/usr/bin/python3", "-c", `import time,http.server; time.sleep(${delay}); http.server.HTTPServer(('127.0.0.1',${port}), http.server.SimpleHTTPRequestHandler).serve_forever()`];
}

describe("readiness", () => {
  test("a member after db becomes active after db's first passing check", async () => {
    writeSpec(t.lab, "ready", `
[containers.db]
command = ${JSON.stringify(slowServer(2, 8080))}
[containers.db.health]
tcp = "127.0.0.1:8080"
interval = "2s"

[containers.app]
command = ["/bin/sleep", "infinity"]
after = ["db"]
`);
    const t0 = Date.now();
    await startOk("ready");
    const took = Date.now() - t0;
    const db = "podunit-ready-db.service";
    const app = "podunit-ready-app.service";
    // db's start job ends with its first passing check, at least 2 s after its process started.
    const dbStarted = Number(await show(db, "ExecMainStartTimestampMonotonic"));
    expect((await mono(db)) - dbStarted).toBeGreaterThanOrEqual(2_000_000);
    expect(await mono(app)).toBeGreaterThanOrEqual(await mono(db));
    expect(took).toBeGreaterThanOrEqual(2000);
    expect(await show("podunit-ready-health-check.timer", "ActiveState")).toBe("active");
    const st = await podunit("status", "ready", "--json");
    const members = JSON.parse(st.stdout).members as Array<{ name: string; health?: { status: string } }>;
    expect(members.find((m) => m.name === "db")?.health?.status).toBe("healthy");
    expect(members.find((m) => m.name === "app")?.health).toBeUndefined();
    await stopClean("ready");
  }, 60_000);

  test("a check that never passes fails the start within startup_timeout + 1 s, says why, and leaves nothing", async () => {
    writeSpec(t.lab, "never", `
[containers.db]
command = ["/bin/sleep", "infinity"]
[containers.db.health]
tcp = "127.0.0.1:5432"
startup_timeout = "3s"
`);
    const r = await podunit("start", "never");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("did not pass its health check within 3s");
    expect(r.stderr).toContain("cannot connect to 127.0.0.1:5432: ECONNREFUSED");
    expect(r.stderr).toContain("Everything it started was stopped and removed.");
    // From the member's process start to the failure of its start job.
    const j = await t.lab.sh(["journalctl", "-u", "podunit-never-db.service", "-o", "short-monotonic", "--no-pager"]);
    const at = (re: RegExp) => Number(re.exec(j)?.[1]);
    const started = at(/\[\s*([\d.]+)\][^\n]*Starting podunit-never-db/);
    const failed = at(/\[\s*([\d.]+)\][^\n]*Failed to start podunit-never-db/);
    expect(failed - started).toBeGreaterThanOrEqual(3);
    expect(failed - started).toBeLessThan(4);
    expect(await leftovers(t.lab, "never")).toEqual([]);
  }, 60_000);
});

describe("liveness", () => {
  test("a member that stops answering is killed after about interval x retries and restarted", async () => {
    writeSpec(t.lab, "live", `
[containers.db]
command = ${JSON.stringify(slowServer(0, 8080))}
restart = "always"
[containers.db.health]
http = "http://127.0.0.1:8080/"
interval = "2s"
timeout = "500ms"
retries = 2
`);
    await startOk("live");
    const db = "podunit-live-db.service";
    expect(await show(db, "NRestarts")).toBe("0");
    const pid = await mainPid(db);
    await t.lab.sh(["kill", "-STOP", String(pid)]);
    const stopped = Date.now();
    let restartedAfter = 0;
    for (;;) {
      if ((await show(db, "NRestarts")) === "1") {
        restartedAfter = Date.now() - stopped;
        break;
      }
      if (Date.now() - stopped > 20_000) throw new Error("db was not restarted within 20 s");
      await Bun.sleep(100);
    }
    // Two failed checks 2 s apart: between one and two intervals after the first failure could start.
    expect(restartedAfter).toBeGreaterThan(2000);
    expect(restartedAfter).toBeLessThan(9000);
    await eventuallyActive(db);
    expect(await mainPid(db)).not.toBe(pid);
    await t.lab.sh(["journalctl", "--sync"]);
    const lines = await t.lab.sh(["journalctl", "PODUNIT_POD=live", "-o", "cat", "--no-pager"]);
    expect(lines.match(/is unhealthy/g)?.length).toBe(1);
    expect(lines.match(/healthy again/g)?.length).toBe(1);
    // systemd's own lines about each check ("Starting ...", "Finished ...") are not in the journal.
    expect(await journal("podunit-live-health-check.service")).not.toContain("Starting");
    const st = JSON.parse((await podunit("status", "live", "--json")).stdout);
    const h = st.members.find((m: { name: string }) => m.name === "db").health;
    expect(h.status).toBe("healthy");
    expect(h.lastFailure.output).toContain("no answer from 127.0.0.1:8080");
    await stopClean("live");
  }, 60_000);
});

async function eventuallyActive(unit: string): Promise<void> {
  const end = Date.now() + 15_000;
  while ((await show(unit, "ActiveState")) !== "active") {
    if (Date.now() > end) throw new Error(`${unit} is not active again`);
    await Bun.sleep(100);
  }
}

describe("checks from outside the member", () => {
  test("an http check passes against a rootfs without curl or wget", async () => {
    expect(await t.lab.sh(["bash", "-c", `ls ${BARE}/bin; find ${BARE} -name wget -o -name curl`])).toBe("busybox\n");
    writeSpec(t.lab, "bare", `
[containers.web]
rootfs = "${BARE}"
command = ["/bin/busybox", "httpd", "-f", "-p", "127.0.0.1:8080", "-h", "/www"]
[containers.web.health]
http = "http://127.0.0.1:8080/healthz"
startup_timeout = "10s"
`);
    await startOk("bare");
    expect(await show("podunit-bare-web.service", "ActiveState")).toBe("active");
    // The server is reachable only inside the pod's network namespace, where the check ran.
    const st = JSON.parse((await podunit("status", "bare", "--json")).stdout);
    expect(st.members[0].health.status).toBe("healthy");
    await stopClean("bare");
  }, 60_000);

  test("an exec check runs in the member's namespaces and cgroup", async () => {
    writeSpec(t.lab, "ex", `
[containers.db]
command = ["/bin/sh", "-c", "sleep 1; touch /tmp/ex-ready-$$; exec sleep infinity"]
[containers.db.health]
exec = ["/bin/sh", "-c", "cat /proc/self/cgroup | grep -q podunit-ex-db.service && hostname | grep -qx ex && ls /tmp/ex-ready-* >/dev/null"]
interval = "1s"
`);
    await startOk("ex");
    expect(await show("podunit-ex-db.service", "ActiveState")).toBe("active");
    await stopClean("ex");
  }, 60_000);

  for (const runtime of RUNTIMES) {
    test(`${runtime}: an exec check runs inside a rootfs member as its user, in its directory, with no new privileges`, async () => {
      const pod = `ex${runtime}`;
      writeSpec(t.lab, pod, `
[containers.box]
rootfs = "${BARE}"
runtime = "${runtime}"
user = "1000:1000"
workdir = "/tmp"
command = ["/bin/busybox", "sleep", "1000000"]
[containers.box.health]
exec = ["/bin/busybox", "sh", "-c", "[ $(/bin/busybox id -u):$(/bin/busybox id -g) = 1000:1000 ] && [ $PWD = /tmp ] && /bin/busybox grep -q 'NoNewPrivs:.1' /proc/self/status"]
interval = "1s"
startup_timeout = "5s"
`);
      await startOk(pod);
      expect(await show(`podunit-${pod}-box.service`, "ActiveState")).toBe("active");
      expect(JSON.parse((await podunit("status", pod, "--json")).stdout).members[0].health.status).toBe("healthy");
      await stopClean(pod);
    }, 60_000);
  }
});
