/**
 * A member's health as its checks record it: the state file
 * `/run/podunit/POD/health/MEMBER.json`, what one check's result does to it
 * (`afterCheck`, pure), and reading it for `podunit status`.
 */
import { readFileSync } from "node:fs";
import type { CheckResult } from "../host/probe.ts";

export type { CheckResult };

export type HealthStatus = "starting" | "healthy" | "unhealthy";

/** One member's health state; times are milliseconds since the epoch. */
export interface HealthState {
  status: HealthStatus;
  /** The member's main process the state belongs to (a restarted member has another). */
  pid: number;
  /** When the member passed its first check (its start period begins). */
  readyAt?: number;
  /** When the last check ran. */
  lastCheck?: number;
  /** Failed checks in a row (the ones within the start period do not count). */
  failures: number;
  lastFailure?: { at: number; output: string };
}

/** What a check's result changes: the new state, a journal line on a change of status, whether to kill the member. */
export interface CheckOutcome {
  state: HealthState;
  /** Set only when the member became unhealthy or healthy again. */
  line?: string;
  kill: boolean;
}


/** Applies one liveness check's result to a member's state. */
export function afterCheck(prev: HealthState, r: CheckResult, now: number, cfg: { retries: number; startPeriodMs: number }, member: string): CheckOutcome {
  const state: HealthState = { ...prev, lastCheck: now };
  if (r.ok) {
    state.failures = 0;
    state.status = "healthy";
    const line = prev.status === "unhealthy" ? `Member '${member}' is healthy again.` : undefined;
    return { state, ...(line ? { line } : {}), kill: false };
  }
  state.lastFailure = { at: now, output: r.output };
  if (prev.readyAt !== undefined && now - prev.readyAt < cfg.startPeriodMs) return { state, kill: false };
  state.failures = prev.failures + 1;
  if (state.failures < cfg.retries) return { state, kill: false };
  state.status = "unhealthy";
  const line =
    prev.status !== "unhealthy"
      ? `Member '${member}' is unhealthy: ${state.failures} checks failed in a row (last: ${r.output}); killing it so its restart policy brings it back.`
      : undefined;
  return { state, ...(line ? { line } : {}), kill: true };
}

/** Reads a member's health state; undefined when there is none (no check, or the pod is not running). */
export function readHealthState(path: string): HealthState | undefined {
  try {
    const s = JSON.parse(readFileSync(path, "utf8")) as HealthState;
    return typeof s?.status === "string" ? s : undefined;
  } catch {
    return undefined;
  }
}
