/**
 * `podunit apply` on a real systemd: limits change live (every MainPID and
 * InvocationID kept, the cgroup files show the new values), a changed member
 * restarts alone, members are added and removed alone, pod-wide changes are
 * refused without --recreate, --dry-run and a second apply touch nothing, and a
 * failure half-way gives the pod back as it was. Also: restart and apply use
 * the spec file the pod was started from; status of a pod that does not exist.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { BUSYBOX_ROOTFS, labHelpers, leftovers, makeRootfs, useLab, writeSpec } from "./harness.ts";
import { cgroupLimits } from "./twins.ts";

const t = useLab("apply");
const { podunit, show } = labHelpers(t);
const sh = (...argv: string[]) => t.lab.sh(argv);
const MiB = (n: number) => String(n * 1024 * 1024);
/** What the cgroup files say when there is no memory limit. */
const noMemoryLimit = () => (t.lab.cgroupMode === "unified" ? "max" : "9223372036854771712");

const sliceCg = (pod: string) => `/podunit.slice/podunit-${pod}.slice`;
const memberCg = (pod: string, m: string) => `${sliceCg(pod)}/podunit-${pod}-${m}.service`;
const unit = (pod: string, m: string) => `podunit-${pod}-${m}.service`;

/** MainPID and InvocationID of each unit of the pod that is loaded, by member ("sandbox" too). */
async function identities(pod: string, members: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const m of ["sandbox", ...members]) {
    out[m] = `${await show(unit(pod, m), "ActiveState")} ${await show(unit(pod, m), "MainPID")} ${await show(unit(pod, m), "InvocationID")}`;
  }
  return out;
}

/** Everything of the pod that apply could change: units and their states, limits in the cgroup files, run files with checksums, transient files. */
async function everything(pod: string): Promise<string> {
  return sh("bash", "-c", `
    systemctl list-units --all --plain --no-legend "podunit-${pod}.slice" "podunit-${pod}-*" | sort
    for u in $(systemctl list-units --all --plain --no-legend "podunit-${pod}.slice" "podunit-${pod}-*" | awk '{print $1}'); do
      echo "$u $(systemctl show -p MainPID -p InvocationID -p MemoryMax -p Environment --value "$u" | tr '\\n' ' ')"
    done
    find /sys/fs/cgroup -path "*podunit-${pod}.slice*" -name memory.limit_in_bytes -o -path "*podunit-${pod}.slice*" -name memory.max | sort | xargs -r grep -H .
    find /run/podunit/${pod} -type f | sort | xargs -r md5sum
    find /run/systemd/transient -path "*podunit-${pod}[.-]*" -type f | sort | xargs -r md5sum
  `);
}

