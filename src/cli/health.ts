/**
 * `podunit internal health`: the health checks of a pod, run by its own units.
 *
 * `health --ready MEMBER --main-pid PID|--pid-file FILE CONFIG` is the member's
 * ExecStartPost (a container's PID from its runtime's PID file):
 * it checks until the first check passes (the member then becomes active) or
 * the member's startup timeout ends (the start fails, and this prints the last
 * check's output, which the start's error shows).
 *
 * `health CONFIG` is what the pod's timer starts: every member whose check is
 * due is checked once; `retries` failures in a row kill the member's main
 * process, and its restart policy brings it back. It prints a line (to the
 * journal) only when a member becomes unhealthy or healthy again.
 *
 * It keeps to a few small modules and node:fs (no D-Bus, no spec reading), as
 * the timer starts it often (docs/benchmarks.md).
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import type { HealthConfig, MemberCheck } from "../plan/health.ts";
import { afterCheck, type CheckResult, type HealthState, readHealthState } from "../status/health.ts";
import { probeExec, probeHttp, probeTcp } from "../host/probe.ts";
import { inUnit, joinCgroup } from "../host/cgroup.ts";
import { readPidFile } from "../host/ready.ts";

type Write = (text: string) => void;

function statePath(cfg: HealthConfig, member: string): string {
  return `${cfg.stateDir}/${member}.json`;
}

function saveState(cfg: HealthConfig, member: string, s: HealthState): void {
  const path = statePath(cfg, member);
  writeFileSync(`${path}.new`, `${JSON.stringify(s)}\n`, { mode: 0o600 });
  renameSync(`${path}.new`, path);
}

/** Whether `pid` still is the member's process (not gone, not reused by another unit's). */
function alive(pid: number, unit: string): boolean {
  return pid > 0 && inUnit(pid, unit);
}

