/**
 * `podunit internal …`: helpers that podunit's own units run, not meant for people.
 *
 * `prepare` writes the run files of a pod started from unit files (src/boot/prepare.ts).
 *
 * `ready --main-pid PID --unit UNIT --holder main|child --launcher COMM [--hostname NAME]
 * [--loopback] NS=PIN...` is a sandbox's ExecStartPost in unit files: it waits
 * for the sandbox's namespaces, names the pod, brings up its loopback and links
 * the pins (src/host/ready.ts). `podunit start` does the same itself.
 *
 * `wait-exec [--children] PIDFILE` waits until the process in PIDFILE (a runc
 * container's first process) is no longer runc's own init but the program it
 * runs (catatonit), and with --children until that has started its child. `runc
 * run -d` returns a moment before that; a SIGTERM that reaches the container in
 * between is lost (the first process of a PID namespace ignores signals it has
 * no handler for), and the stop then waits for its whole timeout. Run as
 * ExecStartPost, it keeps the unit "starting" until a stop will work.
 */
import type { Command } from "./common/command.ts";
import { parseArgs } from "./common/args.ts";
import { UsageError } from "../errors.ts";
import { prepareUnit } from "../boot/prepare.ts";
import { hostFiles } from "../host/files.ts";
import { backendOption } from "./common/verbs.ts";
import { NS_ORDER } from "../plan/builder.ts";
import type { SandboxReady } from "../plan/types.ts";
import { readySandbox, waitForExec } from "../host/ready.ts";
import type { Namespace } from "../podspec/types.ts";
import type { Io } from "./common/command.ts";
import { readFileSync } from "node:fs";
import { networkDown, networkUp } from "../pods/network.ts";
import type { PlannedNetwork } from "../plan/network.ts";

async function ready(args: string[]): Promise<number> {
  const { options, positionals } = parseArgs("internal ready", args, {
    "main-pid": { value: true },
    unit: { value: true },
    holder: { value: true },
    launcher: { value: true },
    hostname: { value: true },
    loopback: { value: false },
    timeout: { value: true },
  });
  const mainPid = Number(options["main-pid"]);
  if (!Number.isInteger(mainPid) || mainPid <= 0) throw new UsageError(`'podunit internal ready' needs --main-pid PID, not '${options["main-pid"] ?? ""}'.`);
  const holder = options.holder;
  if (holder !== "main" && holder !== "child") throw new UsageError("'podunit internal ready' needs --holder main or --holder child.");
  if (typeof options.launcher !== "string") throw new UsageError("'podunit internal ready' needs --launcher COMM.");
  if (typeof options.unit !== "string") throw new UsageError("'podunit internal ready' needs --unit UNIT.");
  const pins = positionals.map((arg) => {
    const [ns, path] = [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)];
    if (!NS_ORDER.includes(ns as Namespace) || !path.startsWith("/")) throw new UsageError(`'${arg}' is not NS=PIN (NS one of ${NS_ORDER.join(", ")}).`);
    return { ns: ns as Namespace, path };
  });
  const r: SandboxReady = {
    unit: options.unit,
    holder,
    launcher: options.launcher,
    ...(typeof options.hostname === "string" ? { hostname: options.hostname } : {}),
    loopback: options.loopback === true,
    pins,
  };
  await readySandbox(r, mainPid, { timeoutMs: Number(options.timeout ?? 5000) });
  return 0;
}

async function waitExec(args: string[]): Promise<number> {
  const { options, positionals } = parseArgs("internal wait-exec", args, { timeout: { value: true }, children: { value: false } });
  if (positionals.length !== 1) throw new UsageError("'podunit internal wait-exec' needs one PID file.");
  await waitForExec(positionals[0]!, { children: options.children === true, timeoutMs: Number(options.timeout ?? 5000) });
  return 0;
}

async function prepare(args: string[]): Promise<number> {
  const { options, positionals } = parseArgs("internal prepare", args, {
    sandbox: { value: false },
    member: { value: true },
    digest: { value: true },
    backend: { value: true },
    "run-dir": { value: true },
  });
  const member = typeof options.member === "string" ? options.member : undefined;
  if ((member === undefined) === (options.sandbox === undefined)) {
    throw new UsageError("'podunit internal prepare' needs exactly one of --sandbox and --member NAME.");
  }
  const { digest, "run-dir": runDir } = options;
  const backend = backendOption(options.backend);
  if (typeof digest !== "string" || typeof runDir !== "string" || backend === undefined) {
    throw new UsageError("'podunit internal prepare' needs --digest, --backend and --run-dir.");
  }
  if (positionals.length !== 1 || !positionals[0]!.startsWith("/")) {
    throw new UsageError("'podunit internal prepare' takes the absolute path of one spec file.");
  }
  await prepareUnit({ member, digest, backend, runDir, specFile: positionals[0]! }, { files: hostFiles });
  return 0;
}

/** The sandbox's ExecStartPost in unit files: the start's network step, from the planned network in the run directory. */
async function networkUpCommand(args: string[], io: Io): Promise<number> {
  const { positionals } = parseArgs("internal network-up", args, {});
  if (positionals.length !== 1) throw new UsageError("'podunit internal network-up' takes the path of one network.json.");
  const n = JSON.parse(readFileSync(positionals[0]!, "utf8")) as PlannedNetwork;
  // A failure fails the sandbox's start; its ExecStopPost (network-down) then removes what was made.
  await networkUp(n, io.env);
  return 0;
}

/** The sandbox's ExecStopPost: tears the pod's network down, whatever stopped the sandbox. */
async function networkDownCommand(args: string[], io: Io): Promise<number> {
  const { options, positionals } = parseArgs("internal network-down", args, { "run-dir": { value: true } });
  if (positionals.length !== 1 || typeof options["run-dir"] !== "string") throw new UsageError("'podunit internal network-down' needs --run-dir DIR and one pod name.");
  const problems = await networkDown(options["run-dir"], positionals[0]!, io.env);
  for (const p of problems) io.err(`${p}\n`);
  return problems.length ? 1 : 0;
}

export const internal: Command = {
  name: "internal",
  summary: "Helpers run by podunit's own units",
  usage:
    "podunit internal ready --main-pid PID --unit UNIT --holder main|child --launcher COMM [--hostname NAME] [--loopback] NS=PIN...\n" +
    "       podunit internal wait-exec [--timeout MS] [--children] PIDFILE\n" +
    "       podunit internal prepare --sandbox|--member NAME --digest D --backend B --run-dir DIR SPEC\n" +
    "       podunit internal network-up NETWORK.JSON\n" +
    "       podunit internal network-down --run-dir DIR POD",
  hidden: true,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === "ready") return ready(rest);
    if (sub === "wait-exec") return waitExec(rest);
    if (sub === "prepare") return prepare(rest);
    if (sub === "network-up") return networkUpCommand(rest, io);
    if (sub === "network-down") return networkDownCommand(rest, io);
    throw new UsageError(`Unknown subcommand 'internal ${sub ?? ""}'.`);
  },
};