async function ok(args: string[]): Promise<string> {
  const r = await podunit(...args);
  if (r.status !== 0) throw new Error(`podunit ${args.join(" ")} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const spec = (o: { pod?: string; a?: string; bEnv?: string; extra?: string; hostname?: string } = {}) => `
${o.hostname ? `hostname = "${o.hostname}"` : ""}
${o.pod ? `memory_max = "${o.pod}"` : ""}
[containers.a]
command = ["/bin/sleep", "600"]
${o.a ? `memory_max = "${o.a}"` : ""}
[containers.b]
command = ["/bin/sleep", "600"]
env = { GREETING = "${o.bEnv ?? "hi"}" }
${o.extra ?? ""}`;

describe("apply", () => {
  const pod = "ap";
  test("raising and lowering the pod's and a member's memory_max restarts nothing; the cgroup files follow", async () => {
    writeSpec(t.lab, pod, spec({ pod: "64M", a: "32M" }));
    await ok(["start", pod, "--backend", "native"]);
    const before = await identities(pod, ["a", "b"]);
    expect(Object.values(before).every((v) => v.startsWith("active "))).toBe(true);

    writeSpec(t.lab, pod, spec({ pod: "128M", a: "48M" }));
    const up = await ok(["apply", pod]);
    expect(up).toContain("limits changed live on the pod: MemoryMax 67108864 -> 134217728");
    expect(up).toContain("limits changed live on member 'a': MemoryMax 33554432 -> 50331648");
    expect(await identities(pod, ["a", "b"])).toEqual(before);
    expect((await cgroupLimits(t.lab, sliceCg(pod))).memory).toBe(MiB(128));
    expect((await cgroupLimits(t.lab, memberCg(pod, "a"))).memory).toBe(MiB(48));

    // Lowered on the pod, removed on the member.
    writeSpec(t.lab, pod, spec({ pod: "96M" }));
    expect(await ok(["apply", pod])).toContain("limits changed live on member 'a': MemoryMax 50331648 -> (none)");
    expect(await identities(pod, ["a", "b"])).toEqual(before);
    expect((await cgroupLimits(t.lab, sliceCg(pod))).memory).toBe(MiB(96));
    expect((await cgroupLimits(t.lab, memberCg(pod, "a"))).memory).toBe(noMemoryLimit());
    expect(await show(unit(pod, "a"), "MemoryMax")).toBe("infinity");
  });

  test("the same spec again: nothing to do, nothing touched", async () => {
    const before = await everything(pod);
    expect(await ok(["apply", pod])).toBe(`Pod '${pod}' already runs as /srv/lab/pods/${pod}.toml says; nothing to do.\n`);
    expect(await everything(pod)).toBe(before);
  });

  test("--dry-run prints the changes by class and changes nothing", async () => {
    writeSpec(t.lab, pod, spec({ pod: "200M", bEnv: "hello", extra: `[containers.c]\ncommand = ["/bin/sleep", "600"]\n` }));
    const before = await everything(pod);
    const out = await ok(["apply", pod, "--dry-run"]);
    expect(out).toContain("would change (nothing was changed)");
    expect(out).toContain("limits changed live on the pod: MemoryMax 100663296 -> 209715200");
    expect(out).toContain("member 'b' restarts: Environment changed");
    expect(out).toContain("member 'c' is added and started");
    expect(await everything(pod)).toBe(before);
  });

  test("one member's env changed: exactly that member restarts, with the new environment", async () => {
    writeSpec(t.lab, pod, spec({ pod: "96M", bEnv: "hello" }));
    const before = await identities(pod, ["a", "b"]);
    expect(await ok(["apply", pod])).toContain("member 'b' restarts: Environment changed");
    const after = await identities(pod, ["a", "b"]);
    expect(after.sandbox).toBe(before.sandbox!);
    expect(after.a).toBe(before.a!);
    expect(after.b).not.toBe(before.b!);
    expect(after.b!.startsWith("active ")).toBe(true);
    const pid = await show(unit(pod, "b"), "MainPID");
    expect(await sh("bash", "-c", `tr '\\0' '\\n' < /proc/${pid}/environ | grep GREETING`)).toBe("GREETING=hello\n");
  });

  test("a member added starts alone; removed, it stops alone", async () => {
    const before = await identities(pod, ["a", "b"]);
    writeSpec(t.lab, pod, spec({ pod: "96M", bEnv: "hello", extra: `[containers.c]\ncommand = ["/bin/sleep", "600"]\n` }));
    expect(await ok(["apply", pod])).toContain("member 'c' is added and started");
    expect(await identities(pod, ["a", "b"])).toEqual(before);
    expect(await show(unit(pod, "c"), "ActiveState")).toBe("active");

    writeSpec(t.lab, pod, spec({ pod: "96M", bEnv: "hello" }));
    expect(await ok(["apply", pod])).toContain("member 'c' is stopped and removed");
    expect(await identities(pod, ["a", "b"])).toEqual(before);
    expect(await show(unit(pod, "c"), "LoadState")).toBe("not-found");
  });

  test("a hostname change without --recreate is refused and changes nothing; with it the whole pod restarts", async () => {
    const before = await everything(pod);
    writeSpec(t.lab, pod, spec({ pod: "96M", bEnv: "hello", hostname: "renamed" }));
    const r = await podunit("apply", pod);
    expect(r.status).toBe(6);
    expect(r.stderr).toContain(`Refused to apply the spec to pod '${pod}': the pod's hostname or namespaces changed, and that needs the whole pod started again. Nothing was changed.`);
    expect(r.stderr).toContain(`'podunit apply ${pod} --recreate'`);
    expect(await everything(pod)).toBe(before);

    const sandbox = await identities(pod, []);
    expect(await ok(["apply", pod, "--recreate"])).toContain("whole pod restarts");
    expect(await identities(pod, [])).not.toEqual(sandbox);
    const pid = await show(unit(pod, "a"), "MainPID");
    expect((await sh("nsenter", "-t", pid, "--uts", "hostname")).trim()).toBe("renamed");
  });

  test("a new member that cannot start: the pod is left as it was, and the error says so", async () => {
    const good = spec({ pod: "96M", bEnv: "hello", hostname: "renamed" });
    writeSpec(t.lab, pod, good);
    const before = await everything(pod);
    writeSpec(t.lab, pod, spec({ pod: "300M", bEnv: "hello", hostname: "renamed", extra: `[containers.broken]\ncommand = ["/bin/sleep", "600"]\nuser = "nosuchuser"\n` }));
    const r = await podunit("apply", pod);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`Failed to apply the spec to pod '${pod}': ${unit(pod, "broken")}`);
    expect(r.stderr).toContain("Everything apply had changed was undone: the pod runs as before.");
    expect(await everything(pod)).toBe(before);
  });

  test("a member whose new unit cannot start gets its old unit back; the others are untouched", async () => {
    const before = await identities(pod, ["a", "b"]);
    writeSpec(t.lab, pod, spec({ pod: "300M", bEnv: "hello", hostname: "renamed", extra: `user = "nosuchuser"\n` }));
    const r = await podunit("apply", pod);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`Failed to apply the spec to pod '${pod}': ${unit(pod, "b")}`);
    expect(r.stderr).toContain("the pod runs as before");
    const after = await identities(pod, ["a", "b"]);
    expect(after.a).toBe(before.a!);
    expect(after.sandbox).toBe(before.sandbox!);
    expect(after.b!.startsWith("active ")).toBe(true);
    const pid = await show(unit(pod, "b"), "MainPID");
    expect(await sh("bash", "-c", `tr '\\0' '\\n' < /proc/${pid}/environ | grep GREETING`)).toBe("GREETING=hello\n");
    // The pod's limit was not changed: the step after the failed one never ran.
    expect((await cgroupLimits(t.lab, sliceCg(pod))).memory).toBe(MiB(96));
    expect(await ok(["stop", pod])).toBeDefined();
    expect(await leftovers(t.lab, pod)).toEqual([]);
  });
});

