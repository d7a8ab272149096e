/**
 * One rule for a pod's state, used by `status`, `list` and their JSON. `list` once
 * called a pod whose sandbox was still activating "running" while `status` said
 * "starting"; both now ask podState.
 */
import { describe, expect, test } from "bun:test";
import { podState, podStatus, podSummaries } from "../../src/status/status.ts";
import type { Systemd, UnitListEntry } from "../../src/systemd/bus.ts";

/** A systemd that only lists units (with the given states) and has no properties to tell. */
function listing(states: Record<string, string>): Systemd {
  const entries: UnitListEntry[] = Object.entries(states).map(([name, activeState]) => ({ name, activeState, subState: "", loadState: "loaded", path: `/unit/${name}` }));
  const match = (patterns: string[]) => (e: UnitListEntry) => patterns.some((p) => (p.endsWith("*") ? e.name.startsWith(p.slice(0, -1)) : e.name === p));
  return {
    address: "unix:path=/fake",
    listUnits: async (patterns: string[]) => entries.filter(match(patterns)),
    getProperties: async () => ({}),
  } as unknown as Systemd;
}

describe("a pod's state", () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ["sandbox still activating", { "podunit-web.slice": "active", "podunit-web-sandbox.service": "activating", "podunit-web-app.service": "active" }, "starting"],
    ["all active", { "podunit-web.slice": "active", "podunit-web-sandbox.service": "active", "podunit-web-app.service": "active" }, "running"],
    ["a member failed", { "podunit-web.slice": "active", "podunit-web-sandbox.service": "active", "podunit-web-app.service": "failed" }, "degraded"],
    ["a member on its way down", { "podunit-web.slice": "active", "podunit-web-sandbox.service": "active", "podunit-web-app.service": "deactivating" }, "stopping"],
    ["only a failed member left", { "podunit-web-app.service": "failed" }, "stopped"],
  ];
  for (const [what, states, want] of cases) {
    test(`${what}: '${want}' in status and in list alike`, async () => {
      const sd = listing(states);
      const status = await podStatus(sd, "web");
      const [row] = await podSummaries(sd);
      expect(status.state).toBe(want as never);
      expect(row?.state).toBe(want as never);
    });
  }

  test("the rule itself: a slice that is gone means stopped, whatever its units say", () => {
    expect(podState(undefined, ["active"])).toBe("stopped");
    expect(podState("active", ["not-loaded", "inactive"])).toBe("stopped");
    expect(podState("active", ["active", "reloading"])).toBe("starting");
  });
});

describe("list's rows, from one list of every pod's units", () => {
  test("each pod's members counted (not its sandbox nor its health check), pods in name order, names unescaped", async () => {
    const sd = listing({
      "podunit-web.slice": "active",
      "podunit-web-sandbox.service": "active",
      "podunit-web-app.service": "active",
      "podunit-web-db.service": "failed",
      "podunit-web-health-check.service": "inactive",
      "podunit-web-health-check.timer": "active",
      "podunit-my\\x2dapp.slice": "active",
      "podunit-my\\x2dapp-sandbox.service": "active",
      "podunit-my\\x2dapp-a\\x2db.service": "active",
      "podunit-b.slice": "active",
      "podunit-b-sandbox.service": "activating",
      "podunit.slice": "active",
      "podunit-lab.target": "active",
    });
    expect(await podSummaries(sd)).toEqual([
      { pod: "b", state: "starting", active: 0, members: 0 },
      { pod: "my-app", state: "running", active: 1, members: 1 },
      { pod: "web", state: "degraded", active: 1, members: 2 },
    ]);
  });
});
