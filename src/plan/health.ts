/**
 * Health checks in a plan. A member with a check gets an ExecStartPost that
 * waits for its first passing check (`podunit internal health --ready`), so
 * systemd counts it active only then: members `After=` it, `podunit start` and
 * units ordered after the pod's target all wait for it, bounded by its
 * TimeoutStartSec (the startup timeout). A pod with checks gets one timer, and
 * the short-lived service it starts (`podunit internal health`), which runs the
 * checks that are due and kills a member that failed `retries` in a row. The
 * checks' configuration is a run file (`health.json`). Pure.
 */
import type { HealthCheck, MemberSpec } from "../podspec/types.ts";
import { sortProperties, type UnitProperty } from "../systemd/properties.ts";
import { healthCheckUnitNames, memberUnitName, unitCgroup } from "../systemd/unitname.ts";
import { type Ctx, exec, prop } from "./builder.ts";
import { containerId } from "./layout.ts";
import { memberRuntime, type Runtime } from "./runtime.ts";
import type { PlannedFile, PlannedUnit } from "./types.ts";

/** One member's check as `podunit internal health` reads it (milliseconds, not microseconds). */
export interface MemberCheck {
  member: string;
  unit: string;
  /** The member unit's cgroup (exec checks of host members run in it). */
  cgroup: string;
  /** The id of the member's container; undefined for a member on the host's file system. */
  containerId?: string;
  /** The container's runtime (crun or runc), which runs exec checks in it, and its bundle; with containerId. */
  runtime?: Runtime;
  bundle?: string;
  /** The container's id in files written before runtimes could be chosen (runc's); read, never written. */
  runcId?: string;
  check: HealthCheck;
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
  startupTimeoutMs: number;
}

/** The content of `health.json`. */
export interface HealthConfig {
  pod: string;
  /** The health state directory (one `MEMBER.json` each). */
  stateDir: string;
  /** `runc` only in files written before runtimes could be chosen: read, never written. */
  paths: { runc?: string; nsenter: string; setpriv: string };
  members: MemberCheck[];
}

/** The pod's timer and the check service it starts. */
export interface PlannedHealth {
  timer: PlannedUnit;
  service: PlannedUnit;
  config: HealthConfig;
}

const ms = (us: bigint) => Number(us / 1000n);

/** The extra time systemd gives a start beyond the check's own deadline, so the check reports why before systemd stops it. */
export const STARTUP_GRACE = 2_000_000n;

function memberCheck(c: Ctx, m: MemberSpec): MemberCheck {
  const h = m.health!;
  const unit = memberUnitName(c.spec.name, m.name);
  return {
    member: m.name,
    unit,
    cgroup: unitCgroup(c.spec.name, unit),
    ...(m.rootfs !== undefined || m.image !== undefined ? { containerId: containerId(c.spec.name, m.name), runtime: memberRuntime(c.spec, m, c.host, c.keptRuntimes.get(m.name)), bundle: c.layout.memberBundle(m.name) } : {}),
    check: h.check,
    intervalMs: ms(h.interval),
    timeoutMs: ms(h.timeout),
    retries: h.retries,
    startPeriodMs: ms(h.startPeriod),
    startupTimeoutMs: ms(h.startupTimeout),
  };
}

/**
 * The command that runs checks, in the pod's network namespace: nsenter into the pin
 * when the pod has one (an ExecStartPost cannot have a namespace setting of its own).
 */
function inPodNet(c: Ctx, args: string[]): { path: string; args: string[] } {
  const { paths } = c.host;
  if (!c.pinned.includes("net")) return { path: paths.podunit, args };
  return { path: paths.nsenter, args: [`--net=${c.layout.pin("net")}`, "--", paths.podunit, ...args] };
}

/**
 * The properties a member with a check adds: its readiness wait (privileged: it
 * enters the pod's namespaces whatever the member's user; a host member's
 * `${MAINPID}` expanded, a container's PID read from `runtimePidFile`)
 * and TimeoutStartSec. For container members it comes after the container's wait for
 * catatonit, which unit files add; `podunit start` waits for that itself.
 */
