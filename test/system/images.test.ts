/**
 * Image members on a real systemd: images built here from busybox-static and
 * loaded with `podunit image load`, members whose roots are overlays of their
 * layers, the image's config under the spec's keys, exec, two images talking over
 * localhost, nothing left after stop (no overlay, no writable layer), many
 * cycles, a missing image refused before anything starts, and a unit-file pod.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { eventually, labHelpers, leftovers, useLab, writeSpec } from "./harness.ts";
import { busyboxLayer, filesLayer, writeImage } from "./images-build.ts";

const t = useLab("images");
const { podunit, show, journal } = labHelpers(t);

/** Overlay mounts and writable layers of `pod` anywhere in the lab (every process's mount table). */
async function rootLeftovers(pod: string): Promise<string[]> {
  const script = `
    cat /proc/[0-9]*/mountinfo 2>/dev/null | grep -F " /run/podunit/$1/" | awk '{print "mount " $5}' | sort -u
    [ -e /run/podunit/$1/layers ] && echo "writable layers /run/podunit/$1/layers"
    [ -e /run/podunit/$1/rootfs ] && echo "mount points /run/podunit/$1/rootfs"
    true`;
  return (await t.lab.sh(["bash", "-c", script, "x", pod])).split("\n").filter(Boolean);
}

