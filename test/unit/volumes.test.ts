/** Volumes in the plan (pure) and on disk below a temporary directory (persistent and scratch; tmpfs needs root and is the lab's). */
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostMountProps, ociVolumeMounts, parseVolumeArg, planVolumes, volumeArg, volumesDownArgv, type PlannedVolume } from "../../src/plan/volumes.ts";
import { PodLayout } from "../../src/plan/layout.ts";
import { listVolumes, prepareVolumes, releaseVolumes } from "../../src/host/volumes.ts";
import { parseVolumeRef } from "../../src/pods/volumes.ts";
import { pod } from "./plan-helpers.ts";

const spec = pod({
  volumes: [
    { name: "data", type: "persistent", owner: { uid: 1, gid: 2 }, mode: 0o700 },
    { name: "s", type: "scratch" },
    { name: "m", type: "tmpfs", size: 4096n },
    { name: "h", type: "host", path: "/srv/a b,c" },
  ],
});
const vols = planVolumes(spec, new PodLayout("/run/podunit", "web"));

describe("planned volumes", () => {
  test("each type has its host path; host volumes get no mode", () => {
    expect(vols.map((v) => v.source)).toEqual(["/var/lib/podunit/volumes/web/data", "/run/podunit/web/volumes/s", "/run/podunit/web/volumes/m", "/srv/a b,c"]);
    expect(vols.map((v) => v.mode)).toEqual([0o700, 0o1777, 0o1777, undefined]);
  });

  test("the helpers' argument form reads back as it was written, any path included", () => {
    for (const v of vols) expect(parseVolumeArg(volumeArg(v), v.name)).toEqual({ ...v, ...(v.size !== undefined ? { size: BigInt(v.size) } : {}) });
    for (const bad of ["path=relative", "type=disk,path=/x", "type=tmpfs,size=0,path=/x", "type=scratch,mode=9,path=/x", "type=scratch", "xpath=/x"]) {
      expect(parseVolumeArg(bad, "x")).toBeUndefined();
    }
    expect(volumesDownArgv(vols)).toEqual(["internal", "volumes-down", volumeArg(vols[1]!), volumeArg(vols[2]!)]);
  });

  test("a member without mounts gets no bind properties (so no mount namespace); :ro goes to BindReadOnlyPaths and rro", () => {
    expect(hostMountProps(vols, undefined)).toEqual([]);
    const mounts = [{ volume: "data", path: "/d", readonly: false }, { volume: "h", path: "/h", readonly: true }];
    expect(hostMountProps(vols, mounts)).toEqual([
      { key: "BindPaths", value: [{ source: "/var/lib/podunit/volumes/web/data", destination: "/d", recursive: true }] },
      { key: "BindReadOnlyPaths", value: [{ source: "/srv/a b,c", destination: "/h", recursive: true }] },
    ]);
    expect(ociVolumeMounts(vols, mounts).map((m) => m.options)).toEqual([["rbind", "nosuid", "nodev", "rw"], ["rbind", "nosuid", "nodev", "ro", "rro"]]);
  });

  test("a volume reference is POD/NAME of two names", () => {
    expect(parseVolumeRef("web/data")).toEqual({ pod: "web", name: "data" });
    for (const bad of ["web", "../etc/x", "web/../x", "web/data/x", "Web/data", "/data"]) expect(() => parseVolumeRef(bad)).toThrow("is not a volume");
  });
});

describe("volumes on disk", () => {
  const root = mkdtempSync(join(tmpdir(), "podunit-volumes-"));
  const v = (over: Partial<PlannedVolume>): PlannedVolume => ({ name: "data", type: "persistent", source: `${root}/lib/web/data`, mode: 0o750, ...over });

  test("persistent and scratch are made with their mode; a rollback removes scratch and the empty persistent directories it made", () => {
    const made = prepareVolumes([v({}), v({ name: "s", type: "scratch", source: `${root}/run/web/volumes/s`, mode: 0o1777 })]);
    expect(statSync(`${root}/lib/web/data`).mode & 0o7777).toBe(0o750);
    expect(statSync(`${root}/lib/web`).mode & 0o7777).toBe(0o700);
    expect(statSync(`${root}/run/web/volumes/s`).mode & 0o7777).toBe(0o1777);
    writeFileSync(`${root}/run/web/volumes/s/f`, "x");
    expect(releaseVolumes(made)).toEqual([]);
    expect(readdirSync(root).sort()).toEqual(["lib", "run"]);
    expect(readdirSync(`${root}/lib`)).toEqual([]);
    expect(readdirSync(`${root}/run/web/volumes`)).toEqual([]);
  });

  test("a rollback never removes a persistent volume's data, and a second start keeps it", () => {
    const made = prepareVolumes([v({})]);
    writeFileSync(`${root}/lib/web/data/f`, "kept");
    expect(releaseVolumes(made)).toEqual([]);
    expect(prepareVolumes([v({})]).dirs).toEqual([]);
    expect(listVolumes(`${root}/lib`)).toEqual([{ pod: "web", name: "data", path: `${root}/lib/web/data`, uid: 0, gid: 0, mode: 0o750, bytes: 4 }]);
  });

  test("a link in place of the pod's or the volume's directory is refused, and nothing is made", () => {
    mkdirSync(`${root}/elsewhere`);
    symlinkSync(`${root}/elsewhere`, `${root}/lib/evil`);
    expect(() => prepareVolumes([v({ source: `${root}/lib/evil/data` })])).toThrow("is a symbolic link, and podunit does not follow it out of its volume directory");
    expect(readdirSync(`${root}/elsewhere`)).toEqual([]);
  });

  test("a missing host path refuses before anything is made", () => {
    expect(() => prepareVolumes([v({ source: `${root}/lib/new/data` }), v({ name: "h", type: "host", source: `${root}/nope` })])).toThrow(`Host volume 'h' ('${root}/nope') does not exist.`);
    expect(readdirSync(`${root}/lib`).includes("new")).toBe(false);
    rmSync(root, { recursive: true, force: true });
  });
});
