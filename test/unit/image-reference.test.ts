import { expect, test } from "bun:test";
import { formatReference, normalizeReference, parseReference } from "../../src/image/reference.ts";

const D = `sha256:${"0123456789abcdef".repeat(4)}`;

test("normalised as Docker and Podman do", () => {
  const cases: [string, string][] = [
    ["busybox", "docker.io/library/busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36"],
    ["library/busybox", "docker.io/library/busybox:latest"],
    ["docker.io/busybox", "docker.io/library/busybox:latest"],
    ["index.docker.io/library/busybox:1", "docker.io/library/busybox:1"],
    ["team/app", "docker.io/team/app:latest"],
    ["localhost/app", "localhost/app:latest"],
    ["localhost/app:dev", "localhost/app:dev"],
    ["localhost:5000/app:1", "localhost:5000/app:1"],
    ["registry.example:5000/team/sub/app:v1.2-rc_3", "registry.example:5000/team/sub/app:v1.2-rc_3"],
    ["quay.io/podman/hello", "quay.io/podman/hello:latest"],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`busybox:1@${D}`, `docker.io/library/busybox:1@${D}`],
    ["team/a__b.c-d---e", "docker.io/team/a__b.c-d---e:latest"],
  ];
  for (const [input, want] of cases) expect([input, normalizeReference(input)]).toEqual([input, want]);
});

test("the parts", () => {
  expect(parseReference("registry.example:5000/team/app:v1")).toEqual({
    domain: "registry.example:5000", path: "team/app", name: "registry.example:5000/team/app", tag: "v1",
  });
  expect(parseReference(`localhost/app@${D}`)).toEqual({ domain: "localhost", path: "app", name: "localhost/app", digest: D });
  expect(formatReference(parseReference("busybox"))).toBe("docker.io/library/busybox:latest");
});

test("bad references say what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["", /it is empty/],
    ["busy box", /white space/],
    ["Busybox", /must be lower case \('Busybox'\)/],
    ["busybox:", /the tag after ':' is empty/],
    ["busybox:-x", /the tag '-x' must be/],
    [`busybox:${"t".repeat(129)}`, /the tag/],
    ["busybox@sha256:abc", /64 lower-case hex digits/],
    [`busybox@sha512:${"a".repeat(128)}`, /must start with 'sha256:'/],
    ["a//b", /empty component/],
    ["app/", /empty component/],
    [":tag", /repository name is empty/],
    ["-app", /'-app' is not a valid name component/],
    ["app_", /'app_' is not a valid name component/],
    ["bad_host:5000/app", /'bad_host:5000' is not a valid registry host/],
    [`x/${"a".repeat(260)}`, /longer than 255 characters/],
  ];
  for (const [input, why] of cases) {
    expect(() => parseReference(input)).toThrow(why);
    try {
      parseReference(input);
    } catch (e) {
      expect((e as Error).message).toStartWith(`Invalid image reference '${input}': `);
      expect((e as { exitCode: number }).exitCode).toBe(2);
    }
  }
});