/** Runs one check of `m` against its main process `pid`. */
async function check(cfg: HealthConfig, m: MemberCheck, pid: number, timeoutMs = m.timeoutMs): Promise<CheckResult> {
  const c = m.check;
  if (c.kind === "tcp") return probeTcp(c.host, c.port, timeoutMs);
  if (c.kind === "http") return probeHttp(c.host, c.port, c.path, timeoutMs);
  const id = m.containerId ?? m.runcId;
  if (id !== undefined) {
    const rt = m.runtime ?? (cfg.paths.runc !== undefined ? { name: "runc" as const, path: cfg.paths.runc } : undefined);
    if (rt === undefined) return { ok: false, output: "the container's runtime is not known (health.json names none)" };
    const { bundleProcess, runtimeExecArgv } = await import("../host/enter.ts");
    // crun's exec is told the container's user, directory and no-new-privileges (see runtimeExecArgv).
    const own = rt.name === "crun" && m.bundle !== undefined ? bundleProcess(m.bundle) : undefined;
    if (rt.name === "crun" && own === undefined) return { ok: false, output: `the config of container '${id}' could not be read` };
    return probeExec(runtimeExecArgv(rt.path, id, { command: c.argv, tty: false, env: [] }, own), undefined, timeoutMs);
  }
  // A host member: the command enters its namespaces with its credentials and environment, in its cgroup.
  const { enterTarget, enterEnv, nsenterArgv } = await import("../host/enter.ts");
  let target;
  try {
    target = enterTarget(pid);
  } catch (err) {
    return { ok: false, output: `cannot enter the member's process ${pid}: ${(err as Error).message}` };
  }
  const argv = nsenterArgv(cfg.paths, target.pid, target.creds, { command: c.argv, tty: false, env: [] });
  return probeExec(argv, enterEnv(target.env, []), timeoutMs, (child) => joinCgroup(m.cgroup, child));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The member's readiness: checks until one passes or the startup timeout ends. */
async function ready(cfg: HealthConfig, member: string, pid: number, out: Write, err: Write): Promise<number> {
  const m = cfg.members.find((x) => x.member === member);
  if (!m) {
    err(`Failed to check member '${member}': it has no health check in ${cfg.pod}'s configuration.\n`);
    return 2;
  }
  const prev = readHealthState(statePath(cfg, member));
  const start = Date.now();
  const deadline = start + m.startupTimeoutMs;
  saveState(cfg, member, { status: "starting", pid, failures: 0, ...(prev?.lastFailure ? { lastFailure: prev.lastFailure } : {}) });
  // Until it is ready, a member is checked more often than its interval, so what waits for it starts soon.
  const every = Math.min(m.intervalMs, 500);
  let last: CheckResult | undefined;
  let tries = 0;
  for (;;) {
    const t0 = Date.now();
    // The last check ends by the deadline too.
    last = await check(cfg, m, pid, Math.max(50, Math.min(m.timeoutMs, deadline - t0)));
    tries++;
    const now = Date.now();
    if (last.ok) {
      saveState(cfg, member, { status: "healthy", pid, readyAt: now, lastCheck: now, failures: 0, ...(prev?.lastFailure ? { lastFailure: prev.lastFailure } : {}) });
      if (prev?.status === "unhealthy") out(`Member '${member}' is healthy again.\n`);
      return 0;
    }
    saveState(cfg, member, { status: "starting", pid, lastCheck: now, failures: 0, lastFailure: { at: now, output: last.output } });
    if (now >= deadline) break;
    await sleep(Math.min(Math.max(0, every - (now - t0)), deadline - now));
  }
  err(`Member '${member}' did not pass its health check within ${m.startupTimeoutMs / 1000}s (${tries} checks); the last said: ${last.output}\n`);
  return 1;
}

/** One round of the timer: every member whose check is due. */
async function round(cfg: HealthConfig, out: Write): Promise<number> {
  const period = Math.min(...cfg.members.map((m) => m.intervalMs));
  const now = Date.now();
  await Promise.all(
    cfg.members.map(async (m) => {
      const s = readHealthState(statePath(cfg, m.member));
      // Not ready yet (its start waits), or restarting: its readiness wait writes a new state.
      if (!s || s.status === "starting" || !alive(s.pid, m.unit)) return;
      if (s.lastCheck !== undefined && now - s.lastCheck < m.intervalMs - period / 2) return;
      const r = await check(cfg, m, s.pid);
      const o = afterCheck(s, r, Date.now(), m, m.member);
      saveState(cfg, m.member, o.state);
      if (o.line) out(`${o.line}\n`);
      if (o.kill && alive(s.pid, m.unit)) {
        try {
          process.kill(s.pid, "SIGKILL");
        } catch {
          // Gone meanwhile: restarting already.
        }
      }
    }),
  );
  return 0;
}

/** argv after `internal health`; returns the exit code. */
export async function healthMain(args: string[], out: Write, err: Write): Promise<number> {
  let member: string | undefined;
  let pid = 0;
  let pidFile: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--ready") member = args[++i];
    else if (args[i] === "--main-pid") pid = Number(args[++i]);
    else if (args[i] === "--pid-file") pidFile = args[++i];
    else rest.push(args[i]!);
  }
  if (pidFile !== undefined && member !== undefined) {
    try {
      pid = readPidFile(pidFile);
    } catch (e) {
      err(`Failed to wait for member '${member}' to be ready: ${(e as Error).message}\n`);
      return 1;
    }
  }
  if (rest.length !== 1 || (member !== undefined && !(pid > 0))) {
    err("Usage: podunit internal health [--ready MEMBER --main-pid PID|--pid-file FILE] CONFIG\n");
    return 2;
  }
  let cfg: HealthConfig;
  try {
    cfg = JSON.parse(readFileSync(rest[0]!, "utf8")) as HealthConfig;
  } catch (e) {
    err(`Failed to read the health checks' configuration '${rest[0]}': ${(e as Error).message}\n`);
    return 1;
  }
  return member !== undefined ? ready(cfg, member, pid, out, err) : round(cfg, out);
}
