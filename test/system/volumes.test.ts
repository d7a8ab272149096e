/**
 * Pod volumes on a real systemd: a persistent volume's data survives stop and
 * start and `podunit stop` never removes it; two members (one on the host's file
 * system, one under runc) share a scratch volume that is gone after stop; a tmpfs
 * refuses writes past its size (ENOSPC); `:ro` is read-only down to a mount below
 * the volume (EROFS) for both kinds of member; a missing host path refuses the
 * start before anything runs; `volume list/inspect/rm`; image members mount
 * volumes as runc members do; a unit-file pod makes and removes its volumes itself.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BUSYBOX_ROOTFS, labHelpers, leftovers, makeRootfs, useLab, writeSpec } from "./harness.ts";
import { busyboxLayer, writeImage } from "./images-build.ts";

const t = useLab("volumes");
const { podunit, show } = labHelpers(t);
beforeAll(async () => {
  await makeRootfs(t.lab);
}, 60_000);

async function ok(p: Promise<{ status: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Runs `sh -c script` inside a member: nsenter into its main process's mount (and pod) namespaces. */
async function inMember(pod: string, m: string, script: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const pid = (await show(`podunit-${pod}-${m}.service`, "MainPID")).trim();
  // A runc member's main process is its init; sh runs in the container's root.
  return t.lab.run(["nsenter", "-t", pid, "-m", "-p", "-n", "-i", "-u", "--", "/bin/busybox", "sh", "-c", script]);
}

/** A volume's files or mounts left anywhere in the lab. */
async function volumeLeftovers(pod: string): Promise<string[]> {
  const script = `
    cat /proc/[0-9]*/mountinfo 2>/dev/null | grep -F " /run/podunit/$1/volumes/" | awk '{print "mount " $5}' | sort -u
    [ -e /run/podunit/$1/volumes ] && echo "dir /run/podunit/$1/volumes"
    true`;
  return (await t.lab.sh(["bash", "-c", script, "x", pod])).split("\n").filter(Boolean);
}

const SPEC = `
[volumes.data]
owner = "1000:1000"
mode = "0750"

[volumes.shared]
type = "scratch"

[volumes.mem]
type = "tmpfs"
size = "1M"

[volumes.conf]
type = "host"
path = "/srv/conf"

[containers.host]
command = ["/bin/busybox", "sleep", "1000000"]
mounts = ["data:/srv/data", "shared:/srv/shared", "mem:/srv/mem", "conf:/srv/conf-ro:ro"]

[containers.box]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sleep", "1000000"]
mounts = ["shared:/shared", "conf:/conf:ro", "data:/data"]

[containers.rbox]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sleep", "1000000"]
mounts = ["shared:/shared", "conf:/conf:ro"]
runtime = "runc"

[containers.plain]
command = ["/bin/busybox", "sleep", "1000000"]
`;

