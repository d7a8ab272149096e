/** `podunit internal prepare` against a fake file system: what each unit writes, and the digest check. */
import { describe, expect, test } from "bun:test";
import { prepareUnit } from "../../src/boot/prepare.ts";
import type { PrepareArgs } from "../../src/plan/unitfiles.ts";
import type { RunFiles } from "../../src/pods/deps.ts";
import { plan } from "../../src/plan/plan.ts";
import { planDigest } from "../../src/plan/unitfiles.ts";
import { parseSpec } from "../../src/podspec/parse.ts";
import { APP_DIGEST, HOST, TEST_IMAGES } from "./plan-helpers.ts";
import { NotFoundError } from "../../src/errors.ts";

const FILE = "/etc/podunit/pods/web.toml";
const TOML = `
[containers.db]
command = ["/usr/bin/sleep", "infinity"]
[containers.app]
rootfs = "/var/lib/rootfs/app"
command = ["/bin/app"]
`;

function fakeFiles(mounts: string[] = []) {
  const log: string[] = [];
  const files: RunFiles = {
    mkdir: (p, mode) => void log.push(`mkdir ${p} ${mode.toString(8)}`),
    writeFile: (p, _c, mode) => void log.push(`write ${p} ${mode.toString(8)}`),
    mountsUnder: () => mounts,
    unmount: (p) => void log.push(`umount ${p}`),
    removeTree: (p) => void log.push(`rm ${p}`),
    exists: () => false,
    removeCgroupTree: () => [],
    chown: () => {},
    replaceFile: (p, _c, mode) => void log.push(`replace ${p} ${mode.toString(8)}`),
  };
  return { files, log };
}

const digest = planDigest(plan({ ...parseSpec(TOML, FILE), sandbox: "runc" }, HOST));
const request = (over: Partial<PrepareArgs> = {}): PrepareArgs => ({ digest, backend: "runc", runDir: "/run/podunit", specFile: FILE, ...over });
const deps = (files: RunFiles, toml = TOML) => ({
  files,
  hostFacts: () => HOST,
  readFile: async (p: string) => (p === FILE ? new TextEncoder().encode(toml) : undefined),
});

describe("prepareUnit", () => {
  test("the sandbox clears what an earlier run left, then writes its directories and bundle", async () => {
    const { files, log } = fakeFiles(["/run/podunit/web/ns/net"]);
    await prepareUnit(request(), deps(files));
    expect(log).toEqual([
      "umount /run/podunit/web/ns/net",
      "rm /run/podunit/web",
      "mkdir /run/podunit/web 700",
      "mkdir /run/podunit/web/ns 700",
      "mkdir /run/podunit/web/sandbox 700",
      "mkdir /run/podunit/web/sandbox/rootfs 700",
      "write /run/podunit/web/sandbox/config.json 600",
      "write /run/podunit/web/plan.json 600",
    ]);
  });

  test("a member writes its own bundle and clears nothing", async () => {
    const { files, log } = fakeFiles(["/run/podunit/web/ns/net"]);
    await prepareUnit(request({ member: "app" }), deps(files));
    expect(log).toEqual([
      "mkdir /run/podunit/web 700",
      "mkdir /run/podunit/web/bundles 700",
      "mkdir /run/podunit/web/bundles/app 700",
      "write /run/podunit/web/bundles/app/config.json 600",
    ]);
  });

  test("a spec changed since the unit files were written: nothing is touched, the error says what to do", async () => {
    const { files, log } = fakeFiles();
    const p = prepareUnit(request(), deps(files, TOML.replace("infinity", "600")));
    await expect(p).rejects.toThrow(
      `Failed to prepare the sandbox of pod 'web': its spec '${FILE}' or this host has changed since the unit files were written`,
    );
    await expect(prepareUnit(request(), deps(files, TOML.replace("infinity", "600")))).rejects.toMatchObject({
      hint: expect.stringContaining("'podunit enable web'"),
    });
    expect(log).toEqual([]);
  });

  test("another run directory or backend than the units were written for is a change too", async () => {
    const { files } = fakeFiles();
    await expect(prepareUnit(request({ runDir: "/run/other" }), deps(files))).rejects.toThrow(/has changed/);
    await expect(prepareUnit(request({ backend: "native" }), deps(files))).rejects.toThrow(/has changed/);
  });

  test("a spec that is gone or broken is reported as such", async () => {
    const { files } = fakeFiles();
    await expect(prepareUnit(request({ specFile: "/etc/podunit/pods/gone.toml" }), deps(files))).rejects.toThrow(/does not exist/);
    await expect(prepareUnit(request(), deps(files, "memory_max = 1\n"))).rejects.toThrow(/Invalid pod spec/);
  });
});

describe("prepareUnit of a pod with image members", () => {
  const IMG = `[containers.app]\nimage = "localhost/app:1"\n`;
  const imgDigest = planDigest(plan({ ...parseSpec(IMG, FILE), sandbox: "runc" }, HOST, { images: TEST_IMAGES }));
  const pins = { store: "/var/lib/podunit/images", pins: { "localhost/app:1": APP_DIGEST } };

  test("plans again with the images pinned to their digests, and writes the member's bundle", async () => {
    const { files, log } = fakeFiles();
    const asked: Array<Record<string, string>> = [];
    const images = (_s: unknown, _store: string, p: Record<string, string>) => {
      asked.push(p);
      return TEST_IMAGES;
    };
    await prepareUnit(request({ member: "app", digest: imgDigest, images: pins }), { ...deps(files, IMG), images });
    expect(asked).toEqual([{ "localhost/app:1": APP_DIGEST }]);
    expect(log).toContain("write /run/podunit/web/bundles/app/config.json 600");
  });

  test("an image gone from the store fails the unit with its name, and nothing is written", async () => {
    const { files, log } = fakeFiles();
    const images = () => {
      throw new NotFoundError(`Pod 'web' cannot run: image 'localhost/app:1' (${APP_DIGEST}) for member 'app' is not in the image store '/var/lib/podunit/images'.`);
    };
    const err = await prepareUnit(request({ member: "app", digest: imgDigest, images: pins }), { ...deps(files, IMG), images }).catch((e) => e);
    expect(err.message).toContain(`image 'localhost/app:1' (${APP_DIGEST})`);
    expect(log).toEqual([]);
  });
});
