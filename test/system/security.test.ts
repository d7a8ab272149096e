/**
 * What podunit refuses and what members cannot do, as root on a real systemd:
 * loose spec files and directories, a rootfs that is the host's `/`, commands
 * that could go through a shell; members' users, capabilities and
 * no-new-privileges, and that none of them can rename the pod or leave its cgroup.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUSYBOX_ROOTFS, PODUNIT, eventually, leftovers, makeRootfs, podNamespaces, useLab, writeSpec, labHelpers } from "./harness.ts";

const t = useLab("security");
const { podunit, show, journal } = labHelpers(t);
beforeAll(async () => {
  await makeRootfs(t.lab);
}, 60_000);


async function stopClean(pod: string, ns: string[] = []): Promise<void> {
  const r = await podunit("stop", pod);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  expect(await leftovers(t.lab, pod, ns)).toEqual([]);
}

const MINIMAL = `
[containers.a]
command = ["/bin/sleep", "600"]
`;

describe("spec files root may not trust", () => {
  const pod = "perms";
  const inLab = `/srv/lab/pods/${pod}.toml`;

  test("a loose file, a file of another user, a loose directory or a link into one: refused with exit code 6 and the fix; nothing started", async () => {
    const file = writeSpec(t.lab, pod, MINIMAL);
    const dir = join(t.lab.shareDir, "pods");
    const cases: Array<[string, () => void, string, string]> = [
      ["file writable by everyone", () => chmodSync(file, 0o666), `because the file is writable by everyone (mode 0666)`, `chmod go-w '${inLab}'`],
      ["file writable by its group", () => chmodSync(file, 0o664), `because the file is writable by its group (mode 0664)`, `chmod go-w '${inLab}'`],
      ["file of another user", () => chownSync(file, 1000, 1000), `because the file belongs to uid 1000, not to root`, `chown root '${inLab}'`],
      ["directory writable by its group", () => chmodSync(dir, 0o775), `because '/srv/lab/pods' is writable by its group (mode 0775)`, `chmod go-w '/srv/lab/pods'`],
      ["directory of another user", () => chownSync(dir, 1000, 1000), `because '/srv/lab/pods' belongs to uid 1000, not to root`, `chown root '/srv/lab/pods'`],
    ];
    for (const [what, loosen, why, fix] of cases) {
      writeSpec(t.lab, pod, MINIMAL); // resets modes
      chownSync(file, 0, 0);
      chownSync(dir, 0, 0);
      loosen();
      for (const verb of ["start", "check"]) {
        const r = await podunit(verb, pod);
        expect({ what, verb, status: r.status }).toEqual({ what, verb, status: 6 });
        expect(r.stderr).toContain(`podunit: Failed to read pod spec '${inLab}': refused, ${why}.`);
        expect(r.stderr).toContain(`must belong to root and must not be writable by group or others`);
        expect(r.stderr).toContain(`To fix it, run: ${fix}`);
      }
      expect(await leftovers(t.lab, pod)).toEqual([]);
    }
    chownSync(file, 0, 0);
    chownSync(dir, 0, 0);

    // A link from the spec directory to a file in a directory anyone may write.
    const loose = join(t.lab.shareDir, "loose");
    mkdirSync(loose, { recursive: true });
    chmodSync(loose, 0o777);
    writeFileSync(join(loose, "linked.toml"), MINIMAL, { mode: 0o644 });
    symlinkSync("/srv/lab/loose/linked.toml", join(dir, "linked.toml"));
    const linked = await podunit("start", "linked");
    expect(linked.status).toBe(6);
    expect(linked.stderr).toContain("because '/srv/lab/loose' is writable by everyone (mode 0777)");

    // Fixed the way the message says: accepted.
    writeSpec(t.lab, pod, MINIMAL);
    const ok = await podunit("start", pod);
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    await stopClean(pod);
    console.log(`security: as root, ${cases.length} kinds of loose spec file or directory and a link into a loose directory refused (exit 6, with the fix) by start and check; the fixed spec started`);
  });

  test("root's own file in a sticky directory such as /tmp is accepted, another user's is not; a user other than root is not checked", async () => {
    await t.lab.sh(["bash", "-c", `printf '%s' '${MINIMAL}' > /tmp/sticky.toml && chmod 644 /tmp/sticky.toml`]);
    expect((await podunit("check", "/tmp/sticky.toml")).status).toBe(0);
    await t.lab.sh(["chown", "1000", "/tmp/sticky.toml"]);
    const r = await podunit("check", "/tmp/sticky.toml");
    expect(r.status).toBe(6);
    expect(r.stderr).toContain("because the file belongs to uid 1000, not to root, in '/tmp', which everyone may write to (mode 1777)");
    // A user who is not root runs nothing as root: the file is only read.
    const user = await t.lab.run(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "--", PODUNIT, "check", "/tmp/sticky.toml"]);
    expect(user.stderr).toBe("");
    expect(user.status).toBe(0);
    console.log("security: /tmp (sticky): root's spec accepted, uid 1000's refused for root and accepted for uid 1000 itself");
  });
});

describe("a rootfs that is the host's root directory", () => {
  test("rootfs = \"/\" is an invalid spec; a link or bind mount to / is refused before anything starts", async () => {
    writeSpec(t.lab, "slash", `[containers.a]\nrootfs = "/"\ncommand = ["/bin/sh"]\n`);
    const r = await podunit("start", "slash");
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`containers.a.rootfs: expected a path other than "/"`);
    await t.lab.sh(["bash", "-c", "ln -sfn / /srv/lab/to-root && mkdir -p /var/lib/podunit-test/bound && mount --bind / /var/lib/podunit-test/bound"]);
    for (const path of ["/srv/lab/to-root", "/var/lib/podunit-test/bound"]) {
      writeSpec(t.lab, "slash", `[containers.a]\nrootfs = "${path}"\ncommand = ["/bin/sh"]\n`);
      const s = await podunit("start", "slash");
      expect(s.status).toBe(6);
      expect(s.stderr).toContain(`member 'a': rootfs '${path}' is the host's root directory '/'`);
      expect(await leftovers(t.lab, "slash")).toEqual([]);
    }
    await t.lab.sh(["umount", "/var/lib/podunit-test/bound"]);
    console.log("security: rootfs '/' refused as invalid (exit 3); a link and a bind mount to / refused (exit 6); nothing started");
  });
});

describe("no shell between a spec and its processes", () => {
  test("an argv full of shell syntax reaches both kinds of member verbatim and runs nothing else", async () => {
    const pod = "noshell";
    const marker = "/tmp/podunit-shell-ran";
    const args = [`$(touch ${marker})`, `\`touch ${marker}\``, `; touch ${marker}`, `| touch ${marker}`, "&& true", "$HOME", "${PATH}", "*", "'q'", '"dq"', "a\\b"];
    const toml = (s: string) => JSON.stringify(s);
    writeSpec(t.lab, pod, `
[containers.host]
command = ["/usr/bin/printf", "<%s>", ${args.map(toml).join(", ")}]
kind = "init"

[containers.box]
rootfs = "${BUSYBOX_ROOTFS}"
command = ["/bin/printf", "<%s>", ${args.map(toml).join(", ")}]
kind = "init"

[containers.idle]
command = ["/bin/sleep", "600"]
`);
    const r = await podunit("start", pod);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const want = args.map((a) => `<${a}>`).join("");
    for (const m of ["host", "box"]) {
      const unit = `podunit-${pod}-${m}.service`;
      expect(await eventually(`${unit}'s output`, async () => ((await journal(unit)).includes("<") ? (await journal(unit)).trim() : undefined))).toContain(want);
    }
    expect((await t.lab.run(["test", "-e", marker])).status).not.toBe(0);
    expect((await t.lab.run(["test", "-e", `${BUSYBOX_ROOTFS}${marker}`])).status).not.toBe(0);
    // What systemd runs for a member is nsenter, setpriv or its runtime (crun by default), then the spec's own argv: never a shell.
    for (const m of ["host", "box", "idle"]) {
      const exec = await show(`podunit-${pod}-${m}.service`, "ExecStart");
      const path = /path=(\S+)/.exec(exec)?.[1];
      expect({ member: m, path }).toEqual({ member: m, path: m === "box" ? "/usr/bin/crun" : "/usr/bin/nsenter" });
    }
    await stopClean(pod);
    console.log(`security: ${args.length} shell-syntax arguments reached a host and a rootfs member verbatim; nothing else ran; ExecStart is nsenter or crun`);
  });
});

describe("what members may do", () => {
  const pod = "guard";
  const RENAME = "hostname intruder 2>/dev/null && echo hostname=changed || echo hostname=refused";
  const ESCAPE =
    "moved=; for f in /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/*/cgroup.procs; do [ -e \"$f\" ] && (echo $$ >\"$f\") 2>/dev/null && moved=\"$moved $f\"; done; echo escape=${moved:-none}";
  const MOUNT = "mount -t cgroup2 none /dev/shm 2>/dev/null && echo mount=done || echo mount=refused";
  /**
   * Tries to rename the pod, to mount a cgroup file system and to move itself to the root
   * cgroup of every hierarchy, says what happened, then idles. A member running as root on
   * the host's file system is not kept in its cgroup (docs/security.md: it owns every
   * cgroup.procs, as it owns /etc), so it does not try: it would leave the pod for good.
   */
  const attempts = (m: { rootfs?: boolean; uid: number }) =>
    [RENAME, ...(m.rootfs || m.uid !== 0 ? [ESCAPE] : []), MOUNT, "exec sleep 600"].join("; ");
  const expected = (m: { rootfs?: boolean; uid: number }) =>
    ["hostname=refused", ...(m.rootfs || m.uid !== 0 ? ["escape=none"] : []), "mount=refused"];
  // Rootfs members under crun (the default) and under runc alike.
  const members: Record<string, { rootfs?: boolean; user?: string; lifted?: boolean; runtime?: string; uid: number; gid: number }> = {
    hroot: { uid: 0, gid: 0 },
    hnum: { user: "1234:5678", uid: 1234, gid: 5678 },
    hname: { user: "nobody", uid: 65534, gid: 65534 },
    hlifted: { lifted: true, uid: 0, gid: 0 },
    rroot: { rootfs: true, uid: 0, gid: 0 },
    rnum: { rootfs: true, user: "4321:8765", uid: 4321, gid: 8765 },
    rlifted: { rootfs: true, lifted: true, uid: 0, gid: 0 },
    rcroot: { rootfs: true, runtime: "runc", uid: 0, gid: 0 },
    rcnum: { rootfs: true, runtime: "runc", user: "4321:8765", uid: 4321, gid: 8765 },
    rclifted: { rootfs: true, runtime: "runc", lifted: true, uid: 0, gid: 0 },
  };
  /** runc's default capability set as a mask: CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29). */
  const RUNC_DEFAULT = (1n << 5n) | (1n << 10n) | (1n << 29n);

  /** Uid, Gid, Groups, CapBnd, CapEff, NoNewPrivs and cgroup of every process in a unit's cgroup. */
  async function processes(unit: string): Promise<Array<Record<string, string>>> {
    const script = `
      for d in /proc/[0-9]*; do
        grep -q "/${unit}" "$d/cgroup" 2>/dev/null || continue
        printf 'pid=%s comm=%s ' "\${d#/proc/}" "$(cat $d/comm)"
        awk '/^(Uid|Gid|Groups|CapBnd|CapEff|NoNewPrivs):/ { k=$1; sub(":", "", k); $1=""; gsub(/^ +| +$/, ""); gsub(/\\t| /, ","); printf "%s=%s ", k, $0 }' "$d/status"
        printf 'cgroup=%s\\n' "$(grep -E '^(0|[0-9]+:name=systemd):' "$d/cgroup" | tail -1 | cut -d: -f3)"
      done`;
    const out = await t.lab.sh(["bash", "-c", script]);
    return out
      .split("\n")
      .filter(Boolean)
      .map((l) => Object.fromEntries(l.trim().split(" ").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])));
  }

  test("users are honoured; capabilities stay within runc's default set; no new privileges unless asked; no member renames the pod; only root on the host's file system can leave its cgroup", async () => {
    const spec = Object.entries(members)
      .map(([name, m]) => [
        `[containers.${name}]`,
        m.rootfs ? `rootfs = "${BUSYBOX_ROOTFS}"` : "",
        `command = ["/bin/sh", "-c", ${JSON.stringify(attempts(m))}]`,
        m.user ? `user = "${m.user}"` : "",
        m.lifted ? "no_new_privileges = false" : "",
        m.runtime ? `runtime = "${m.runtime}"` : "",
        "",
      ].filter((l, i, a) => l !== "" || i === a.length - 1).join("\n"))
      .join("\n");
    writeSpec(t.lab, pod, `hostname = "guarded"\n${spec}`);
    const r = await podunit("start", pod);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const ns = await podNamespaces(t.lab, pod);
    const sandboxPid = await show(`podunit-${pod}-sandbox.service`, "MainPID");
    const report: string[] = [];

    for (const [name, m] of Object.entries(members)) {
      const unit = `podunit-${pod}-${name}.service`;
      const said = await eventually(`${name} to report`, async () => {
        const j = await journal(unit);
        return j.includes("mount=") ? j : undefined;
      });
      expect({ name, said: said.trim().split("\n").filter((l) => /^(hostname|escape|mount)=/.test(l)) }).toEqual({
        name,
        said: expected(m),
      });
      const procs = await processes(unit);
      expect(procs.length).toBeGreaterThan(0);
      for (const p of procs) {
        const where = { name, pid: p.pid, comm: p.comm };
        expect({ ...where, uid: p.Uid, gid: p.Gid }).toEqual({ ...where, uid: Array(4).fill(m.uid).join(","), gid: Array(4).fill(m.gid).join(",") });
        if (m.user?.includes(":")) expect({ ...where, groups: p.Groups }).toEqual({ ...where, groups: "" });
        expect({ ...where, bounding: BigInt(`0x${p.CapBnd}`) }).toEqual({ ...where, bounding: RUNC_DEFAULT });
        expect({ ...where, extra: BigInt(`0x${p.CapEff}`) & ~RUNC_DEFAULT }).toEqual({ ...where, extra: 0n });
        expect({ ...where, nnp: p.NoNewPrivs }).toEqual({ ...where, nnp: m.lifted ? "0" : "1" });
        // Still in its own unit's cgroup (below it, for a runtime's container).
        expect({ ...where, inUnit: p.cgroup!.includes(`/podunit-${pod}.slice/${unit}`) }).toEqual({ ...where, inUnit: true });
      }
      report.push(`${name}: ${procs.length} process(es) uid ${m.uid} gid ${m.gid}, NoNewPrivs ${m.lifted ? 0 : 1}`);
    }
    // The pod's hostname is still its own.
    expect((await t.lab.sh(["nsenter", "-t", sandboxPid, "-u", "hostname"])).trim()).toBe("guarded");
    await stopClean(pod, ns);
    console.log(`security: members could not rename the pod, move to another cgroup or mount cgroupfs; CapBnd = runc's default set; ${report.join("; ")}`);
  }, 60_000);
});