async function ok(p: Promise<{ status: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function stopClean(pod: string): Promise<void> {
  await ok(podunit("stop", pod));
  expect(await leftovers(t.lab, pod)).toEqual([]);
  expect(await rootLeftovers(pod)).toEqual([]);
}

beforeAll(async () => {
  const base = busyboxLayer();
  const dir = join(t.lab.shareDir, "images");
  writeImage(join(dir, "bb"), "localhost/bb:1", [base], {
    Cmd: ["sh", "-c", "echo from-image-cmd; exec sleep 1000000"],
    Env: ["PATH=/bin", "GREETING=image", "KEEP=image"],
    WorkingDir: "/home/app",
    User: "app",
    StopSignal: "SIGINT",
  });
  writeImage(join(dir, "web"), "localhost/web:1", [base, filesLayer({ "www/index.html": "hello from an image\n" })], {
    Entrypoint: ["httpd", "-f", "-h", "/www"],
    Cmd: ["-p", "8080"],
    Env: ["PATH=/bin"],
  });
  writeImage(join(dir, "client"), "localhost/client:1", [base], {
    Entrypoint: ["sh", "-c"],
    Cmd: ["while true; do wget -q -O - http://127.0.0.1:8080/ || echo no-answer; sleep 0.3; done"],
    Env: ["PATH=/bin"],
  });
  for (const name of ["bb", "web", "client"]) await ok(podunit("image", "load", `/srv/lab/images/${name}`));
}, 120_000);

describe("image members", () => {
  // runc first: the tests below run the crun (default) pod's spec again.
  for (const runtime of ["runc", "crun"] as const) {
  const pod = runtime === "crun" ? "twoimg" : "twoimgrunc";
  test(`${runtime}: two members of one image start against systemd, each with its own writable layer, the image's config and the spec's keys`, async () => {
    writeSpec(
      t.lab,
      pod,
      `${runtime === "crun" ? "" : `runtime = "${runtime}"\n`}[containers.a]
image = "localhost/bb:1"
command = ["sh", "-c", "echo a > note; echo user=$(id -u):$(id -g) dir=$PWD greeting=$GREETING keep=$KEEP; exec sleep 1000000"]
env = { GREETING = "spec" }

[containers.b]
image = "localhost/bb:1"
command = ["sh", "-c"]
args = ["echo b > note; echo b-started; exec sleep 1000000"]
user = "nobody:staff"
workdir = "/tmp"
`,
    );
    await ok(podunit("start", pod));
    for (const m of ["a", "b"]) expect(await show(`podunit-${pod}-${m}.service`, "ActiveState")).toBe("active");
    expect(await show(`podunit-${pod}-a.service`, "ExecStart")).toMatch(new RegExp(`path=/usr/s?bin/${runtime} ;`));
    // The image's StopSignal is the members' KillSignal.
    expect(await show(`podunit-${pod}-a.service`, "KillSignal")).toBe("2");
    const a = await eventually("a's first line", async () => {
      const j = await journal(`podunit-${pod}-a.service`);
      return j.includes("user=") && j;
    });
    // User from the image (app), looked up in its /etc/passwd; env: image's, the spec's wins per name.
    expect(a).toContain("user=1000:1000 dir=/home/app greeting=spec keep=image");
    // exec into an image member; each member sees only its own write.
    expect((await ok(podunit("exec", pod, "a", "cat", "/home/app/note"))).trim()).toBe("a");
    expect((await ok(podunit("exec", pod, "b", "cat", "/tmp/note"))).trim()).toBe("b");
    expect((await podunit("exec", pod, "b", "cat", "/home/app/note")).status).not.toBe(0);
    expect((await ok(podunit("exec", pod, "b", "id"))).trim()).toContain("uid=65534(nobody) gid=50(staff)");
    // The writes are in the members' own layers, not in the image.
    expect((await t.lab.sh(["cat", `/run/podunit/${pod}/layers/a/upper/home/app/note`])).trim()).toBe("a");
    expect((await t.lab.run(["bash", "-c", "ls /var/lib/podunit/images/layers/sha256/*/home/app/note"])).status).not.toBe(0);
    const status = JSON.parse(await ok(podunit("status", pod, "--json")));
    expect(status.state).toBe("running");
    await stopClean(pod);
    // A clean stop by the image's stop signal, not a failure.
    expect(await show(`podunit-${pod}-a.service`, "ActiveState")).toBe("inactive");
  });
  }

  test("a web server from one image and a client from another talk over localhost", async () => {
    writeSpec(
      t.lab,
      "webimg",
      `[containers.web]
image = "localhost/web:1"

[containers.client]
image = "localhost/client:1"
readonly_rootfs = true
after = ["web"]
`,
    );
    await ok(podunit("start", "webimg"));
    await eventually("the client's answer", async () => (await journal("podunit-webimg-client.service")).includes("hello from an image"), 15_000);
    // The client's root is read-only (a bind of its one layer).
    expect((await podunit("exec", "webimg", "client", "touch", "/x")).status).not.toBe(0);
    await stopClean("webimg");
  });

  test("a repair mounts again the root of a member that is down and whose root is gone", async () => {
    await ok(podunit("start", "twoimg"));
    await t.lab.sh(["systemctl", "stop", "podunit-twoimg-a.service"]);
    await t.lab.sh(["umount", "/run/podunit/twoimg/rootfs/a"]);
    const out = await ok(podunit("start", "twoimg"));
    expect(out).toContain("podunit-twoimg-a.service");
    expect(await show("podunit-twoimg-a.service", "ActiveState")).toBe("active");
    expect((await ok(podunit("exec", "twoimg", "a", "cat", "/home/app/note"))).trim()).toBe("a");
    await stopClean("twoimg");
  });

  test("a member that fails after the roots were mounted: the start is undone, no mount or writable layer left", async () => {
    // An init member that fails: its start job fails after both roots were mounted.
    writeSpec(t.lab, "badimg", `[containers.a]\nimage = "localhost/bb:1"\n\n[containers.b]\nimage = "localhost/bb:1"\nkind = "init"\ncommand = ["sh", "-c", "exit 3"]\n`);
    const r = await podunit("start", "badimg");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("Everything it started was stopped and removed.");
    expect(await leftovers(t.lab, "badimg")).toEqual([]);
    expect(await rootLeftovers("badimg")).toEqual([]);
    await t.lab.sh(["rm", "/srv/lab/pods/badimg.toml"]);
  });

  test("podunit plan shows the resolved values and where each came from", async () => {
    const out = await ok(podunit("plan", "twoimg"));
    expect(out).toContain("Image members:");
    expect(out).toMatch(/a: image 'localhost\/bb:1' = sha256:[0-9a-f]{64}/);
    expect(out).toContain(`command:     ["sh","-c","echo a > note; echo user=$(id -u):$(id -g) dir=$PWD greeting=$GREETING keep=$KEEP; exec sleep 1000000"]  (spec)`);
    expect(out).toContain(`command:     ["sh","-c","echo b > note; echo b-started; exec sleep 1000000"]  (spec)`);
    expect(out).toContain("user:        1000:1000 (app)  (image)");
    expect(out).toContain("stop signal: SIGINT  (image)");
  });

  test("50 start/stop cycles of an image pod leave nothing behind", async () => {
    for (let i = 0; i < 50; i++) {
      await ok(podunit("start", "twoimg"));
      await ok(podunit("stop", "twoimg"));
    }
    expect(await leftovers(t.lab, "twoimg")).toEqual([]);
    expect(await rootLeftovers("twoimg")).toEqual([]);
  }, 600_000);

  test("a missing image is refused before anything starts, naming it and how to get it", async () => {
    writeSpec(t.lab, "noimg", `[containers.a]\nimage = "localhost/bb:1"\n\n[containers.b]\nimage = "localhost/nope:2"\n`);
    const r = await podunit("start", "noimg");
    expect(r.status).toBe(5);
    expect(r.stderr).toContain("Pod 'noimg' cannot run: image 'localhost/nope:2' for member 'b' is not in the image store '/var/lib/podunit/images'");
    expect(r.stderr).toContain("podunit image load");
    expect(r.stderr).toContain("podunit image pull");
    expect(await leftovers(t.lab, "noimg")).toEqual([]);
    expect(await rootLeftovers("noimg")).toEqual([]);
  });

  test("a program the image does not have is refused before anything starts; one reached through the image's links is found", async () => {
    writeSpec(t.lab, "noprog", `[containers.a]\nimage = "localhost/bb:1"\ncommand = ["nosuchprogram"]\n\n[containers.b]\nimage = "localhost/bb:1"\ncommand = ["/bin/sh", "-c", "true"]\n`);
    const r = await podunit("start", "noprog");
    expect(r.status).toBe(5);
    expect(r.stderr).toContain("Pod 'noprog' cannot run: member 'a': program 'nosuchprogram' is not in its image 'localhost/bb:1' (PATH /bin)");
    expect(r.stderr).not.toContain("member 'b'");
    expect(await leftovers(t.lab, "noprog")).toEqual([]);
    expect(await rootLeftovers("noprog")).toEqual([]);
    await t.lab.sh(["rm", "/srv/lab/pods/noprog.toml"]);
  });

  test("image rm refuses an image a spec in the spec directory uses, and one a running pod uses", async () => {
    const r = await podunit("image", "rm", "localhost/web:1");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("is in use by 'webimg'");
    // A running pod counts by what it recorded at start, even once its spec is gone.
    await ok(podunit("start", "twoimg"));
    expect(await t.lab.sh(["cat", "/run/podunit/twoimg/images.json"])).toContain("localhost/bb:1");
    await t.lab.sh(["mv", "/srv/lab/pods/twoimg.toml", "/srv/lab/twoimg.toml"]);
    await t.lab.sh(["mv", "/srv/lab/pods/noimg.toml", "/srv/lab/noimg.toml"]);
    await t.lab.sh(["mv", "/srv/lab/pods/enimg.toml", "/srv/lab/enimg.toml"]).catch(() => "");
    const busy = await podunit("image", "rm", "localhost/bb:1");
    expect(busy.stderr).toContain("is in use by 'twoimg'");
    const pruned = await ok(podunit("image", "prune"));
    expect(pruned).toContain("Removed 0 unnamed images");
    await t.lab.sh(["mv", "/srv/lab/twoimg.toml", "/srv/lab/pods/twoimg.toml"]);
    await stopClean("twoimg");
  });

  test("a unit-file pod (enable --now) with image members runs, and stops clean", async () => {
    writeSpec(
      t.lab,
      "enimg",
      `[install]\nwanted_by = ["multi-user.target"]\n\n[containers.web]\nimage = "localhost/web:1"\n\n[containers.one]\nimage = "localhost/web:1"\nreadonly_rootfs = true\ncommand = ["sleep", "1000000"]\n`,
    );
    await ok(podunit("enable", "enimg", "--now"));
    for (const m of ["web", "one"]) expect(await show(`podunit-enimg-${m}.service`, "ActiveState")).toBe("active");
    const unit = await t.lab.sh(["systemctl", "cat", "podunit-enimg-web.service"]);
    expect(unit).toMatch(/ExecStartPre=.*internal mount-root --image localhost\/web:1 --digest sha256:[0-9a-f]{64}/);
    expect(unit).toMatch(/--image localhost\/web:1=sha256:[0-9a-f]{64}/);
    expect(unit).toContain("internal umount-root /run/podunit/enimg/rootfs/web");
    expect((await t.lab.sh(["findmnt", "-n", "-o", "FSTYPE", "/run/podunit/enimg/rootfs/web"])).trim()).toBe("overlay");
    // Read-only and two layers: an overlay without an upper directory.
    expect((await t.lab.sh(["findmnt", "-n", "-o", "FSTYPE,OPTIONS", "/run/podunit/enimg/rootfs/one"])).trim()).toMatch(/^overlay\s+ro,/);
    // A restart by systemd keeps the root (ExecStopPost unmounts, ExecStartPre mounts again).
    await t.lab.sh(["systemctl", "restart", "podunit-enimg-web.service"]);
    expect(await show("podunit-enimg-web.service", "ActiveState")).toBe("active");
    await ok(podunit("disable", "enimg", "--now"));
    expect(await leftovers(t.lab, "enimg")).toEqual([]);
    expect(await rootLeftovers("enimg")).toEqual([]);
  });
});
