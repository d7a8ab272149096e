/** Installing and removing a pod's unit files in a unit directory (a temporary directory here). */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installedUnits, installUnits, isPodUnitName, uninstallUnits } from "../../src/boot/install.ts";
import { podUnits } from "../../src/boot/units.ts";
import { HOST, member, pod } from "./plan-helpers.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "podunit-install-test-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const web = (over: Parameters<typeof pod>[0] = {}) =>
  podUnits(pod({ install: { wantedBy: ["multi-user.target"] }, members: [member("db"), member("app")], ...over }), HOST);

/** Every entry below `dir`: files with their first line, links with their target. */
function tree(): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out.push(`${rel}${n} -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) walk(p, `${rel}${n}/`);
      else out.push(`${rel}${n}`);
    }
  };
  walk(dir, "");
  return out;
}

test("isPodUnitName: the pod's slice, target and services, never another pod's", () => {
  for (const n of ["podunit-web.slice", "podunit-web.target", "podunit-web-sandbox.service", "podunit-web-db.service"]) expect(isPodUnitName("web", n)).toBe(true);
  for (const n of ["podunit-web\\x2dx.slice", "podunit-web\\x2dx-db.service", "podunit.slice", "podunit-web-db.socket", "podunit-webx.target"]) {
    expect(isPodUnitName("web", n)).toBe(false);
  }
});

describe("installUnits", () => {
  test("unit files and absolute wants links, as systemctl enable makes them", () => {
    const r = installUnits(dir, web(), { links: "absolute" });
    expect(tree()).toEqual([
      `multi-user.target.wants/podunit-web.target -> ${dir}/podunit-web.target`,
      "podunit-web-app.service",
      "podunit-web-db.service",
      "podunit-web-sandbox.service",
      "podunit-web.slice",
      "podunit-web.target",
    ]);
    expect(r.written.length).toBe(6);
    expect(r.removed).toEqual([]);
    expect(readFileSync(join(dir, "podunit-web.target"), "utf8")).toBe(web().files.at(-1)!.content);
    expect(lstatSync(join(dir, "podunit-web.slice")).mode & 0o777).toBe(0o644);
  });

  test("relative links for generators", () => {
    installUnits(dir, web(), { links: "relative" });
    expect(readlinkSync(join(dir, "multi-user.target.wants/podunit-web.target"))).toBe("../podunit-web.target");
  });

  test("again with the same pod: nothing written, nothing removed", () => {
    installUnits(dir, web(), { links: "absolute" });
    expect(installUnits(dir, web(), { links: "absolute" })).toEqual({ written: [], removed: [] });
  });

  test("a member and a wanted_by target that went away are removed; new ones added; other pods untouched", () => {
    installUnits(dir, podUnits(pod({ name: "web-x", install: { wantedBy: ["multi-user.target"] } }), HOST), { links: "absolute" });
    installUnits(dir, web(), { links: "absolute" });
    const r = installUnits(dir, web({ members: [member("db")], install: { wantedBy: ["graphical.target"] } }), { links: "absolute" });
    expect(r.removed.sort()).toEqual([join(dir, "multi-user.target.wants/podunit-web.target"), join(dir, "podunit-web-app.service")]);
    expect(tree().filter((e) => !e.includes("x2dx"))).toEqual([
      `graphical.target.wants/podunit-web.target -> ${dir}/podunit-web.target`,
      "podunit-web-db.service",
      "podunit-web-sandbox.service",
      "podunit-web.slice",
      "podunit-web.target",
    ]);
    expect(installedUnits(dir, "web-x").length).toBe(4);
  });

  test("without links, existing links are left alone", () => {
    installUnits(dir, web(), { links: "absolute" });
    expect(installUnits(dir, web({ install: { wantedBy: ["graphical.target"] } }), {}).removed).toEqual([]);
    expect(existsSync(join(dir, "multi-user.target.wants/podunit-web.target"))).toBe(true);
    expect(existsSync(join(dir, "graphical.target.wants"))).toBe(false);
  });

  test("a file podunit did not write, or a masked unit, stops the install before any change", () => {
    writeFileSync(join(dir, "podunit-web-db.service"), "[Service]\nExecStart=/bin/true\n");
    symlinkSync("/dev/null", join(dir, "podunit-web.target"));
    expect(() => installUnits(dir, web(), { links: "absolute" })).toThrow(
      `Failed to write the unit files of pod 'web' into '${dir}': '${dir}/podunit-web-db.service' (podunit did not write it), ` +
        `'${dir}/podunit-web.target' (masked: a link to /dev/null) would be overwritten.`,
    );
    expect(tree()).toEqual(["podunit-web-db.service", "podunit-web.target -> /dev/null"]);
  });
});

describe("uninstallUnits", () => {
  test("removes the pod's files and every link to its target; leaves files podunit did not write and other pods", () => {
    installUnits(dir, web(), { links: "absolute" });
    installUnits(dir, podUnits(pod({ name: "other", install: { wantedBy: ["multi-user.target"] } }), HOST), { links: "absolute" });
    mkdirSync(join(dir, "default.target.requires"));
    symlinkSync(join(dir, "podunit-web.target"), join(dir, "default.target.requires/podunit-web.target"));
    writeFileSync(join(dir, "podunit-web-extra.service"), "[Service]\nExecStart=/bin/true\n");
    const removed = uninstallUnits(dir, "web");
    expect(removed.length).toBe(7);
    expect(tree().filter((e) => e.includes("web"))).toEqual(["podunit-web-extra.service"]);
    expect(installedUnits(dir, "other").length).toBe(4);
    expect(uninstallUnits(dir, "web")).toEqual([]);
  });
});
