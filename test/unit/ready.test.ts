/** The ready step's guards (src/host/ready.ts), against processes of this test. */
import { describe, expect, test } from "bun:test";
import { readySandbox, SandboxNotReadyError } from "../../src/host/ready.ts";
import type { SandboxReady } from "../../src/plan/types.ts";

const READY: SandboxReady = {
  unit: "podunit-web-sandbox.service",
  holder: "main",
  launcher: "unshare",
  loopback: false,
  pins: [{ ns: "net", path: "/nonexistent/podunit-test/ns/net" }],
};

describe("readySandbox", () => {
  test("a process outside the sandbox unit's cgroup is never taken for its holder", async () => {
    const stranger = Bun.spawn(["sleep", "30"]);
    try {
      await Bun.sleep(20); // until it runs sleep
      const err = await readySandbox(READY, stranger.pid, { timeoutMs: 500 }).catch((e) => e);
      expect(err).toBeInstanceOf(SandboxNotReadyError);
      expect(err.message).toBe(`process ${stranger.pid} is not in the cgroup of podunit-web-sandbox.service; podunit must see the PIDs systemd sees.`);
    } finally {
      stranger.kill();
    }
  });

  test("a main process that is gone fails at once, naming it", async () => {
    const gone = Bun.spawn(["true"]);
    await gone.exited;
    const err = await readySandbox(READY, gone.pid, { timeoutMs: 500 }).catch((e) => e);
    expect(err).toBeInstanceOf(SandboxNotReadyError);
    expect(err.message).toBe(`the sandbox's process ${gone.pid} exited while it was starting.`);
  });
});
