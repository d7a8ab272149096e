/**
 * A member's confinement keys: `seccomp` (the default filter, or none). Pure;
 * problems are recorded on the checker.
 */
import { get, readChoice, type Checker, type Table } from "./fields.ts";
import type { Seg } from "./locate.ts";
import type { SeccompProfile } from "./types.ts";

const SECCOMP: readonly SeccompProfile[] = ["default", "unconfined"];

/** The member's seccomp profile; "default" when the key is absent or wrong (the wrong value is an issue). */
export function readSeccomp(c: Checker, t: Table, path: Seg[]): SeccompProfile {
  return readChoice(c, get(t, "seccomp"), [...path, "seccomp"], SECCOMP) ?? "default";
}
