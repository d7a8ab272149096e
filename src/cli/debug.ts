/**
 * `podunit debug`: diagnostics for the path from podunit to systemd, outside
 * of any pod spec. `debug run` puts one command into a pod slice as a scope or a
 * transient service with the given limits, the way a pod's units are made.
 */
import os from "node:os";
import type { Command } from "./command.ts";
import { parseArgs } from "./args.ts";
import { UsageError } from "../errors.ts";
import { connectSystemd } from "../systemd/bus.ts";
import type { DbusProperty } from "../systemd/types.ts";
import { podSliceName, escapeUnitName } from "../systemd/unitname.ts";
import { parsePercent, parseSize } from "../podspec/grammar.ts";

const USAGE = `podunit debug bus
       podunit debug run --pod POD --name NAME [--scope [--wait]] [--memory-max SIZE]
                         [--cpu-quota PERCENT] [--tasks-max N] -- COMMAND [ARG...]`;

export const debug: Command = {
  name: "debug",
  summary: "Diagnose the path to systemd (bus, slices, scopes, services)",
  usage: USAGE,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === "bus") return bus(rest, io);
    if (sub === "run") return run(rest, io);
    throw new UsageError(sub === undefined ? "'podunit debug' needs a subcommand." : `Unknown subcommand 'debug ${sub}'.`, `Usage: ${USAGE}`);
  },
};

/** `debug bus`: connect, print systemd's version and state. */
async function bus(args: string[], io: Parameters<Command["run"]>[1]): Promise<number> {
  parseArgs("debug bus", args, {});
  const sd = await connectSystemd(io.env);
  try {
    const [version, units] = await Promise.all([sd.version(), sd.listUnits(["podunit*.slice"])]);
    io.out(`systemd ${version} reachable at ${sd.address}; ${units.length} podunit slice(s) loaded\n`);
  } finally {
    sd.close();
  }
  return 0;
}

/** Converts the limit options into typed unit properties. */
function limitProperties(opts: Record<string, string | true>): DbusProperty[] {
  const props: DbusProperty[] = [];
  const value = (k: string) => (typeof opts[k] === "string" ? (opts[k] as string) : undefined);
  const fail = (k: string, msg: string): never => {
    throw new UsageError(`Option '--${k}': ${msg}.`);
  };
  const mem = value("memory-max");
  if (mem !== undefined) {
    const r = parseSize(mem);
    props.push({ name: "MemoryMax", signature: "t", value: r.ok ? r.value : fail("memory-max", r.message) });
  }
  const cpu = value("cpu-quota");
  if (cpu !== undefined) {
    const r = parsePercent(cpu);
    // systemd's unit: CPU time per second of wall clock, in microseconds.
    props.push({ name: "CPUQuotaPerSecUSec", signature: "t", value: r.ok ? BigInt(Math.round(r.value * 10_000)) : fail("cpu-quota", r.message) });
  }
  const tasks = value("tasks-max");
  if (tasks !== undefined) {
    if (!/^[1-9][0-9]{0,8}$/.test(tasks)) fail("tasks-max", `expected a whole number above 0, found '${tasks}'`);
    props.push({ name: "TasksMax", signature: "t", value: BigInt(tasks) });
  }
  return props;
}

/** `debug run`: slice + scope (holding a spawned process) or slice + transient service. */
async function run(args: string[], io: Parameters<Command["run"]>[1]): Promise<number> {
  const { options, positionals } = parseArgs("debug run", args, {
    pod: { value: true },
    name: { value: true },
    scope: { value: false },
    wait: { value: false },
    "memory-max": { value: true },
    "cpu-quota": { value: true },
    "tasks-max": { value: true },
  });
  const pod = options.pod;
  const name = options.name;
  if (typeof pod !== "string" || typeof name !== "string") throw new UsageError("'podunit debug run' needs --pod and --name.");
  if (positionals.length === 0) throw new UsageError("'podunit debug run' needs a command after '--'.");
  if (options.wait && !options.scope) throw new UsageError("'--wait' goes with '--scope'.");
  const limits = limitProperties(options);
  const slice = podSliceName(pod);
  const unit = `podunit-${escapeUnitName(pod)}-${escapeUnitName(name)}.${options.scope ? "scope" : "service"}`;

  const sd = await connectSystemd(io.env);
  try {
    const sliceState = await sd.getUnit(slice);
    if (sliceState === null) {
      await sd.startTransientUnit(slice, [{ name: "Description", signature: "s", value: `podunit pod ${pod}` }]);
    }
    const common: DbusProperty[] = [
      { name: "Description", signature: "s", value: `podunit debug ${pod}/${name}` },
      { name: "Slice", signature: "s", value: slice },
      ...limits,
    ];
    if (!options.scope) {
      await sd.startTransientUnit(unit, [
        ...common,
        { name: "Type", signature: "s", value: "exec" },
        { name: "ExecStartEx", signature: "a(sasas)", value: [[positionals[0]!, positionals, ["no-env-expand"]]] },
        { name: "StandardOutput", signature: "s", value: "journal" },
        { name: "StandardError", signature: "s", value: "journal" },
        { name: "CollectMode", signature: "s", value: "inactive-or-failed" },
      ]);
      io.out(`${unit} started in ${slice}\n`);
      return 0;
    }
    const child = Bun.spawn(positionals, {
      stdin: "ignore",
      stdout: options.wait ? "inherit" : "ignore",
      stderr: options.wait ? "inherit" : "ignore",
    });
    try {
      await sd.startTransientUnit(unit, [...common, { name: "PIDs", signature: "au", value: [child.pid] }]);
    } catch (err) {
      child.kill("SIGKILL");
      throw err;
    }
    if (!options.wait) {
      child.unref();
      io.out(`${unit} holds PID ${child.pid} in ${slice}\n`);
      return 0;
    }
    sd.close();
    const status = await child.exited;
    const signal = child.signalCode;
    if (signal === null) return status;
    return 128 + (typeof signal === "number" ? signal : (os.constants.signals as Record<string, number>)[signal] ?? 0);
  } finally {
    sd.close();
  }
}