describe("the spec a pod was started from", () => {
  test("restart and apply by name use the spec file the pod was started from; status of a pod that does not exist exits 5", async () => {
    const dir = join(t.lab.shareDir, "elsewhere");
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    const file = join(dir, "fromfile.toml");
    const put = (text: string) => {
      writeFileSync(file, text);
      chmodSync(file, 0o644);
    };
    put(`[containers.a]\ncommand = ["/bin/sleep", "600"]\n`);
    await ok(["start", "/srv/lab/elsewhere/fromfile.toml", "--backend", "native"]);
    expect(await ok(["restart", "fromfile"])).toContain("Pod 'fromfile' restarted");
    put(`[containers.a]\ncommand = ["/bin/sleep", "600"]\n[containers.b]\ncommand = ["/bin/sleep", "600"]\n`);
    expect(await ok(["apply", "fromfile"])).toContain("Pod 'fromfile' now follows /srv/lab/elsewhere/fromfile.toml");
    expect(await show(unit("fromfile", "b"), "ActiveState")).toBe("active");
    expect((await podunit("status", "fromfile")).stdout).toContain("running");
    await ok(["stop", "fromfile"]);

    const r = await podunit("status", "nosuchpod");
    expect(r.status).toBe(5);
    expect(r.stderr).toContain("Pod 'nosuchpod' does not exist: it has no spec and systemd has no units of it.");
  });
});

describe("apply of a changed runtime", () => {
  const pod = "aprt";
  const rtSpec = (o: { pod?: string; box?: string }) => `
${o.pod ? `runtime = "${o.pod}"` : ""}
[containers.a]
command = ["/bin/sleep", "600"]
[containers.box]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/sleep", "600"]
${o.box ? `runtime = "${o.box}"` : ""}`;
  const containers = async (rt: string) => (await sh("bash", "-c", `${rt} list -q 2>/dev/null | grep -F podunit-${pod}. | sort || true`)).trim();

  test("a member's runtime: that member restarts under the new one, nothing else; the sandbox's runtime needs --recreate", async () => {
    await makeRootfs(t.lab);
    writeSpec(t.lab, pod, rtSpec({ pod: "crun" }));
    await ok(["start", pod]);
    expect(await containers("crun")).toBe(`podunit-${pod}.box\npodunit-${pod}.sandbox`);
    const before = await identities(pod, ["a", "box"]);

    writeSpec(t.lab, pod, rtSpec({ pod: "crun", box: "runc" }));
    expect(await ok(["apply", pod])).toContain("member 'box' restarts: ExecStart changed");
    const after = await identities(pod, ["a", "box"]);
    expect([after.sandbox, after.a]).toEqual([before.sandbox!, before.a!]);
    expect(after.box).not.toBe(before.box!);
    expect(after.box!.startsWith("active ")).toBe(true);
    expect(await containers("runc")).toBe(`podunit-${pod}.box`);
    expect(await containers("crun")).toBe(`podunit-${pod}.sandbox`);

    // The pod's runtime moves the sandbox too: the whole pod, refused without --recreate.
    writeSpec(t.lab, pod, rtSpec({ pod: "runc", box: "runc" }));
    const refused = await podunit("apply", pod);
    expect(refused.status).toBe(6);
    expect(refused.stderr).toContain("sandbox backend");
    expect(await identities(pod, ["a", "box"])).toEqual(after);
    await ok(["apply", pod, "--recreate"]);
    expect(await containers("runc")).toBe(`podunit-${pod}.box\npodunit-${pod}.sandbox`);
    expect(await containers("crun")).toBe("");
    await ok(["stop", pod]);
    expect(await leftovers(t.lab, pod)).toEqual([]);
  });
});
