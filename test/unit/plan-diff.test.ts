/** The classes of change `podunit apply` acts on, from two plans of one pod (pure). */
import { describe, expect, test } from "bun:test";
import { diffPlans, isEmptyDiff } from "../../src/plan/diff.ts";
import { plan } from "../../src/plan/plan.ts";
import { parsePlanRecord, planRecordText } from "../../src/plan/record.ts";
import { UINT64_MAX } from "../../src/systemd/properties.ts";
import type { PodSpec } from "../../src/podspec/types.ts";
import { HOST, member, pod } from "./plan-helpers.ts";

const base = (over: Partial<PodSpec> = {}) => pod({ members: [member("db"), member("app", { after: ["db"] })], ...over });
const diff = (a: PodSpec, b: PodSpec, backend: "runc" | "native" = "native") => diffPlans(plan(a, HOST, { backend }), plan(b, HOST, { backend }));

describe("diffPlans", () => {
  test("the same spec: nothing to do", () => {
    const d = diff(base(), base());
    expect(isEmptyDiff(d)).toBe(true);
  });

  test("the same spec, the old plan read back from its record: nothing to do", () => {
    const spec = base({ limits: { memoryMax: 64n << 20n, cpuQuota: 50 }, members: [member("db", { rootfs: "/srv/root", limits: { tasksMax: 20n } })] });
    const p = plan(spec, HOST, { backend: "runc" });
    const back = parsePlanRecord(planRecordText(p))!;
    expect(back).toEqual(p);
    expect(isEmptyDiff(diffPlans(back, plan(spec, HOST, { backend: "runc" })))).toBe(true);
  });

  test("a member's memory_max raised: changed live on that member, nothing restarted", () => {
    const d = diff(base(), base({ members: [member("db", { limits: { memoryMax: 64n << 20n } }), member("app", { after: ["db"] })] }));
    expect(d.restart).toEqual([]);
    expect(d.recreate).toEqual([]);
    expect(d.live).toEqual([
      { unit: "podunit-web-db.service", member: "db", changes: [{ key: "MemoryMax", to: "67108864" }], set: [{ key: "MemoryMax", value: 64n << 20n }] },
    ]);
  });

  test("the pod's limits changed and one removed: live on the slice, the removed one set to no limit", () => {
    const d = diff(base({ limits: { memoryMax: 64n << 20n, tasksMax: 50n } }), base({ limits: { memoryMax: 32n << 20n, cpuQuota: 150 } }));
    expect(d.recreate).toEqual([]);
    expect(d.live).toHaveLength(1);
    expect(d.live[0]!.unit).toBe("podunit-web.slice");
    expect(d.live[0]!.member).toBeUndefined();
    expect(d.live[0]!.set).toEqual([
      { key: "MemoryMax", value: 32n << 20n },
      { key: "CPUQuotaPerSecUSec", value: 1_500_000n },
      { key: "TasksMax", value: UINT64_MAX },
    ]);
  });

  test("one member's env changed: that member alone restarts, saying why", () => {
    const d = diff(base(), base({ members: [member("db", { env: { A: "1" } }), member("app", { after: ["db"] })] }));
    expect(d.restart).toEqual([{ member: "db", unit: "podunit-web-db.service", why: ["Environment changed"] }]);
    expect(d.live).toEqual([]);
    expect(d.add).toEqual([]);
    expect(d.remove).toEqual([]);
    expect(d.recreate).toEqual([]);
  });

  test("a restarted member's new limits come with its new unit, not live", () => {
    const d = diff(base(), base({ members: [member("db", { env: { A: "1" }, limits: { memoryMax: 1n << 30n } }), member("app", { after: ["db"] })] }));
    expect(d.restart.map((r) => r.member)).toEqual(["db"]);
    expect(d.live).toEqual([]);
  });

  test("a rootfs member's command changed: its bundle changed, it restarts", () => {
    const r = (cmd: string) => base({ members: [member("db", { rootfs: "/srv/root", command: [cmd] })] });
    const d = diff(r("/bin/a"), r("/bin/b"), "runc");
    expect(d.restart).toEqual([{ member: "db", unit: "podunit-web-db.service", why: ["its bundle changed"] }]);
  });

  test("members added and removed: started in start order, stopped in reverse", () => {
    const a = base({ members: [member("db"), member("old1"), member("old2", { after: ["old1"] })] });
    const b = base({ members: [member("db"), member("new2", { after: ["new1"] }), member("new1")] });
    const d = diff(a, b);
    expect(d.add).toEqual(["new1", "new2"]);
    expect(d.remove).toEqual(["old2", "old1"]);
    expect(d.restart).toEqual([]);
    expect(d.recreate).toEqual([]);
  });

  test("an init member that restarts takes down the members that need it: they restart too", () => {
    const withInit = (cmd: string) => pod({ members: [member("setup", { kind: "init", command: [cmd] }), member("db")] });
    const d = diff(withInit("/bin/a"), withInit("/bin/b"));
    expect(d.restart).toEqual([
      { member: "setup", unit: "podunit-web-setup.service", why: ["ExecStart changed"] },
      { member: "db", unit: "podunit-web-db.service", why: ["it needs 'setup', which restarts"] },
    ]);
  });

  test("pod-wide changes: the whole pod, with the reason", () => {
    expect(diff(base(), base({ hostname: "other" })).recreate).toEqual(["the pod's hostname or namespaces changed"]);
    expect(diff(base(), base({ hostname: "other" }), "runc").recreate).toEqual(["the pod's run file '/run/podunit/web/sandbox/config.json' changed"]);
    expect(diff(base(), base({ share: ["ipc", "net", "uts", "pid"] })).recreate.length).toBeGreaterThan(0);
    expect(diff(base(), base({ hostNetwork: true })).recreate.length).toBeGreaterThan(0);
  });

  test("a part of the plan this diff does not know differs: the whole pod (the safe side)", () => {
    const a = plan(base(), HOST, { backend: "native" });
    const b = { ...a, somethingNew: { x: 1 } } as typeof a;
    expect(diffPlans(a, b).recreate).toEqual(["the pod's somethingNew changed"]);
  });

  test("a property that is not live on a member restarts it; on the slice it recreates the pod", () => {
    const a = plan(base(), HOST, { backend: "native" });
    const b = structuredClone(a);
    b.members[1]!.properties = b.members[1]!.properties.map((p) => (p.key === "KillMode" ? { key: "KillMode", value: "mixed" } : p));
    b.slice.properties = [...b.slice.properties, { key: "Delegate", value: true }];
    const d = diffPlans(a, b);
    expect(d.restart).toEqual([{ member: "app", unit: "podunit-web-app.service", why: ["KillMode changed"] }]);
    expect(d.recreate).toEqual(["the pod's slice changed: Delegate"]);
  });
});

describe("the plan record", () => {
  test("text that is not a record of this version is not read", () => {
    expect(parsePlanRecord("not json")).toBeUndefined();
    expect(parsePlanRecord(JSON.stringify({ version: 99, plan: {} }))).toBeUndefined();
    expect(parsePlanRecord(JSON.stringify({ version: 1 }))).toBeUndefined();
  });
});
