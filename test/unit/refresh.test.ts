/**
 * What `podunit system refresh` reads back from unit files podunit wrote: the words
 * of an Exec line (the inverse of the quoting render.ts does), the sandbox's prepare
 * arguments (the inverse of prepareArgv), and which pods are enabled in a unit directory.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installedPods, installedPrepare, installUnits } from "../../src/boot/install.ts";
import { podUnits } from "../../src/boot/units.ts";
import { parsePrepareArgv, prepareArgv, type PrepareArgs } from "../../src/plan/unitfiles.ts";
import { quoteExecPath, quoteWord, splitWords } from "../../src/systemd/quote.ts";
import { HOST, member, pod } from "./plan-helpers.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "podunit-refresh-test-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const AWKWARD = ["plain", "/etc/podunit/pods/web.toml", "with space", "100%", "%%", 'say "hi"', "back\\slash", "tab\there", "line\nbreak", "\x01\x7f", "", ";", "=", "a=b=c", "ünïcode"];

test("splitWords reads back every word quoteWord and quoteExecPath write", () => {
  expect(splitWords(AWKWARD.map(quoteWord).join(" "))).toEqual(AWKWARD);
  for (const first of ["/usr/bin/podunit", "-x", ":odd path", "@at"]) {
    expect(splitWords([quoteExecPath(first), ...AWKWARD.map(quoteWord)].join(" "))).toEqual([first, ...AWKWARD]);
  }
});

test("splitWords refuses what podunit does not write", () => {
  for (const bad of ['"open', 'a"b', "lone%", '"\\q"', '"x"y', "back\\slash"]) expect({ bad, words: splitWords(bad) }).toEqual({ bad, words: undefined });
});

const CASES: PrepareArgs[] = [
  { digest: "b5f0fc985aa960ea", backend: "crun", runDir: "/run/podunit", specFile: "/etc/podunit/pods/web.toml" },
  { member: "db", digest: "00ff", backend: "native", runDir: "/srv/run dir", specFile: "/srv/my pods/web 100%.toml" },
  { digest: "2", backend: "crun", runDir: "/run/podunit", specFile: "/etc/podunit/pods/bare.toml", images: { store: "/var/lib/podunit/images", pins: {} } },
  {
    digest: "1",
    backend: "runc",
    runDir: "/run/podunit",
    specFile: "/etc/podunit/pods/app.toml",
    images: { store: "/var/lib/podunit/images", pins: { "registry.local:5000/app:1.0": `sha256:${"a".repeat(64)}`, "busybox": `sha256:${"b".repeat(64)}` } },
  },
];

test("parsePrepareArgv reads back what prepareArgv wrote", () => {
  for (const a of CASES) expect(parsePrepareArgv(prepareArgv(a))).toEqual(a);
});

test("parsePrepareArgv refuses any other argv", () => {
  const good = prepareArgv(CASES[0]!);
  const bad = [
    ["internal", "ready", "--unit", "x"],
    good.slice(0, -1),
    good.filter((w) => w !== "--backend" && w !== "crun"),
    [...good.slice(0, -1), "--bogus", good.at(-1)!],
    good.map((w) => (w === "crun" ? "docker" : w)),
    ["internal", "prepare", "--sandbox", "--digest", "1", "--backend", "crun", "--run-dir", "/run", "--image", "noequals", "/spec.toml"],
    // Both, or neither, of --sandbox and --member; an option twice; pins without their store; a relative spec.
    ["internal", "prepare", "--sandbox", "--member", "db", "--digest", "1", "--backend", "crun", "--run-dir", "/run", "/spec.toml"],
    ["internal", "prepare", "--digest", "1", "--backend", "crun", "--run-dir", "/run", "/spec.toml"],
    ["internal", "prepare", "--sandbox", "--digest", "1", "--digest", "2", "--backend", "crun", "--run-dir", "/run", "/spec.toml"],
    ["internal", "prepare", "--sandbox", "--digest", "1", "--backend", "crun", "--run-dir", "/run", "--image", "a=sha256:1", "/spec.toml"],
    ["internal", "prepare", "--sandbox", "--digest", "1", "--backend", "crun", "--run-dir", "/run", "spec.toml"],
    ["internal", "prepare", "--sandbox", "--digest", "1", "--backend", "crun", "--run-dir"],
  ];
  for (const argv of bad) expect({ argv, parsed: parsePrepareArgv(argv) }).toEqual({ argv, parsed: undefined });
});

test("installedPods: pods whose target podunit wrote; installedPrepare: the spec, backend and pins their sandbox prepares with", () => {
  const spec = (name: string) => pod({ name, file: `/srv/pods dir/${name}.toml`, install: { wantedBy: ["multi-user.target"] }, members: [member("app")] });
  installUnits(dir, podUnits(spec("web"), HOST, { backend: "native" }), { links: "absolute" });
  installUnits(dir, podUnits(spec("a-b"), HOST, { backend: "runc" }), { links: "absolute" });
  // The lab's own target, and one with a pod's name that podunit did not write: not pods it enabled.
  writeFileSync(join(dir, "podunit-lab.target"), "[Unit]\nDescription=not podunit's\n");
  writeFileSync(join(dir, "podunit-other.target"), "[Unit]\n");
  expect(installedPods(dir)).toEqual(["a-b", "web"]);
  expect(installedPrepare(dir, "web")).toMatchObject({ backend: "native", specFile: "/srv/pods dir/web.toml", runDir: HOST.runDir });
  expect(installedPrepare(dir, "a-b")).toMatchObject({ backend: "runc", specFile: "/srv/pods dir/a-b.toml" });
  expect(installedPrepare(dir, "a-b")?.member).toBeUndefined();
  expect(installedPrepare(dir, "other")).toBeUndefined();
  expect(installedPods(join(dir, "missing"))).toEqual([]);
});