describe("volumes of a transient pod", () => {
  const pod = "vol";
  test("start makes every volume with its owner and mode; a member without mounts keeps the host's mount namespace", async () => {
    // A host directory with a mount below it: :ro must reach the mount too.
    await t.lab.sh(["bash", "-c", "mkdir -p /srv/conf/sub && echo conf > /srv/conf/file && mount -t tmpfs -o size=1M tmpfs /srv/conf/sub"]);
    writeSpec(t.lab, pod, SPEC);
    await ok(podunit("start", pod, "--backend", "runc"));
    const st = await t.lab.sh(["stat", "-c", "%u:%g %a", "/var/lib/podunit/volumes/vol/data"]);
    expect(st.trim()).toBe("1000:1000 750");
    expect((await t.lab.sh(["findmnt", "-n", "-o", "FSTYPE,OPTIONS", "/run/podunit/vol/volumes/mem"])).trim()).toMatch(/^tmpfs .*size=1024k/);
    const mntOf = async (m: string) => (await t.lab.sh(["readlink", `/proc/${await show(`podunit-${pod}-${m}.service`, "MainPID")}/ns/mnt`])).trim();
    const own = (await t.lab.sh(["readlink", "/proc/1/ns/mnt"])).trim();
    expect(await mntOf("plain")).toBe(own);
    expect(await mntOf("host")).not.toBe(own);
  });

  test("two members see each other's files in the scratch volume", async () => {
    await ok(inMember(pod, "host", "echo from-host > /srv/shared/a"));
    await ok(inMember(pod, "box", "echo from-box > /shared/b"));
    expect(await ok(inMember(pod, "box", "cat /shared/a"))).toBe("from-host\n");
    expect(await ok(inMember(pod, "rbox", "cat /shared/b"))).toBe("from-box\n");
    expect(await ok(inMember(pod, "host", "cat /srv/shared/b"))).toBe("from-box\n");
  });

  test("a tmpfs volume refuses writes past its size with ENOSPC", async () => {
    const r = await inMember(pod, "host", "dd if=/dev/zero of=/srv/mem/big bs=64k count=32 2>&1; echo rc=$?");
    expect(r.stdout).toContain("No space left on device");
    expect(r.stdout).not.toContain("rc=0");
  });

  test(":ro is read-only down to the mount below the volume (EROFS), for a host member, a crun member and a runc member", async () => {
    // box runs under crun (the default), rbox under runc: both take rro.
    for (const [m, dir] of [["host", "/srv/conf-ro"], ["box", "/conf"], ["rbox", "/conf"]] as const) {
      expect(await ok(inMember(pod, m, `cat ${dir}/file`))).toBe("conf\n");
      for (const f of [`${dir}/new`, `${dir}/sub/new`]) {
        const r = await inMember(pod, m, `echo x > ${f}`);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain("Read-only file system");
      }
    }
  });

  test("persistent data survives stop and start; stop removes scratch and tmpfs, never the persistent volume", async () => {
    await ok(inMember(pod, "box", "echo kept > /data/file"));
    await ok(podunit("stop", pod));
    expect(await leftovers(t.lab, pod)).toEqual([]);
    expect(await volumeLeftovers(pod)).toEqual([]);
    expect(await t.lab.sh(["cat", "/var/lib/podunit/volumes/vol/data/file"])).toBe("kept\n");
    await ok(podunit("start", pod));
    expect(await ok(inMember(pod, "host", "cat /srv/data/file"))).toBe("kept\n");
    // The scratch volume starts empty again.
    expect(await ok(inMember(pod, "box", "ls -A /shared"))).toBe("");
  });

  test("volume list and inspect show it; rm is refused while the pod runs and works after stop", async () => {
    const list = JSON.parse(await ok(podunit("volume", "list", "--json")));
    expect(list.volumes).toContainEqual({ pod: "vol", name: "data", path: "/var/lib/podunit/volumes/vol/data", owner: "1000:1000", mode: "0750", bytes: 5 });
    expect(await ok(podunit("volume", "list"))).toMatch(/^vol\/data\s+1000:1000\s+0750\s+5B?\s+\/var\/lib\/podunit\/volumes\/vol\/data$/m);
    expect(JSON.parse(await ok(podunit("volume", "inspect", "vol/data"))).path).toBe("/var/lib/podunit/volumes/vol/data");
    const busy = await podunit("volume", "rm", "vol/data");
    expect(busy.status).not.toBe(0);
    expect(busy.stderr).toContain("Failed to remove volume 'vol/data': pod 'vol' is running");
    expect(await t.lab.sh(["cat", "/var/lib/podunit/volumes/vol/data/file"])).toBe("kept\n");
    await ok(podunit("stop", pod));
    expect(await ok(podunit("volume", "rm", "vol/data"))).toContain("Removed volume vol/data");
    expect((await t.lab.run(["test", "-e", "/var/lib/podunit/volumes/vol"])).status).not.toBe(0);
    const bad = await podunit("volume", "rm", "../etc");
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("is not a volume: expected POD/NAME");
  });
});

