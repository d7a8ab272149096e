/** userns = "auto": the allocator's pure part, the configuration file, and what the plan makes of a range. */
import { describe, expect, test } from "bun:test";
import { podUnits } from "../../src/boot/units.ts";
import { plan } from "../../src/plan/plan.ts";
import { type IdRange, overlaps, pickRange, preferredSlot, type RangeRecord } from "../../src/plan/userns.ts";
import { DEFAULT_USERNS, parseUsernsConfig, RANGE_SIZE } from "../../src/podspec/usernsconfig.ts";
import { configAt, HOST, HOST_NO_RUNC, member, memberUnit, pod, TEST_IMAGES, val } from "./plan-helpers.ts";

const SMALL = { start: 65536 * 100, ranges: 4 };

describe("picking a range", () => {
  test("a pod's first pick is its preferred slot, the same each time, inside the block", () => {
    const r = pickRange("web", DEFAULT_USERNS, []);
    expect(r).toEqual({ start: DEFAULT_USERNS.start + preferredSlot("web", DEFAULT_USERNS.ranges) * RANGE_SIZE, size: RANGE_SIZE });
    expect(pickRange("web", DEFAULT_USERNS, [])).toEqual(r);
    expect(r.start).toBeGreaterThanOrEqual(DEFAULT_USERNS.start);
    expect(r.start + r.size).toBeLessThanOrEqual(DEFAULT_USERNS.start + DEFAULT_USERNS.ranges * RANGE_SIZE);
    expect(r.start % RANGE_SIZE).toBe(0);
  });

  test("a pod keeps the range its record holds", () => {
    const held = SMALL.start + 3 * RANGE_SIZE;
    expect(pickRange("web", SMALL, [{ pod: "web", start: held }]).start).toBe(held);
  });

  test("taken slots are skipped, wrapping around; every range given is disjoint from every held one", () => {
    const taken: RangeRecord[] = [];
    const given: IdRange[] = [];
    for (const pod of ["a", "b", "c", "d"]) {
      const r = pickRange(pod, SMALL, taken);
      for (const g of given) expect(overlaps(r, g)).toBe(false);
      given.push(r);
      taken.push({ pod, start: r.start });
    }
    expect(new Set(given.map((g) => g.start)).size).toBe(4);
  });

  test("a full block is an error that says what to do", () => {
    const taken = [0, 1, 2, 3].map((i) => ({ pod: `p${i}`, start: SMALL.start + i * RANGE_SIZE }));
    expect(() => pickRange("web", SMALL, taken)).toThrow(/all 4 ranges of 65536 ids from 6553600 are held by running pods/);
    try {
      pickRange("web", SMALL, taken);
    } catch (e) {
      expect((e as { hint?: string }).hint).toContain("/etc/podunit/userns.toml");
    }
  });

  test("overlaps", () => {
    expect(overlaps({ start: 0, size: 10 }, { start: 9, size: 10 })).toBe(true);
    expect(overlaps({ start: 0, size: 10 }, { start: 10, size: 10 })).toBe(false);
  });

  test("the default block stays clear of the host's ids, systemd's dynamic users, nspawn's range, the foreign range and 2^31", () => {
    const end = DEFAULT_USERNS.start + DEFAULT_USERNS.ranges * RANGE_SIZE - 1;
    expect(DEFAULT_USERNS.start).toBeGreaterThan(0x6fffffff);
    expect(end).toBeLessThan(0x7ffe0000);
    expect(end).toBeLessThan(2 ** 31);
  });
});

describe("/etc/podunit/userns.toml", () => {
  test("keys, defaults", () => {
    expect(parseUsernsConfig("", "/etc/podunit/userns.toml")).toEqual(DEFAULT_USERNS);
    expect(parseUsernsConfig("start = 131072\nranges = 2\n", "f")).toEqual({ start: 131072, ranges: 2 });
  });

  test("bad values name the file, line and key", () => {
    expect(() => parseUsernsConfig("start = 100000\n", "u.toml")).toThrow(/u\.toml:1:1: start: expected a multiple of 65536/);
    expect(() => parseUsernsConfig("start = 0\n", "u.toml")).toThrow(/start: expected a positive integer/);
    expect(() => parseUsernsConfig("start = 4294901760\nranges = 2\n", "u.toml")).toThrow(/ranges: expected at most 0 ranges/);
    expect(() => parseUsernsConfig(`ranges = "many"\n`, "u.toml")).toThrow(/ranges: expected an integer/);
    expect(() => parseUsernsConfig("first = 1\n", "u.toml")).toThrow(/first: unknown key/);
  });
});

