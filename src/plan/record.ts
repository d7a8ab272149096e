/**
 * The record of the plan a pod was started from: written into its run directory
 * (PodLayout.planFile) by the start's run-files step, and by the sandbox's
 * `internal prepare` for pods started from unit files, so `podunit apply` can
 * compare a new plan with the one running, and `restart` and `apply` find the
 * spec file the pod came from (Plan.file). Pure: text in, text out. Bigints
 * (bytes, microseconds) are written as `{"bigint": "123"}` so the plan comes
 * back exactly as it was.
 */
import type { Plan } from "./types.ts";

/** Bumped when the record's shape changes; a record of another version is not read. */
export const RECORD_VERSION = 1;

/** The record's text: the plan as JSON, bigints tagged. */
export function planRecordText(p: Plan): string {
  const replacer = (_k: string, v: unknown) => (typeof v === "bigint" ? { bigint: v.toString() } : v);
  return `${JSON.stringify({ version: RECORD_VERSION, plan: p }, replacer)}\n`;
}

/** The plan in a record's text; undefined when the text is not a record this podunit reads. */
export function parsePlanRecord(text: string): Plan | undefined {
  let doc: { version?: unknown; plan?: Plan };
  try {
    doc = JSON.parse(text, (_k, v) => (isTaggedBigint(v) ? BigInt(v.bigint) : v));
  } catch {
    return undefined;
  }
  if (doc?.version !== RECORD_VERSION || typeof doc.plan !== "object" || doc.plan === null) return undefined;
  return typeof doc.plan.pod === "string" && typeof doc.plan.file === "string" ? doc.plan : undefined;
}

function isTaggedBigint(v: unknown): v is { bigint: string } {
  if (typeof v !== "object" || v === null) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === "bigint" && typeof (v as { bigint: unknown }).bigint === "string" && /^\d+$/.test((v as { bigint: string }).bigint);
}
