/**
 * `podunit exec`: runs a command inside a running member, in all of its
 * namespaces (mount and PID too) and with its user, environment and working
 * directory unless told otherwise; podunit exits with the command's status.
 */
import { isatty } from "../host/libc.ts";
import type { Command, Io } from "./common/command.ts";
import { nameList, requireRoot } from "./common/verbs.ts";
import { withSystemd } from "../pods/wiring.ts";
import { EXEC_OPTIONS, EXEC_USAGE, parseExecArgs, type ExecArgs } from "./common/exec-args.ts";
import { podMembers } from "../pods/queries.ts";
import { NotFoundError, UsageError } from "../errors.ts";
import { detectPaths } from "../plan/hostfacts.ts";
import { containerId } from "../plan/layout.ts";
import type { Systemd } from "../systemd/bus.ts";
import { bundleProcess, enterEnv, enterTarget, nsenterArgv, runAttached, runtimeExecArgv, type EnterRequest } from "../host/enter.ts";
import { firstChild } from "../host/proc.ts";
import { containerRuntime } from "../host/runtime.ts";


/** How to run the command: the argv, its environment (undefined = podunit's own) and where signals go. */
interface Launch {
  argv: string[];
  env?: Record<string, string>;
  forwardTo?: (childPid: number) => number;
}

/** The state and bundle a runtime reports for a container, or undefined when it does not know it. */
function containerState(runtime: string, id: string): { status?: string; bundle?: string } | undefined {
  const r = Bun.spawnSync([runtime, "state", id], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  if (r.exitCode !== 0) return undefined;
  try {
    return JSON.parse(r.stdout.toString()) as { status?: string; bundle?: string };
  } catch {
    return undefined;
  }
}

/** Finds the running member and decides between its runtime's exec and nsenter. */
async function launchFor(a: ExecArgs, req: EnterRequest, io: Io, sd: Systemd): Promise<Launch> {
  const p = await podMembers(a.ref, a.dir, io.env, sd);
  const pod = p.pod;
  if (!p.spec && p.units.size === 0) {
    throw new NotFoundError(`Failed to find pod '${pod}': it has no spec file and no units.`, "'podunit list' shows the pods there are.");
  }
  if (!p.members.includes(a.member)) {
    const why = a.member === "sandbox" ? " (the sandbox only holds the pod's namespaces; name a member)" : "";
    throw new NotFoundError(`Failed to find member '${a.member}' in pod '${pod}'${why}.`, `Its members: ${nameList(p.members)}.`);
  }
  const unit = p.units.get(a.member);
  const mainPid = unit ? ((await sd.mainPid(unit.name)) ?? 0) : 0;
  if (!unit || unit.activeState !== "active" || mainPid <= 0) {
    const state = unit ? ` (${unit.activeState}, ${unit.subState})` : p.units.size ? "" : "; the pod is not running";
    throw new NotFoundError(`Failed to run a command in member '${a.member}' of pod '${pod}': it has no running process${state}.`, `'podunit status ${pod}' shows its state.`);
  }
  const paths = detectPaths();
  const id = containerId(pod, a.member);
  const rt = containerRuntime(paths, id);
  const state = rt ? containerState(rt.path, id) : undefined;
  if (state !== undefined) {
    if (state.status !== "running") {
      throw new NotFoundError(`Failed to run a command in member '${a.member}' of pod '${pod}': its container is ${state.status ?? "in no known state"}.`, `'podunit status ${pod}' shows its state.`);
    }
    // crun's exec does not take the container's user, directory and no-new-privileges itself.
    const own = rt!.name === "crun" ? (state.bundle ? bundleProcess(state.bundle) : undefined) : undefined;
    if (rt!.name === "crun" && own === undefined) {
      throw new NotFoundError(`Failed to run a command in member '${a.member}' of pod '${pod}': the config of its container could not be read.`, `'podunit status ${pod}' shows its state.`);
    }
    return { argv: runtimeExecArgv(rt!.path, id, req, own) };
  }
  const target = enterTarget(mainPid);
  // nsenter starts from inside the member's cgroups (podunit joins them, then becomes nsenter),
  // so the command is under the member's limits from its first instruction and stops with it.
  return {
    argv: [paths.podunit, "internal", "join-exec", `--cgroup-of=${mainPid}`, "--", ...nsenterArgv(paths, target.pid, target.creds, req)],
    env: enterEnv(target.env, req.env),
    // nsenter forks into the PID namespace and passes no signals on: its child gets them.
    forwardTo: (pid) => firstChild(pid) ?? pid,
  };
}

export const execCommand: Command = {
  name: "exec",
  runsCommand: true,
  options: EXEC_OPTIONS,
  args: ["pod", "member", "command..."],
  summary: "Run a command inside a running member; exits with the command's status",
  usage: `${EXEC_USAGE}

  -i, --interactive    connect standard input (the default when it is a terminal; otherwise the command reads /dev/null)
  -t, --tty            give the command a terminal (the default when standard input and output are terminals)
  -T, --no-tty         no terminal, even on one
  -u, --user UID[:GID] run as this numeric user (GID defaults to UID) instead of the member's user
  -w, --workdir DIR    working directory inside the member (default: the member's)
  -e, --env KEY=VALUE  add to the member's environment (repeatable)

Members with a rootfs or an image are entered with their runtime's exec command (crun
or runc: a terminal of their own with -t),
the others with nsenter into their main process (they use podunit's terminal as it
is); either way the command runs in the member's cgroup, under its limits, and
stops with it. The exit status is the command's (128 + N for signal N). A command that takes
'--help' needs '--' before it: podunit exec web app -- grep --help`,
  async run(args, io) {
    const a = parseExecArgs(args);
    const stdinTty = isatty(0);
    if (a.tty === true && !stdinTty) {
      throw new UsageError("Option '--tty' needs a terminal on standard input.", "Leave out '-t' when standard input is a file or a pipe.");
    }
    const tty = a.tty ?? (stdinTty && isatty(1));
    requireRoot("exec");
    const env = [...a.env];
    if (tty && io.env.TERM && !env.some((e) => e.startsWith("TERM="))) env.unshift(`TERM=${io.env.TERM}`);
    const req: EnterRequest = { command: a.command, tty, user: a.user, workdir: a.workdir, env };
    const launch = await withSystemd(io.env, (sd) => launchFor(a, req, io, sd));
    return runAttached(launch.argv, { stdin: a.interactive || stdinTty || tty, env: launch.env, forwardTo: launch.forwardTo });
  },
};
