/** Image members in the pure core: the config mapping with provenance, its refusals, and the plan around it. */
import { describe, expect, test } from "bun:test";
import { imageMemberConfig, signalName } from "../../src/plan/image.ts";
import { plan } from "../../src/plan/plan.ts";
import type { ImageFacts } from "../../src/plan/types.ts";
import { parseGroup, parsePasswd } from "../../src/pods/images.ts";
import { HOST, member, pod, TEST_IMAGES } from "./plan-helpers.ts";

const APP = TEST_IMAGES.get("localhost/app:1")!;
const POD = { name: "web", file: "/etc/podunit/pods/web.toml" };
const img = (over: Partial<Parameters<typeof member>[1]> = {}) => member("app", { image: "localhost/app:1", command: [], ...over });
const facts = (config: ImageFacts["config"]): ImageFacts => ({ ...APP, config });

describe("the image's config under the spec's keys", () => {
  test("nothing in the spec: Entrypoint + Cmd, Env, WorkingDir, User (looked up), StopSignal, all from the image", () => {
    const c = imageMemberConfig(POD, img(), APP);
    expect(c.command).toEqual({ value: ["/app/server", "--port", "8080"], from: "image" });
    expect(c.env).toEqual([
      { name: "PATH", value: "/app:/bin", from: "image" },
      { name: "MODE", value: "image", from: "image" },
      { name: "LANG", value: "C.UTF-8", from: "image" },
    ]);
    expect(c.workdir).toEqual({ value: "/app", from: "image" });
    expect(c.user).toEqual({ value: { uid: 1000, gid: 1000, written: "app" }, from: "image" });
    expect(c.stopSignal).toEqual({ value: "SIGQUIT", from: "image" });
  });

  test("command replaces Entrypoint and Cmd; command + args together; args alone replace Cmd only", () => {
    expect(imageMemberConfig(POD, img({ command: ["/bin/sh"] }), APP).command).toEqual({ value: ["/bin/sh"], from: "spec" });
    expect(imageMemberConfig(POD, img({ command: ["/bin/sh"], args: ["-c", "x"] }), APP).command).toEqual({ value: ["/bin/sh", "-c", "x"], from: "spec" });
    expect(imageMemberConfig(POD, img({ args: ["-v"] }), APP).command).toEqual({ value: ["/app/server", "-v"], from: "spec args, image Entrypoint" });
    // Empty args clear Cmd, as in Kubernetes.
    expect(imageMemberConfig(POD, img({ args: [] }), APP).command).toEqual({ value: ["/app/server"], from: "spec args, image Entrypoint" });
    expect(imageMemberConfig(POD, img({ args: ["sh"] }), facts({ cmd: ["x"] })).command).toEqual({ value: ["sh"], from: "spec" });
  });

  test("the spec's env wins per name, keeping the image's order; workdir and user from the spec", () => {
    const c = imageMemberConfig(POD, img({ env: { MODE: "spec", NEW: "1" }, workdir: "/srv", user: "root:staff" }), APP);
    expect(c.env.map((e) => `${e.name}=${e.value} (${e.from})`)).toEqual(["PATH=/app:/bin (image)", "MODE=spec (spec)", "LANG=C.UTF-8 (image)", "NEW=1 (spec)"]);
    expect(c.workdir).toEqual({ value: "/srv", from: "spec" });
    expect(c.user).toEqual({ value: { uid: 0, gid: 50, written: "root:staff" }, from: "spec" });
  });

  test("users: a uid alone takes its passwd group, else the same number; uid:gid as written; defaults to root", () => {
    expect(imageMemberConfig(POD, img({ user: "1000" }), APP).user.value).toEqual({ uid: 1000, gid: 1000 });
    expect(imageMemberConfig(POD, img({ user: "4242" }), APP).user.value).toEqual({ uid: 4242, gid: 4242 });
    expect(imageMemberConfig(POD, img({ user: "7:8" }), APP).user.value).toEqual({ uid: 7, gid: 8 });
    expect(imageMemberConfig(POD, img({ user: "app:0" }), APP).user.value).toEqual({ uid: 1000, gid: 0, written: "app:0" });
    expect(imageMemberConfig(POD, img(), facts({ cmd: ["x"] })).user).toEqual({ value: { uid: 0, gid: 0 }, from: "default" });
    expect(imageMemberConfig(POD, img(), facts({ cmd: ["x"] })).workdir).toEqual({ value: "/", from: "default" });
    expect(imageMemberConfig(POD, img(), facts({ cmd: ["x"] })).stopSignal).toEqual({ value: "SIGTERM", from: "default" });
  });

  test("refused, naming the pod, member and image, with what to do", () => {
    const err = (m: ReturnType<typeof img>, f: ImageFacts) => {
      try {
        imageMemberConfig(POD, m, f);
      } catch (e) {
        return `${(e as Error).message} | ${(e as { hint?: string }).hint}`;
      }
      return "no error";
    };
    expect(err(img(), facts({}))).toBe(
      "Failed to plan pod 'web': member 'app' (image 'localhost/app:1'): the image has no Entrypoint or Cmd and the spec gives no command. | Set command = [...] in [containers.app] of /etc/podunit/pods/web.toml.",
    );
    expect(err(img({ user: "www" }), APP)).toBe(
      "Failed to plan pod 'web': member 'app' (image 'localhost/app:1'): the spec's user 'www' names user 'www', which is not in the image's /etc/passwd. | Use a user the image has, or numeric ids (\"1000:1000\"), in [containers.app] of /etc/podunit/pods/web.toml.",
    );
    expect(err(img(), facts({ cmd: ["x"], user: "app:wheel" }))).toContain("the image's User 'app:wheel' names group 'wheel', which is not in the image's /etc/group");
    expect(err(img(), facts({ cmd: ["x"], stopSignal: "SIGRTMIN+3" }))).toContain("the image's StopSignal 'SIGRTMIN+3' is not a signal podunit can stop a member with");
    expect(err(img(), facts({ cmd: ["x"], stopSignal: "KILL" }))).toContain("StopSignal 'KILL'");
  });

  test("stop signals as images write them", () => {
    expect(signalName("SIGQUIT")).toBe("SIGQUIT");
    expect(signalName("quit")).toBe("SIGQUIT");
    expect(signalName("3")).toBe("SIGQUIT");
    expect(signalName("99")).toBeUndefined();
  });
});

