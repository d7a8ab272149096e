/** Which images a start pulls, by the members' `pull` policies (pure), and what the spec reader makes of the key. */
import { expect, test } from "bun:test";
import { parseSpec } from "../../src/podspec/parse.ts";
import { imagesToPull, specImageList } from "../../src/plan/pulls.ts";

const spec = parseSpec(
  `[containers.a]
image = "127.0.0.1:5000/app:1"
[containers.b]
image = "127.0.0.1:5000/app:1"
pull = "always"
[containers.c]
image = "busybox"
pull = "never"
[containers.d]
image = "registry.example/tool:2"
[containers.e]
command = ["/bin/true"]
`,
  "/etc/podunit/pods/p.toml",
);

test("an image member's policy defaults to missing; a member without an image has none", () => {
  expect(spec.members.map((m) => m.pull)).toEqual(["missing", "always", "never", "missing", undefined]);
});

test("each image once, in file order, with the strongest policy of the members that name it", () => {
  expect(specImageList(spec)).toEqual([
    { ref: "127.0.0.1:5000/app:1", policy: "always", members: ["a", "b"] },
    { ref: "busybox", policy: "never", members: ["c"] },
    { ref: "registry.example/tool:2", policy: "missing", members: ["d"] },
  ]);
});

test("a start pulls always-images and missing ones the store lacks, never a never-image", () => {
  expect(imagesToPull(spec, () => true).map((i) => i.ref)).toEqual(["127.0.0.1:5000/app:1"]);
  expect(imagesToPull(spec, () => false).map((i) => i.ref)).toEqual(["127.0.0.1:5000/app:1", "registry.example/tool:2"]);
  const allMissing = parseSpec(`[containers.a]\nimage = "busybox"\n`, "/x/q.toml");
  expect(imagesToPull(allMissing, (r) => r !== "busybox").map((i) => i.policy)).toEqual(["missing"]);
  expect(imagesToPull(allMissing, () => true)).toEqual([]);
  // A local image (podunit image load) is never asked of a registry.
  const local = parseSpec(`[containers.a]\nimage = "localhost/app:1"\npull = "always"\n`, "/x/l.toml");
  expect(imagesToPull(local, () => false)).toEqual([]);
});
