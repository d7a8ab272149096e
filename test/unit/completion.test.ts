/**
 * Shell completion through bash's own machinery: the script `podunit completion
 * bash` prints is sourced in a bash, `complete -p` shows it registered, and the
 * function is called with COMP_WORDS/COMP_CWORD as bash's completion calls it.
 * `podunit` on PATH runs the sources (no build needed); specs come from a
 * temporary spec directory through PODUNIT_SPEC_DIR.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { complete, type CompletionSources } from "../../src/cli/common/complete.ts";
import { commandTable } from "../../src/main.ts";

const REPO = join(import.meta.dir, "../..");
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "podunit-completion-"));
  mkdirSync(join(dir, "bin"));
  mkdirSync(join(dir, "pods"));
  mkdirSync(join(dir, "run"));
  const wrapper = join(dir, "bin/podunit");
  writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${REPO}/src/main.ts" "$@"\n`);
  chmodSync(wrapper, 0o755);
  writeFileSync(join(dir, "pods/web.toml"), `[containers.db]\ncommand = ["/bin/true"]\n[containers.app]\ncommand = ["/bin/true"]\n`);
  writeFileSync(join(dir, "pods/worker.toml"), `[containers.job]\ncommand = ["/bin/true"]\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What bash's completion function offers for the words; the last word is the one being completed. */
function bashComplete(...words: string[]): string[] {
  const script = [
    "source <(podunit completion bash)",
    "complete -p podunit >&2",
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}`,
    "_podunit",
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join("\n");
  const r = Bun.spawnSync(["bash", "--norc", "--noprofile", "-c", script], {
    env: { PATH: `${join(dir, "bin")}:/usr/bin:/bin`, PODUNIT_SPEC_DIR: join(dir, "pods"), PODUNIT_RUN_DIR: join(dir, "run"), HOME: dir },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`bash exited ${r.exitCode}: ${r.stderr.toString()}`);
  expect(r.stderr.toString()).toContain("complete -F _podunit podunit");
  return r.stdout.toString().split("\n").filter(Boolean).sort();
}

describe("bash", () => {
  test("podunit sta<TAB> offers start and status", () => {
    expect(bashComplete("podunit", "sta")).toEqual(["start", "status"]);
  });
  test("podunit start <TAB> offers the pods of the spec directory and the running ones", () => {
    mkdirSync(join(dir, "run/batch"));
    expect(bashComplete("podunit", "start", "")).toEqual(["batch", "web", "worker"]);
    expect(bashComplete("podunit", "start", "w")).toEqual(["web", "worker"]);
  });
  test("podunit exec POD <TAB> offers the pod's members; options and their values complete too", () => {
    expect(bashComplete("podunit", "exec", "web", "")).toEqual(["app", "db"]);
    expect(bashComplete("podunit", "exec", "-i", "worker", "")).toEqual(["job"]);
    expect(bashComplete("podunit", "logs", "web", "--fo")).toEqual(["--follow"]);
    expect(bashComplete("podunit", "start", "--backend", "")).toEqual(["crun", "native", "runc"]);
    expect(bashComplete("podunit", "image", "l")).toEqual(["list", "load"]);
    expect(bashComplete("podunit", "completion", "")).toEqual(["bash", "fish", "zsh"]);
  });
});

describe("the completer over the command table", () => {
  const src: CompletionSources = { pods: async (d) => (d === "/x" ? ["other"] : ["web"]), members: async (p) => (p === "web" ? ["app", "db"] : []), images: async () => ["localhost/hello:1"] };
  const at = (...words: string[]) => complete(commandTable(), words, words.length - 1, src);
  test("verbs, hidden ones left out; --dir on the line picks the spec directory, also written --dir=DIR", async () => {
    expect(await at("podunit", "")).not.toContain("internal");
    expect(await at("podunit", "start", "--dir", "/x", "")).toEqual(["other"]);
    expect(await at("podunit", "start", "--dir", "=", "/x", "")).toEqual(["other"]);
    expect(await at("podunit", "start", "--dir", "")).toEqual(["@dir"]);
  });
  test("after exec's member comes the user's command, whose options are its own", async () => {
    expect(await at("podunit", "exec", "web", "app", "")).toEqual(["@command"]);
    expect(await at("podunit", "exec", "web", "app", "ls", "-")).toEqual(["@file"]);
  });
  test("images, files, verbs for help, and nothing past the last argument", async () => {
    expect(await at("podunit", "image", "inspect", "")).toEqual(["localhost/hello:1"]);
    expect(await at("podunit", "image", "load", "")).toEqual(["@file"]);
    expect(await at("podunit", "help", "ex")).toEqual(["exec"]);
    expect(await at("podunit", "status", "web", "")).toEqual([]);
    expect(await at("podunit", "start", "./")).toEqual(["@file"]);
  });
});