describe("an image member's plan", () => {
  test("the root, the steps in order, images.json; a member with no image facts is a bug, said so", () => {
    const spec = pod({ members: [member("db"), img()] });
    const p = plan(spec, HOST, { images: TEST_IMAGES });
    expect(p.steps.map((s) => s.kind)).toEqual(["run-files", "start-units", "sandbox-ready", "member-roots", "start-units", "container-waits", "unit-files"]);
    expect(p.images?.map((i) => [i.member, i.target, i.upper])).toEqual([["app", "/run/podunit/web/rootfs/app", "/run/podunit/web/layers/app/upper"]]);
    expect(JSON.parse(p.files.find((f) => f.path === "/run/podunit/web/images.json")!.content)).toEqual({
      members: { app: { image: "localhost/app:1", manifestDigest: APP.manifestDigest } },
    });
    expect(() => plan(spec, HOST)).toThrow("member 'app' runs image 'localhost/app:1', which was not looked up before planning");
  });

  test("without pinned namespaces the roots are mounted before the one burst of units", () => {
    const p = plan(pod({ share: [], members: [img()] }), HOST, { images: TEST_IMAGES, backend: "native" });
    expect(p.steps.map((s) => s.kind)).toEqual(["run-files", "member-roots", "start-units", "container-waits", "unit-files"]);
  });

  test("a pod without image members plans as before: no images, no member-roots step", () => {
    const p = plan(pod({ members: [member("db")] }), HOST, { images: TEST_IMAGES });
    expect(p.images).toBeUndefined();
    expect(p.steps.some((s) => s.kind === "member-roots")).toBe(false);
  });
});

describe("an image's /etc/passwd and /etc/group", () => {
  test("names to ids; lines that do not parse are skipped, the first of a name wins", () => {
    expect(parsePasswd("root:x:0:0:root:/root:/bin/sh\n# comment\nbad:x:a:1\napp:x:1000:1001::/:/bin/sh\napp:x:5:5\n")).toEqual({
      root: { uid: 0, gid: 0 },
      app: { uid: 1000, gid: 1001 },
    });
    expect(parseGroup("root:x:0:\nstaff:x:50:app\n\n")).toEqual({ root: 0, staff: 50 });
    expect(parsePasswd(undefined)).toEqual({});
  });
});
