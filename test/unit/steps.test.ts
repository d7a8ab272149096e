/** The one loop every start runs: order, undo in reverse, what an undo could not do, when nothing is undone. */
import { describe, expect, test } from "bun:test";
import { runSteps, StepFailure, type Step } from "../../src/pods/steps.ts";
import { plan } from "../../src/plan/plan.ts";
import { HOST, member, pod } from "./plan-helpers.ts";

function recorder() {
  const log: string[] = [];
  const step = (name: string, opts: { fail?: string; undo?: boolean; undoFails?: string } = {}): Step => ({
    name,
    run: async () => {
      log.push(`run ${name}`);
      if (opts.fail) throw new Error(opts.fail);
    },
    ...(opts.undo === false
      ? {}
      : {
          undo: async () => {
            log.push(`undo ${name}`);
            if (opts.undoFails) throw new Error(opts.undoFails);
            return [];
          },
        }),
  });
  return { log, step };
}

describe("runSteps", () => {
  test("runs every step in order and undoes nothing when all succeed", async () => {
    const { log, step } = recorder();
    await runSteps([step("a"), step("b"), step("c")]);
    expect(log).toEqual(["run a", "run b", "run c"]);
  });

  test("a failure undoes the failed step and the ones before it, in reverse; later steps never run", async () => {
    const { log, step } = recorder();
    const err = await runSteps([step("a"), step("b", { undo: false }), step("c", { fail: "no" }), step("d")]).catch((e) => e);
    expect(err).toBeInstanceOf(StepFailure);
    expect(err.step).toBe("c");
    expect(err.undone).toBe(true);
    expect(err.problems).toEqual([]);
    expect(log).toEqual(["run a", "run b", "run c", "undo c", "undo a"]);
  });

  test("an undo that fails is reported, and the undos after it still run", async () => {
    const { log, step } = recorder();
    const err = await runSteps([step("a"), step("b", { undoFails: "busy" }), step("c", { fail: "no" })]).catch((e) => e);
    expect(err.problems).toEqual(["busy"]);
    expect(log).toEqual(["run a", "run b", "run c", "undo c", "undo b", "undo a"]);
  });

  test("keepOn: an error after which nothing can be undone leaves everything as it is", async () => {
    const { log, step } = recorder();
    const err = await runSteps([step("a"), step("b", { fail: "connection lost" })], { keepOn: (e) => (e as Error).message === "connection lost" }).catch((e) => e);
    expect(err.undone).toBe(false);
    expect(log).toEqual(["run a", "run b"]);
  });

  test("beforeUndo sees the error before the first undo", async () => {
    const { log, step } = recorder();
    await runSteps([step("a"), step("b", { fail: "x" })], { beforeUndo: async (e) => void log.push(`saw ${(e as Error).message}`) }).catch(() => {});
    expect(log).toEqual(["run a", "run b", "saw x", "undo b", "undo a"]);
  });
});

describe("the planned steps of a start", () => {
  test("a pod whose sandbox needs a ready step: run files, slice and sandbox, ready, members in stage order, container waits, unit files", () => {
    const p = plan(pod({ name: "web", members: [member("db"), member("app", { after: ["db"], rootfs: "/srv/rootfs" }), member("migrate", { kind: "init" })] }), HOST);
    expect(p.steps).toEqual([
      { kind: "run-files" },
      { kind: "start-units", units: ["podunit-web.slice", "podunit-web-sandbox.service"] },
      { kind: "sandbox-ready" },
      { kind: "start-units", units: ["podunit-web-migrate.service", "podunit-web-db.service", "podunit-web-app.service"] },
      { kind: "container-waits" },
      { kind: "unit-files" },
    ]);
  });

  test("a native sandbox that holds no namespace has no ready step: everything in one burst", () => {
    const p = plan(pod({ name: "flat", share: [], members: [member("a")] }), HOST, { backend: "native" });
    expect(p.ready).toBeUndefined();
    expect(p.steps).toEqual([
      { kind: "run-files" },
      { kind: "start-units", units: ["podunit-flat.slice", "podunit-flat-sandbox.service", "podunit-flat-a.service"] },
      { kind: "unit-files" },
    ]);
  });
});
