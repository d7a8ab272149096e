/** `podunit internal wait-exec`, against processes of this test. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { internalCommand } from "../../src/cli/internal.ts";

const internal = internalCommand(() => []);

const io = { out: () => {}, err: () => {}, env: {} };
const dir = mkdtempSync(join(tmpdir(), "podunit-internal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function pidFile(pid: number): string {
  const f = join(dir, `${pid}.pid`);
  writeFileSync(f, `${pid}\n`);
  return f;
}

describe("internal wait-exec", () => {
  test("returns at once for a process that runs its own program (not runc's init), or one that is gone", async () => {
    expect(await internal.run(["wait-exec", pidFile(process.pid)], io)).toBe(0);
    expect(await internal.run(["wait-exec", "--children", pidFile(2 ** 22 + 1)], io)).toBe(0);
  });
  test("with --children, waits for a child and gives up after its timeout", async () => {
    const child = Bun.spawn(["sleep", "30"]);
    try {
      // This process has a child now.
      expect(await internal.run(["wait-exec", "--children", pidFile(process.pid)], io)).toBe(0);
      // sleep has none.
      await expect(internal.run(["wait-exec", "--children", "--timeout", "100", pidFile(child.pid)], io)).rejects.toThrow(
        `process ${child.pid} did not start its program within 100 ms.`,
      );
    } finally {
      child.kill();
    }
  });
  test("a PID file without a process ID is an error", async () => {
    const f = join(dir, "bad.pid");
    writeFileSync(f, "x\n");
    await expect(internal.run(["wait-exec", f], io)).rejects.toThrow("holds no process ID");
  });
});
