/** The pull's progress as the command layer renders it: in place on a terminal, plain lines otherwise. */
import { expect, test } from "bun:test";
import { PullProgress } from "../../src/cli/common/progress.ts";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;

function feed(terminal: boolean): string {
  let out = "";
  let t = 0;
  const p = new PullProgress((s) => void (out += s), terminal, () => t);
  p.on({ type: "resolved", ref: "r.example/app:1", registry: "r.example", digest: A, layers: [{ digest: A, size: 2048 }, { digest: B, size: 10 }] });
  p.on({ type: "bytes", digest: A, done: 1024, total: 2048 });
  t = 1000;
  p.on({ type: "bytes", digest: A, done: 2048, total: 2048 });
  p.on({ type: "layer-done", digest: A, size: 2048, cached: false });
  p.on({ type: "layer-done", digest: B, size: 10, cached: true });
  return out;
}

test("not a terminal: one plain line per layer, no control characters", () => {
  const out = feed(false);
  expect(out).toBe(
    "Pulling r.example/app:1 from r.example (aaaaaaaaaaaa), 2 layers\n" +
      "Layer aaaaaaaaaaaa done 2.00 KiB / 2.00 KiB 2.00 KiB/s\n" +
      "Layer bbbbbbbbbbbb in the store 10 B\n",
  );
});

test("a terminal: the layer lines are redrawn in place", () => {
  const out = feed(true);
  expect(out).toContain("\x1b[2A");
  expect(out.split("\n").filter((l) => l.includes("aaaaaaaaaaaa  done")).length).toBeGreaterThan(0);
});