export function readinessProps(c: Ctx, m: MemberSpec, runtimePidFile?: string): UnitProperty[] {
  if (!m.health) return [];
  // A container's PID is read from its runtime's PID file: systemd may learn it only after ExecStartPost= (runtime.ts, pidHandOff).
  const pid = runtimePidFile !== undefined ? ["--pid-file", runtimePidFile] : ["--main-pid", "${MAINPID}"];
  const cmd = inPodNet(c, ["internal", "health", "--ready", m.name, ...pid, c.layout.healthConfig]);
  return [
    prop("ExecStartPostEx", [exec(cmd.path, cmd.args, ["privileged"])]),
    prop("TimeoutStartUSec", m.health.startupTimeout + STARTUP_GRACE),
  ];
}

/** The timer's period: the shortest interval; how late it may fire: a tenth of that, at most a second. */
export function timerPeriod(members: readonly MemberSpec[]): { period: bigint; accuracy: bigint } {
  const period = members.reduce((min, m) => (m.health && m.health.interval < min ? m.health.interval : min), BigInt(Number.MAX_SAFE_INTEGER));
  const tenth = period / 10n;
  return { period, accuracy: tenth < 1_000_000n ? tenth : 1_000_000n };
}

/** The pod's health timer, its check service and the run file they read; undefined for a pod without checks. */
export function planHealth(c: Ctx, members: readonly PlannedUnit[], files: PlannedFile[], dirs: string[]): PlannedHealth | undefined {
  const checked = c.spec.members.filter((m) => m.health !== undefined);
  if (checked.length === 0) return undefined;
  const { paths } = c.host;
  const names = healthCheckUnitNames(c.spec.name);
  const config: HealthConfig = {
    pod: c.spec.name,
    stateDir: c.layout.healthDir,
    paths: { nsenter: paths.nsenter, setpriv: paths.setpriv },
    members: checked.map((m) => memberCheck(c, m)),
  };
  dirs.push(c.layout.healthDir);
  files.push({ path: c.layout.healthConfig, mode: 0o600, content: `${JSON.stringify(config, null, 2)}\n` });

  const { period, accuracy } = timerPeriod(checked);
  const checkedUnits = members.filter((u) => checked.some((m) => m.name === u.member)).map((u) => u.name);
  const timer: PlannedUnit = {
    name: names.timer,
    type: "timer",
    role: "health",
    cgroup: "",
    properties: sortProperties([
      prop("Description", `Health checks of pod '${c.spec.name}'`),
      // Armed once the members it checks are up; gone with the sandbox.
      prop("After", [c.sandbox, ...checkedUnits]),
      prop("BindsTo", [c.sandbox]),
      prop("OnActiveSec", period),
      prop("OnUnitActiveSec", period),
      prop("AccuracyUSec", accuracy),
    ]),
  };
  const service: PlannedUnit = {
    name: names.service,
    type: "service",
    role: "health",
    cgroup: unitCgroup(c.spec.name, names.service),
    properties: sortProperties([
      prop("Description", `Health checks of pod '${c.spec.name}'`),
      prop("After", [c.sandbox]),
      prop("Slice", c.slice),
      prop("Type", "oneshot"),
      prop("ExecStartEx", [exec(paths.podunit, ["internal", "health", c.layout.healthConfig])]),
      ...(c.pinned.includes("net") ? [prop("NetworkNamespacePath", c.layout.pin("net"))] : []),
      prop("StandardOutput", "journal"),
      prop("StandardError", "journal"),
      prop("SyslogIdentifier", `${c.spec.name}/health`),
      prop("LogExtraFields", [`PODUNIT_POD=${c.spec.name}`]),
      // One line when a member's health changes, not three of systemd's per check.
      prop("SyslogLevel", "notice"),
      prop("LogLevelMax", "notice"),
    ]),
  };
  return { timer, service, config };
}
