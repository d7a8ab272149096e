/**
 * The start as a list of steps with undo, seen from outside on a real systemd:
 * the trace names every step in the plan's order; a step that fails undoes the
 * ones done, in reverse, and leaves nothing; `list` and `status` tell the same
 * state because they ask the same rule.
 */
import { describe, expect, test } from "bun:test";
import { labHelpers, leftovers, useLab, writeSpec } from "./harness.ts";

const t = useLab("lifecycle");
const { podunit, mainPid } = labHelpers(t);

/** The step names of a `PODUNIT_TRACE=1` run, in the order they were marked (without times). */
function traced(stderr: string): string[] {
  return stderr
    .split("\n")
    .filter((l) => l.startsWith("podunit trace:"))
    .map((l) => l.replace(/^podunit trace:\s+[\d.]+ ms\s+\+\s*[\d.]+\s+/, ""));
}

const two = `
[containers.a]
command = ["/bin/sleep", "600"]
[containers.b]
command = ["/bin/sleep", "600"]
after = ["a"]
`;

describe("steps", () => {
  test("PODUNIT_TRACE=1 names every step of a start, in the plan's order", async () => {
    writeSpec(t.lab, "steps", two);
    const r = await t.podunit(["start", "steps", "--backend", "native"], { env: { PODUNIT_SPEC_DIR: "/srv/lab/pods", PODUNIT_TRACE: "1" } });
    expect(r.status).toBe(0);
    const steps = traced(r.stderr).filter((s) => !s.includes(":") || s.startsWith("undone:"));
    const order = ["write run files", "start podunit-steps.slice, podunit-steps-sandbox.service", "make the sandbox ready", "start podunit-steps-a.service, podunit-steps-b.service", "replace the transient unit files"];
    expect(steps.filter((s) => order.includes(s))).toEqual(order);
    expect(steps.some((s) => s.startsWith("undone:"))).toBe(false);
    expect((await podunit("stop", "steps")).status).toBe(0);
    expect(await leftovers(t.lab, "steps")).toEqual([]);
  });

  test("a member that cannot start: the steps done are undone in reverse, the failed one first, and nothing is left", async () => {
    writeSpec(t.lab, "undo", `${two}
[containers.broken]
command = ["/bin/sleep", "600"]
user = "nosuchuser"
`);
    const r = await t.podunit(["start", "undo", "--backend", "native"], { env: { PODUNIT_SPEC_DIR: "/srv/lab/pods", PODUNIT_TRACE: "1" } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Failed to start pod 'undo': podunit-undo-broken.service");
    expect(r.stderr).toContain("Everything it started was stopped and removed.");
    const undone = traced(r.stderr).filter((s) => s.startsWith("undone: "));
    expect(undone).toEqual([
      "undone: start podunit-undo-a.service, podunit-undo-broken.service, podunit-undo-b.service",
      "undone: start podunit-undo.slice, podunit-undo-sandbox.service",
      "undone: write run files",
    ]);
    expect(await leftovers(t.lab, "undo")).toEqual([]);
  });
});

describe("one state for list and status", () => {
  const state = async (pod: string) => {
    const [s, l] = await Promise.all([podunit("status", pod, "--json"), podunit("list", "--json")]);
    const row = (JSON.parse(l.stdout) as { pods: Array<{ pod: string; state: string }> }).pods.find((x) => x.pod === pod);
    return { status: (JSON.parse(s.stdout) as { state: string }).state, list: row?.state };
  };

  test("running, degraded after a member dies, stopped: the same word in both", async () => {
    writeSpec(t.lab, "same", `
[containers.a]
command = ["/bin/sleep", "600"]
[containers.b]
command = ["/bin/sleep", "600"]
restart = "no"
`);
    expect((await podunit("start", "same")).status).toBe(0);
    expect(await state("same")).toEqual({ status: "running", list: "running" });
    await t.lab.sh(["kill", "-KILL", String(await mainPid("podunit-same-b.service"))]);
    // systemd notices the death asynchronously.
    for (let i = 0; i < 100 && (await state("same")).status === "running"; i++) await Bun.sleep(50);
    expect(await state("same")).toEqual({ status: "degraded", list: "degraded" });
    expect((await podunit("stop", "same")).status).toBe(0);
    expect(await state("same")).toEqual({ status: "stopped", list: "stopped" });
  });
});
