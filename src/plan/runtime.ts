/**
 * The OCI runtimes (crun, runc): which one runs a member's container and the
 * sandbox, where each keeps its state, what a container's first process is
 * called before it executes the container's program; where a container lives
 * in the cgroup tree and how its unit forgets it (both depend on the host's
 * cgroup layout, not on the runtime: crun's cgroupfs manager places and removes
 * a container's cgroups as runc's does). Pure.
 */
import { PodunitError } from "../errors.ts";
import type { MemberSpec, OciRuntime, PodSpec, SandboxBackend } from "../podspec/types.ts";
import type { ExecCommand } from "../systemd/properties.ts";
import { type Ctx, exec, IGNORE } from "./builder.ts";
import type { HostFacts, PlannedUnit } from "./types.ts";

/** A runtime as the units run it: its name and the path of its program. */
export interface Runtime {
  name: OciRuntime;
  path: string;
}

/** Each runtime's state directory for root: one directory per container, named by its id. */
export const RUNTIME_ROOT: Readonly<Record<OciRuntime, string>> = { crun: "/run/crun", runc: "/run/runc" };

/**
 * What /proc/PID/comm of a container's first process says until it executes the
 * container's program: runc's init names itself; crun's is a fork of crun.
 */
export const RUNTIME_INIT_COMM: Readonly<Record<OciRuntime, string>> = { crun: "crun", runc: "runc:[2:INIT]" };

/** The runtimes in the order a default is chosen: crun starts a container in about half of runc's time (docs/benchmarks.md). */
export const RUNTIME_PREFERENCE: readonly OciRuntime[] = ["crun", "runc"];

/** The fastest runtime installed on the host, or undefined when there is none. */
export function installedRuntime(host: HostFacts): OciRuntime | undefined {
  return RUNTIME_PREFERENCE.find((r) => host.paths[r] !== undefined);
}

/** How a missing runtime is installed, and what else can be written. */
function installHint(rt: OciRuntime, alternative: string): string {
  return `Install ${rt} (Debian: apt-get install ${rt}), or ${alternative}.`;
}

/** The pod's runtime: its `runtime` key, else the fastest installed; undefined when the pod names none and none is installed. */
function podRuntime(spec: PodSpec, host: HostFacts): OciRuntime | undefined {
  return spec.runtime ?? installedRuntime(host);
}

/**
 * The runtime of a member with a rootfs or an image: its own `runtime`, else the
 * pod's, else `kept` (the one it runs under, for `apply`) while that is installed,
 * else the fastest installed. One that is not installed is an error that says how
 * to install it.
 */
export function memberRuntime(spec: PodSpec, m: MemberSpec, host: HostFacts, kept?: OciRuntime): Runtime {
  const stays = kept !== undefined && host.paths[kept] !== undefined ? kept : undefined;
  const name = m.runtime ?? spec.runtime ?? stays ?? installedRuntime(host);
  const what = m.image !== undefined ? "an image" : "a rootfs";
  if (name === undefined) {
    throw new PodunitError(`Failed to plan pod '${spec.name}': member '${m.name}' has ${what}, which needs an OCI runtime (crun or runc), and neither is installed.`, {
      hint: "Install crun or runc (Debian: apt-get install crun).",
    });
  }
  const path = host.paths[name];
  if (path === undefined) {
    const from = m.runtime !== undefined ? `its runtime = "${name}"` : `the pod's runtime = "${name}"`;
    const other = RUNTIME_PREFERENCE.find((r) => r !== name && host.paths[r] !== undefined);
    throw new PodunitError(`Failed to plan pod '${spec.name}': member '${m.name}' has ${what} and ${from}, and ${name} is not installed.`, {
      hint: installHint(name, other ? `write runtime = "${other}", which is installed` : "install runc"),
    });
  }
  return { name, path };
}

/**
 * The sandbox backend: the command line's, else the spec's `sandbox`, else a
 * container of the pod's runtime (its `runtime`, else the fastest installed),
 * else native where no runtime is installed. A runtime backend that is not
 * installed is an error that says how to install it.
 */
export function chooseBackend(spec: PodSpec, host: HostFacts, asked: SandboxBackend | undefined): SandboxBackend {
  const backend = asked ?? spec.sandbox ?? podRuntime(spec, host) ?? "native";
  if (backend !== "native" && host.paths[backend] === undefined) {
    const why = asked !== undefined ? `--backend ${backend}` : spec.sandbox !== undefined ? `sandbox = "${backend}"` : `runtime = "${backend}"`;
    throw new PodunitError(`Failed to plan pod '${spec.name}': the ${backend} sandbox backend was asked for (${why}), but ${backend} is not installed.`, {
      hint: installHint(backend, `use the native backend (sandbox = "native" or --backend native)`),
    });
  }
  return backend;
}

/**
 * The backend `apply` plans with when the command line names none: the spec's
 * `sandbox`; else, for a pod whose sandbox runs under a runtime, the pod's
 * `runtime`; else the one the pod runs with (a default that moved since, or a
 * `--backend` given at start, is kept).
 */
export function applyBackend(spec: PodSpec, running: SandboxBackend): SandboxBackend {
  return spec.sandbox ?? (running !== "native" && spec.runtime !== undefined ? spec.runtime : running);
}

