/**
 * Runs fuzz cases in a worker, so the test can stop one that hangs. Receives
 * { from, to }, posts { id } before each case, { id, outcome, ms } or
 * { id, error, ms } after it, and { done } at the end.
 */
import { makeCase } from "./gen.ts";
import { runCase } from "./check.ts";
import { runCli } from "./cli.ts";

declare const self: Worker;

self.onmessage = async (e: MessageEvent<{ from: number; to: number; cliEvery: number }>) => {
  const { from, to, cliEvery } = e.data;
  for (let id = from; id < to; id++) {
    self.postMessage({ id, begin: true });
    const t0 = performance.now();
    try {
      const c = makeCase(id);
      const outcome = runCase(c);
      if (id % cliEvery === 0) await runCli(c);
      self.postMessage({ id, outcome, ms: performance.now() - t0 });
    } catch (err) {
      self.postMessage({ id, error: (err as Error).message ?? String(err), ms: performance.now() - t0 });
    }
  }
  self.postMessage({ done: true });
};
