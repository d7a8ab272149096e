import { describe, expect, test } from "bun:test";
import { plan } from "../../src/plan/plan.ts";
import { REFUSED, REFUSED_SYSCALLS, ociSeccomp } from "../../src/plan/seccomp.ts";
import { HOST, configAt, member, memberUnit, pod, val } from "./plan-helpers.ts";

describe("the default seccomp filter", () => {
  test("one list, each system call once, covering what the issue names", () => {
    expect(new Set(REFUSED_SYSCALLS).size).toBe(REFUSED_SYSCALLS.length);
    for (const s of ["init_module", "finit_module", "kexec_load", "reboot", "swapon", "mount", "pivot_root", "keyctl", "add_key", "bpf", "perf_event_open", "userfaultfd", "ptrace", "clock_settime", "settimeofday", "iopl", "ioperm"]) {
      expect(REFUSED_SYSCALLS).toContain(s);
    }
    for (const g of REFUSED) expect(g.why.length).toBeGreaterThan(3);
    // What nsenter and setpriv need before the member's command runs stays allowed.
    for (const s of ["setns", "capset", "prctl", "setresuid", "execve", "clone", "unshare"]) expect(REFUSED_SYSCALLS).not.toContain(s);
  });

  const spec = pod({
    members: [
      member("host"),
      member("loose", { seccomp: "unconfined" }),
      member("box", { rootfs: "/srv/box" }),
      member("open", { rootfs: "/srv/box", seccomp: "unconfined" }),
    ],
  });
  const p = plan(spec, HOST);

  test("host members: SystemCallFilter= with the same list, native only, EPERM, no user namespaces; none when unconfined", () => {
    const u = memberUnit(p, "host");
    expect(val(u, "SystemCallFilter")).toEqual({ allow: false, syscalls: [...REFUSED_SYSCALLS] });
    expect(val(u, "SystemCallArchitectures")).toEqual(["native"]);
    expect(val(u, "SystemCallErrorNumber")).toBe(1);
    expect(val(u, "RestrictNamespaces")! & 0x10000000n).toBe(0n);
    expect(val(u, "RestrictNamespaces")! & 0x40000000n).toBe(0x40000000n);
    const loose = memberUnit(p, "loose");
    for (const k of ["SystemCallFilter", "SystemCallArchitectures", "SystemCallErrorNumber", "RestrictNamespaces"] as const) expect(val(loose, k)).toBeUndefined();
  });

  test("rootfs members: runc's linux.seccomp from the same list; none when unconfined; never on the unit", () => {
    expect(configAt(p, "/box/config.json").linux.seccomp).toEqual(ociSeccomp());
    expect(configAt(p, "/box/config.json").linux.seccomp.syscalls[0].names).toEqual([...REFUSED_SYSCALLS]);
    expect(configAt(p, "/open/config.json").linux.seccomp).toBeUndefined();
    // runc needs mount(2) and friends to build the container: the unit itself is not filtered.
    expect(val(memberUnit(p, "box"), "SystemCallFilter")).toBeUndefined();
  });
});