describe("the plan of a userns pod", () => {
  const range: IdRange = { start: 0x70000000, size: RANGE_SIZE };
  const spec = pod({
    name: "web",
    userns: "auto",
    share: ["ipc", "net", "pid", "uts"],
    members: [member("app", { image: "localhost/app:1" }), member("side")],
    volumes: [
      { name: "data", type: "persistent" },
      { name: "cache", type: "scratch", owner: { uid: 1000, gid: 50 } },
      { name: "etc", type: "host", path: "/etc/app" },
    ],
  });
  const p = plan(spec, HOST, { images: TEST_IMAGES, userns: range });

  test("the runc sandbox makes the user namespace first, with the range as its ID maps, and owns its root", () => {
    expect(p.backend).toBe("runc");
    const sb = configAt(p, "/sandbox/config.json");
    expect(sb.linux.namespaces[0]).toEqual({ type: "user" });
    expect(sb.linux.uidMappings).toEqual([{ containerID: 0, hostID: 0x70000000, size: 65536 }]);
    expect(sb.linux.gidMappings).toEqual(sb.linux.uidMappings);
    expect(p.userns).toEqual({
      start: 0x70000000,
      size: 65536,
      traverse: ["/run/podunit", "/run/podunit/web", "/run/podunit/web/sandbox", "/run/podunit/web/rootfs"],
      own: ["/run/podunit/web/sandbox/rootfs"],
    });
  });

  test("the user namespace is pinned first; image members join it by its pin with the same maps; their layers are ID-mapped", () => {
    expect(p.pins[0]).toEqual({ ns: "user", path: "/run/podunit/web/ns/user" });
    const app = configAt(p, "/bundles/app/config.json");
    expect(app.linux.namespaces[0]).toEqual({ type: "user", path: "/run/podunit/web/ns/user" });
    expect(app.linux.namespaces.map((n: { type: string }) => n.type)).toEqual(["user", "network", "ipc", "uts", "pid", "mount"]);
    expect(app.linux.uidMappings).toEqual([{ containerID: 0, hostID: 0x70000000, size: 65536 }]);
    expect(p.images![0]!.idmap).toEqual({ userns: "/run/podunit/web/ns/user", dir: "/run/podunit/web/layers/app/idmap" });
  });

  test("host members stay in the host's user namespace: nsenter joins the pod's other namespaces only", () => {
    const argv = val(memberUnit(p, "side"), "ExecStartEx")![0]!.argv;
    expect(argv.join(" ")).not.toContain("user");
    expect(argv).toContain("--net=/run/podunit/web/ns/net");
  });

  test("volumes: owned by the mapped root, or by the spec's owner mapped; a host volume keeps its owner", () => {
    const byName = new Map(p.volumes!.map((v) => [v.name, v]));
    expect(byName.get("data")!.owner).toEqual({ uid: 0x70000000, gid: 0x70000000 });
    expect(byName.get("cache")!.owner).toEqual({ uid: 0x70000000 + 1000, gid: 0x70000000 + 50 });
    expect(byName.get("etc")!.owner).toBeUndefined();
  });

  test("the range is held by the first step, before the run files", () => {
    expect(p.steps.slice(0, 2)).toEqual([{ kind: "userns" }, { kind: "run-files" }]);
    const plain = plan({ ...spec, userns: undefined }, HOST, { images: TEST_IMAGES });
    expect(plain.steps[0]).toEqual({ kind: "run-files" });
    expect(plain.userns).toBeUndefined();
    expect(configAt(plain, "/sandbox/config.json").linux.uidMappings).toBeUndefined();
  });

  test("refused: no range held, the native backend, neither crun nor runc, unit files", () => {
    expect(() => plan(spec, HOST, { images: TEST_IMAGES })).toThrow(/no range of host ids was held/);
    expect(() => plan(spec, HOST, { images: TEST_IMAGES, userns: range, backend: "native" })).toThrow(/needs a crun or runc sandbox.*the native one was asked for/);
    expect(() => plan(spec, HOST_NO_RUNC, { images: TEST_IMAGES, userns: range })).toThrow(/needs a crun or runc sandbox.*the native one is all this host has/);
    expect(() => podUnits(spec, HOST, { images: TEST_IMAGES, userns: range })).toThrow(/userns = "auto", which podunit supports only for pods started with 'podunit start'/);
  });
});
