/**
 * The inside half of bench/scale.ts: runs the scale phase alone in a lab and
 * writes its figures as JSON.
 *
 *   bun bench/scale-lab.ts OUT.json PODS [BASELINE_BINARY]
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { scalePhase } from "./scale-phase.ts";

const [out, pods, baseline] = process.argv.slice(2);
const result = scalePhase({ podunit: join(import.meta.dir, "../dist/podunit"), specDir: "/srv/lab/pods", pods: Number(pods ?? 100), ...(baseline ? { baseline } : {}) });
writeFileSync(out!, JSON.stringify(result));
