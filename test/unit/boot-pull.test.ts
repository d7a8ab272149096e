/**
 * Boot-time pods and their images (pure): unit files pull at boot only when a
 * member says pull = "always" or the images are not in the store yet, and only then
 * wait for (and want) network-online.target.
 */
import { describe, expect, test } from "bun:test";
import { convertSpecs } from "../../src/boot/generator.ts";
import { podUnits } from "../../src/boot/units.ts";
import { parseSpec } from "../../src/podspec/parse.ts";
import { memberOfUnit, podOfUnit } from "../../src/systemd/unitname.ts";
import { HOST, TEST_IMAGES, TOOL_DIGEST } from "./plan-helpers.ts";
import { readUnitFile } from "./unitfile-reader.ts";

const FILE = "/etc/podunit/pods/web.toml";
const spec = (pull?: string) =>
  parseSpec(`[install]\n\n[containers.app]\nimage = "busybox"\n${pull ? `pull = "${pull}"\n` : ""}\n[containers.db]\ncommand = ["/bin/sleep", "1d"]\n`, FILE);

function files(pull?: string): Map<string, ReturnType<typeof readUnitFile>> {
  const u = podUnits(spec(pull), HOST, { images: TEST_IMAGES });
  return new Map(u.files.map((f) => [f.name, readUnitFile(f.content)]));
}

const values = (f: ReturnType<typeof readUnitFile> | undefined, section: string, key: string) => (f?.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
const PULL = "podunit-web-image-pull.service";
const SANDBOX = "podunit-web-sandbox.service";

describe("unit files of a pod with images", () => {
  for (const pull of [undefined, "missing", "never"]) {
    test(`pull = ${pull ?? "(default)"} with every image in the store: no pull unit, nothing waits for the network`, () => {
      const f = files(pull);
      expect(f.has(PULL)).toBe(false);
      for (const [name, unit] of f) {
        for (const key of ["After", "Wants", "Requires"]) expect(values(unit, "Unit", key).join(" ")).not.toContain("network-online.target");
        expect(name).not.toContain("pull");
      }
    });
  }

  test(`pull = "always": a oneshot pull unit after and wanting network-online.target, the sandbox requires and follows it`, () => {
    const f = files("always");
    const pull = f.get(PULL);
    expect(values(pull, "Unit", "After")).toEqual(["network-online.target"]);
    expect(values(pull, "Unit", "Wants")).toEqual(["network-online.target"]);
    expect(values(pull, "Service", "Type")).toEqual(["oneshot"]);
    expect(values(pull, "Service", "Slice")).toEqual(["podunit-web.slice"]);
    expect(values(pull, "Service", "TimeoutStartSec")).toEqual(["30min"]);
    expect(values(pull, "Service", "ExecStart")).toEqual([
      `:${HOST.paths.podunit} internal pull --image-dir /var/lib/podunit/images --backend runc --image busybox=${TOOL_DIGEST} ${FILE}`,
    ]);
    expect(values(pull, "Service", "ExecStartPost")).toEqual([]);
    expect(values(f.get(SANDBOX), "Unit", "Requires")).toContain(PULL);
    expect(values(f.get(SANDBOX), "Unit", "After").join(" ")).toContain(PULL);
    // Only the pull unit waits for the network; the members wait for the sandbox as before.
    expect(values(f.get("podunit-web-app.service"), "Unit", "After").join(" ")).not.toContain("network-online");
  });

  test("the generator gives a pod whose images are not in the store its pull unit and a target that wants it, which it starts again after the pull", () => {
    const r = convertSpecs([{ file: FILE, bytes: new TextEncoder().encode(`[install]\n[containers.app]\nimage = "busybox"\n`) }], HOST, () => false, () => new Map(), () => "/var/lib/podunit/images");
    expect(r.failures).toEqual([]);
    const f = new Map(r.pods[0]!.files.map((x) => [x.name, readUnitFile(x.content)]));
    expect([...f.keys()]).toEqual([PULL, "podunit-web.target"]);
    expect(values(f.get(PULL), "Unit", "After")).toEqual(["network-online.target"]);
    expect(values(f.get(PULL), "Service", "ExecStart")).toEqual([`:${HOST.paths.podunit} internal pull --image-dir /var/lib/podunit/images --backend runc ${FILE}`]);
    expect(values(f.get(PULL), "Service", "ExecStartPost")).toEqual([":systemctl --no-block start podunit-web.target"]);
    expect(values(f.get("podunit-web.target"), "Unit", "Wants")).toEqual([PULL]);
    expect(r.pods[0]!.wantedBy).toEqual(["multi-user.target"]);
  });

  test("a local image (localhost/...) is never pulled at boot, even with pull = \"always\"", () => {
    const u = podUnits(parseSpec(`[install]\n[containers.app]\nimage = "localhost/app:1"\npull = "always"\n`, FILE), HOST, { images: TEST_IMAGES });
    expect(u.files.map((f) => f.name)).not.toContain(PULL);
  });

  test("the pull unit belongs to the pod and is no member", () => {
    expect(podOfUnit(PULL)).toBe("web");
    expect(memberOfUnit("web", PULL)).toBeNull();
    expect(memberOfUnit("web", "podunit-web-image\\x2dpull.service")).toBe("image-pull");
  });
});
