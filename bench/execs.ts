/**
 * Counts the programs a command makes the machine execute, with the kernel's
 * sched_process_exec trace event: in an ftrace instance of its own, filtered to
 * this process, the lab's PID 1 and (through the `event-fork` option) every task
 * either of them forks while the count runs. So it sees the podunit or
 * systemd-run a command starts, and every process systemd forks for the units
 * it asked for, and nothing else of the machine.
 *
 * Host side only: tracefs is mounted at a directory of its own for the count and
 * unmounted again.
 */
import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import type { Lab } from "../test/lab/lab.ts";

const MOUNT = "/run/podunit-bench-tracefs";
const INSTANCE = `${MOUNT}/instances/podunit-bench-execs`;

function write(file: string, text: string): void {
  writeFileSync(`${INSTANCE}/${file}`, text);
}

/** The thread IDs of a process (set_event_pid filters by task). */
function tasks(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map(Number);
}

export interface ExecCount {
  /** Programs executed, by the file name execve was given, in order. */
  programs: string[];
}

/** Whether counting can work here (tracefs, root); the reason when not. */
export function execCountingUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "counting executions needs root (tracefs)";
  if (!readFileSync("/proc/filesystems", "utf8").includes("tracefs")) return "the kernel has no tracefs";
  return undefined;
}

/** Mounts tracefs and makes the instance; call `closeExecCounting` after. */
export function openExecCounting(): void {
  mkdirSync(MOUNT, { recursive: true });
  if (!existsSync(`${MOUNT}/instances`)) {
    const r = Bun.spawnSync(["mount", "-t", "tracefs", "nodev", MOUNT], { stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`mounting tracefs failed: ${r.stderr.toString()}`);
  }
  if (!existsSync(INSTANCE)) mkdirSync(INSTANCE);
  write("tracing_on", "0");
  write("buffer_size_kb", "8192");
  write("options/event-fork", "1");
  write("events/sched/sched_process_exec/enable", "1");
}

export function closeExecCounting(): void {
  try {
    write("tracing_on", "0");
    write("events/sched/sched_process_exec/enable", "0");
    rmdirSync(INSTANCE);
  } finally {
    Bun.spawnSync(["umount", MOUNT]);
    try {
      rmdirSync(MOUNT);
    } catch {
      // a mount point left busy is left
    }
  }
}

/** Runs `argv` in the lab and returns what was executed meanwhile (see the file's comment). */
export async function countExecs(lab: Lab, argv: string[]): Promise<ExecCount> {
  // Opening with O_TRUNC empties the instance's buffer (what `echo > trace` does; writeFileSync does not).
  closeSync(openSync(`${INSTANCE}/trace`, constants.O_WRONLY | constants.O_TRUNC));
  if (/sched_process_exec:/.test(readFileSync(`${INSTANCE}/trace`, "utf8"))) throw new Error("the trace buffer could not be emptied");
  write("set_event_pid", [...tasks(process.pid), ...tasks(lab.pid)].join(" "));
  write("tracing_on", "1");
  let status: number;
  let stdout: string;
  try {
    ({ status, stdout } = await lab.run(argv));
  } finally {
    write("tracing_on", "0");
  }
  if (status !== 0) throw new Error(`'${argv.join(" ")}' in the lab exited ${status}: ${stdout}`);
  const programs = [...readFileSync(`${INSTANCE}/trace`, "utf8").matchAll(/sched_process_exec: filename=(\S+) pid=/g)].map((m) => m[1]!);
  write("set_event_pid", "");
  return { programs };
}

/**
 * The programs a command executes beyond those of the way it is run in the lab
 * (`harness`: the same way running nothing): the fewest of `rounds` counts, so
 * one that caught a stray timer of the lab does not decide.
 */
export async function execsOf(lab: Lab, argv: string[], harness: string[], after: string[] | undefined, rounds = 3): Promise<string[]> {
  let best: string[] | undefined;
  for (let i = 0; i < rounds; i++) {
    const { programs } = await countExecs(lab, argv);
    if (after) await lab.sh(after);
    const own = [...programs];
    for (const h of harness) {
      const k = own.indexOf(h);
      if (k >= 0) own.splice(k, 1);
    }
    if (!best || own.length < best.length) best = own;
  }
  return best!;
}
