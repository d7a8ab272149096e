/** The cgroup a process is in (src/host/cgroup.ts): the no-op move `podunit start` begins with, on this machine. */
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { ownCgroupProcs } from "../../src/host/cgroup.ts";

test("the cgroup.procs found is the one that lists this process", () => {
  const procs = ownCgroupProcs();
  expect(procs).toBeDefined();
  expect(existsSync(procs!)).toBe(true);
  expect(readFileSync(procs!, "utf8").split("\n")).toContain(String(process.pid));
});