/**
 * The runtime each container member of a plan runs under, by member name: the
 * unit's `runtime`, or, in a plan recorded before runtimes could be chosen, the
 * program its ExecStart runs.
 */
export function plannedRuntimes(p: { members: readonly PlannedUnit[] }): Map<string, OciRuntime> {
  const out = new Map<string, OciRuntime>();
  for (const u of p.members) {
    const exec = u.properties.find((x) => x.key === "ExecStartEx")?.value as { path: string }[] | undefined;
    const program = exec?.[0]?.path.split("/").pop();
    const rt = u.runtime ?? RUNTIME_PREFERENCE.find((r) => r === program);
    if (u.member !== undefined && rt !== undefined) out.set(u.member, rt);
  }
  return out;
}

/** The sandbox's runtime, for a runtime backend; undefined for the native one. */
export function sandboxRuntime(c: Ctx): Runtime | undefined {
  return c.backend === "native" ? undefined : { name: c.backend, path: c.host.paths[c.backend]! };
}

/**
 * The container's cgroup. On cgroup v1 (legacy, hybrid): a child of the unit's
 * cgroup, so the runtime can set up the controllers systemd does not manage. On
 * cgroup v2: the unit's own cgroup. A child there would need the unit's root
 * cgroup to hold no processes once controllers are enabled for the child (cgroup
 * v2 allows processes only in leaves), but systemd 252 always places a unit's
 * control processes (ExecStartPost=, ExecStopPost=) in that root, and runc,
 * finding it busy, turns the child into a threaded cgroup that systemd can then
 * no longer manage.
 */
export function containerCgroup(c: Ctx, unitCgroup: string, leaf: string): string {
  return c.host.cgroupMode === "unified" ? unitCgroup : `${unitCgroup}/${leaf}`;
}

/**
 * ExecStopPost= that makes the runtime forget a stopped container. On cgroup v1,
 * `delete -f`, which also removes the container's cgroups in every hierarchy. On
 * cgroup v2 the container's cgroup is the unit's, removed by systemd, and a
 * delete run from inside it would signal (for a joined PID namespace: freeze)
 * every process of that cgroup, itself included; all that is left to do is to
 * remove the runtime's state directory for the container.
 */
export function forgetContainer(c: Ctx, rt: Runtime, id: string): ExecCommand {
  return c.host.cgroupMode === "unified"
    ? exec(c.host.paths.rm, ["-rf", `${RUNTIME_ROOT[rt.name]}/${id}`], IGNORE)
    : exec(rt.path, ["delete", "-f", id], IGNORE);
}

/**
 * A shell program that hands a detached container's PID to systemd once systemd
 * is its parent: $1 is the PID file the runtime wrote, $2 the unit's PIDFile=.
 * It waits (boundedly, reading /proc) until the process's parent is PID 1, then
 * writes $2; when the process is gone it writes $2 at once and systemd finds it
 * dead. Only shell built-ins: no program runs besides the shell.
 */
const ADOPT_SCRIPT = [
  'read -r p < "$1"; [ -n "$p" ] || exit 1',
  "n=0",
  'while [ "$n" -lt 5000 ]; do s=',
  '{ while read -r k v; do if [ "$k" = PPid: ]; then s=$v; break; fi; done; } 2>/dev/null < "/proc/$p/status" || break',
  '[ "$s" = 1 ] && break',
  "n=$((n+1))",
  "done",
  'echo "$p" > "$2"',
].join("; ");

/** How a container's PID reaches its forking unit: the file the runtime writes, and what runs after it to hand it on. */
export interface PidHandOff {
  /** Where `run -d --pid-file` writes the container's first PID (what podunit's own waits read). */
  runtimePidFile: string;
  /** ExecStartPost= commands that write the unit's PIDFile=; none when the runtime writes it. */
  post: ExecCommand[];
}

/**
 * crun 1.8.1's `run -d` forks a child that makes the container and exits after
 * its parent: the container's first process can still be that child's when
 * systemd reads the PID file. systemd then keeps it as an "alien" main process
 * ("Supervising process ... which is not our child") and, at stop, follows the
 * stop signal with SIGKILL at once when no other process is in the unit: no
 * grace period, and a result of 'signal'. Seen in up to half the starts on a busy
 * 2-core machine. So, for a container whose first process may be alone in its
 * unit (`alone`: the sandbox's pause process, a member in the pod's PID namespace,
 * which has no catatonit of its own) and on cgroup v1 without a v2 tree (where
 * systemd does not wait for the rest of a delegated unit's processes either),
 * crun writes its own PID file and the unit's PIDFile= is written by a step that
 * waits until systemd is the parent (systemd reads a missing PIDFile= again after
 * ExecStartPost=). A member with catatonit and its command needs none: systemd
 * waits for the unit's cgroup to empty. runc's `run -d` was not seen to do this
 * (none in 60 starts under the same load): no step.
 */
export function pidHandOff(c: Ctx, rt: Runtime, pidFile: string, alone: boolean): PidHandOff {
  if (rt.name !== "crun" || (!alone && c.host.cgroupMode !== "legacy")) return { runtimePidFile: pidFile, post: [] };
  const runtimePidFile = pidFile.replace(/\.pid$/, ".crun.pid");
  return { runtimePidFile, post: [exec(c.host.paths.sh, ["-c", ADOPT_SCRIPT, "podunit-adopt", runtimePidFile, pidFile])] };
}