describe("a start that cannot have its volumes", () => {
  test("a missing host path refuses the start before anything runs, and leaves nothing", async () => {
    writeSpec(t.lab, "volmiss", `
[volumes.gone]
type = "host"
path = "/srv/not-there"

[volumes.data]

[volumes.tmp]
type = "tmpfs"
size = "1M"

[containers.a]
command = ["/bin/busybox", "sleep", "1000000"]
mounts = ["gone:/gone", "data:/data", "tmp:/tmp2"]
`);
    const r = await podunit("start", "volmiss");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("Host volume 'gone' ('/srv/not-there') does not exist.");
    expect(await leftovers(t.lab, "volmiss")).toEqual([]);
    expect(await volumeLeftovers("volmiss")).toEqual([]);
    expect((await t.lab.run(["test", "-e", "/var/lib/podunit/volumes/volmiss"])).status).not.toBe(0);
  });

  test("a persistent volume whose directory is a link out of the pod's volume directory is refused", async () => {
    await t.lab.sh(["bash", "-c", "mkdir -p /var/lib/podunit/volumes/vollink /srv/elsewhere && ln -sfn /srv/elsewhere /var/lib/podunit/volumes/vollink/data"]);
    writeSpec(t.lab, "vollink", `
[volumes.data]

[containers.a]
command = ["/bin/busybox", "sleep", "1000000"]
mounts = ["data:/data"]
`);
    const r = await podunit("start", "vollink");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("is a symbolic link, and podunit does not follow it out of its volume directory");
    expect(await leftovers(t.lab, "vollink")).toEqual([]);
  });

  test("a member that fails after the volumes were made removes scratch and tmpfs, keeps persistent data", async () => {
    await t.lab.sh(["bash", "-c", "mkdir -p /var/lib/podunit/volumes/volfail/data && echo old > /var/lib/podunit/volumes/volfail/data/file"]);
    writeSpec(t.lab, "volfail", `
[volumes.data]

[volumes.s]
type = "scratch"

[volumes.tmp]
type = "tmpfs"
size = "1M"

[containers.a]
command = ["/bin/busybox", "sleep", "1000000"]
mounts = ["data:/data", "s:/s", "tmp:/tmp2"]

[containers.bad]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sh", "-c", "exit 3"]
kind = "init"
mounts = ["s:/s"]
`);
    const r = await podunit("start", "volfail");
    expect(r.status).not.toBe(0);
    expect(await leftovers(t.lab, "volfail")).toEqual([]);
    expect(await volumeLeftovers("volfail")).toEqual([]);
    expect(await t.lab.sh(["cat", "/var/lib/podunit/volumes/volfail/data/file"])).toBe("old\n");
  });
});

describe("image members", () => {
  test("mount volumes through OCI bind mounts: shared scratch, persistent data, :ro down to a submount", async () => {
    writeImage(join(t.lab.shareDir, "images", "bb"), "localhost/bb:1", [busyboxLayer()], { Cmd: ["sleep", "1000000"], Env: ["PATH=/bin"] });
    await ok(podunit("image", "load", "/srv/lab/images/bb"));
    writeSpec(t.lab, "volimg", `
[volumes.data]

[volumes.s]
type = "scratch"

[volumes.conf]
type = "host"
path = "/srv/conf"

[containers.img]
image = "localhost/bb:1"
mounts = ["data:/data", "s:/s", "conf:/conf:ro"]

[containers.host]
command = ["/bin/busybox", "sleep", "1000000"]
mounts = ["s:/srv/s"]
`);
    await ok(podunit("start", "volimg"));
    await ok(inMember("volimg", "img", "echo img > /s/f && echo d > /data/d"));
    expect(await ok(inMember("volimg", "host", "cat /srv/s/f"))).toBe("img\n");
    for (const f of ["/conf/new", "/conf/sub/new"]) expect((await inMember("volimg", "img", `echo x > ${f}`)).stderr).toContain("Read-only file system");
    await ok(podunit("stop", "volimg"));
    expect(await leftovers(t.lab, "volimg")).toEqual([]);
    expect(await volumeLeftovers("volimg")).toEqual([]);
    expect(await t.lab.sh(["cat", "/var/lib/podunit/volumes/volimg/data/d"])).toBe("d\n");
  });
});

describe("a unit-file pod", () => {
  test("makes its volumes in the sandbox's ExecStartPre and removes scratch and tmpfs after it stopped", async () => {
    writeSpec(t.lab, "volunit", `
[install]

[volumes.data]

[volumes.mem]
type = "tmpfs"
size = "1M"

[containers.a]
command = ["/bin/busybox", "sleep", "1000000"]
mounts = ["data:/srv/data", "mem:/srv/mem"]

[containers.b]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sleep", "1000000"]
mounts = ["mem:/mem", "data:/data:ro"]
`);
    await ok(podunit("enable", "volunit", "--now"));
    await ok(inMember("volunit", "a", "echo unit > /srv/data/f && echo m > /srv/mem/m"));
    expect(await ok(inMember("volunit", "b", "cat /data/f /mem/m"))).toBe("unit\nm\n");
    expect((await inMember("volunit", "b", "echo x > /data/g")).stderr).toContain("Read-only file system");
    // Waits for both stop jobs: the target's, and the sandbox's (its ExecStopPost removes the volumes).
    await t.lab.sh(["systemctl", "stop", "podunit-volunit.target", "podunit-volunit-sandbox.service"]);
    expect(await volumeLeftovers("volunit")).toEqual([]);
    expect(await t.lab.sh(["cat", "/var/lib/podunit/volumes/volunit/data/f"])).toBe("unit\n");
    await ok(podunit("disable", "volunit"));
    await ok(podunit("stop", "volunit"));
    expect(await leftovers(t.lab, "volunit")).toEqual([]);
  });
});
