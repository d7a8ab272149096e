/**
 * `podunit internal …`: helpers that podunit's own units run, not meant for people.
 *
 * `prepare` writes the run files of a pod started from unit files (src/boot/prepare.ts).
 *
 * `ready --main-pid PID|--pid-file FILE --unit UNIT --holder main|child --launcher COMM [--hostname NAME]
 * [--loopback] NS=PIN...` is a sandbox's ExecStartPost in unit files: it waits
 * for the sandbox's namespaces, names the pod, brings up its loopback and links
 * the pins (src/host/ready.ts). `podunit start` does the same itself.
 *
 * `mount-root` and `umount-root` mount and unmount an image member's root in unit
 * files (its ExecStartPre and last ExecStopPost; src/host/rootfs.ts).
 *
 * `volumes-up VOLUME...` and `volumes-down VOLUME...` make a pod's volumes and
 * remove its scratch and tmpfs ones in unit files (the sandbox's ExecStartPre
 * and first ExecStopPost; src/host/volumes.ts).
 *
 * `wait-exec [--children] [--launcher COMM] PIDFILE` waits until the process in
 * PIDFILE (a container's first process) is no longer the runtime's own init
 * (COMM: `crun`, or runc's by default) but the program it runs (catatonit), and
 * with --children until that has started its child. `run -d` can return a moment
 * before that; a SIGTERM that reaches the container in
 * between is lost (the first process of a PID namespace ignores signals it has
 * no handler for), and the stop then waits for its whole timeout. Run as
 * ExecStartPost, it keeps the unit "starting" until a stop will work.
 *
 * `health` runs a pod's health checks (src/cli/health.ts).
 *
 * `complete --cword N -- WORD...` prints the completions of word N of a podunit
 * command line, one a line, for the shells' completion scripts (complete.ts). It
 * needs no root and no systemd (running pods are read from the run directory),
 * and prints nothing rather than an error.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Command, Io } from "./common/command.ts";
import { type OptionSpec, parseArgs } from "./common/args.ts";
import type { CompletionSources } from "./common/complete.ts";
import { listSpecs, specDir } from "../podspec/specdir.ts";
import { UsageError } from "../errors.ts";
import { backendOption } from "./common/verbs.ts";
import { NS_ORDER } from "../plan/builder.ts";
import type { SandboxReady } from "../plan/types.ts";
import type { Namespace } from "../podspec/types.ts";
import type { PlannedNetwork } from "../plan/network.ts";
import { joinCgroupsOf } from "../host/cgroup.ts";
import { execve } from "../host/libc.ts";
import { HostError } from "../host/errno.ts";

// Each subcommand loads the modules of its own work when it runs: units run these
// helpers at every boot-time start and stop (and `podunit exec` runs join-exec), and
// a module loaded for nothing costs each run start-up time (docs/benchmarks.md).

const READY_OPTIONS = {
  "main-pid": { value: true },
  "pid-file": { value: true },
  unit: { value: true },
  holder: { value: true, values: ["main", "child"] },
  launcher: { value: true },
  hostname: { value: true },
  loopback: { value: false },
  timeout: { value: true },
} as const;
const WAIT_EXEC_OPTIONS = { timeout: { value: true }, children: { value: false }, launcher: { value: true } } as const;
const PREPARE_OPTIONS = {
  sandbox: { value: false },
  member: { value: true },
  digest: { value: true },
  backend: { value: true, values: ["crun", "runc", "native"] },
  "run-dir": { value: true, values: "dir" },
  "image-dir": { value: true, values: "dir" },
  image: { value: true },
} as const;
const NETWORK_DOWN_OPTIONS = { "run-dir": { value: true, values: "dir" } } as const;
const COMPLETE_OPTIONS: OptionSpec = { cword: { value: true } };

async function ready(args: string[]): Promise<number> {
  const { options, positionals } = parseArgs("internal ready", args, READY_OPTIONS);
  const { readPidFile, readySandbox } = await import("../host/ready.ts");
  const mainPid = typeof options["pid-file"] === "string" ? readPidFile(options["pid-file"]) : Number(options["main-pid"]);
  if (!Number.isInteger(mainPid) || mainPid <= 0) throw new UsageError(`'podunit internal ready' needs --main-pid PID or --pid-file FILE, not '${options["main-pid"] ?? ""}'.`);
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
  const { options, positionals } = parseArgs("internal wait-exec", args, WAIT_EXEC_OPTIONS);
  if (positionals.length !== 1) throw new UsageError("'podunit internal wait-exec' needs one PID file.");
  const launcher = typeof options.launcher === "string" ? options.launcher : undefined;
  const { waitForExec } = await import("../host/ready.ts");
  await waitForExec(positionals[0]!, { children: options.children === true, timeoutMs: Number(options.timeout ?? 5000), ...(launcher ? { launcher } : {}) });
  return 0;
}

/** `--image REF=DIGEST` options → reference → digest. */
function pinsOf(images: string[] | undefined): Record<string, string> {
  return Object.fromEntries(
    (images ?? []).map((p) => {
      const eq = p.lastIndexOf("=");
      if (eq <= 0) throw new UsageError(`'--image ${p}' is not REF=DIGEST.`);
      return [p.slice(0, eq), p.slice(eq + 1)];
    }),
  );
}

const PULL_OPTIONS = { backend: PREPARE_OPTIONS.backend, "image-dir": PREPARE_OPTIONS["image-dir"], image: PREPARE_OPTIONS.image } as const;

/** A boot-time pod's pull unit (see plan/pulls.ts): its lines go to the journal, one per event. */
async function pullCmd(args: string[], io: Io): Promise<number> {
  const { options, lists, positionals } = parseArgs("internal pull", args, PULL_OPTIONS);
  const backend = backendOption(options.backend);
  const store = options["image-dir"];
  if (typeof store !== "string" || backend === undefined || positionals.length !== 1 || !positionals[0]!.startsWith("/")) {
    throw new UsageError("'podunit internal pull' needs --image-dir, --backend and the absolute path of one spec file.");
  }
  const [{ bootPull }, { startPullProgress }] = await Promise.all([import("../pods/pull.ts"), import("./common/progress.ts")]);
  const r = await bootPull({ store, backend, pins: pinsOf(lists.image), specFile: positionals[0]! }, io.env, startPullProgress(io, false));
  if (r.rewritten) io.out("The pod's images are not the ones its unit files named: its units were written again and systemd reloaded.\n");
  return 0;
}

async function prepare(args: string[]): Promise<number> {
  // The arguments are those prepareArgv writes into unit files; one parser reads them here and for `system refresh`.
  const [{ parsePrepareArgv }, { prepareUnit }, { hostFiles }, { resolveImages }] = await Promise.all([
    import("../plan/unitfiles.ts"),
    import("../boot/prepare.ts"),
    import("../host/files.ts"),
    import("../pods/images.ts"),
  ]);
  const a = parsePrepareArgv(["internal", "prepare", ...args]);
  if (a === undefined) {
    throw new UsageError(
      "'podunit internal prepare' takes --sandbox or --member NAME, --digest D, --backend crun|runc|native, --run-dir DIR, " +
        "--image-dir DIR with --image REF=DIGEST for each image, and the absolute path of one spec file, as the unit files podunit writes give them.",
    );
  }
  await prepareUnit(a, { files: hostFiles, images: (spec, dir, p) => resolveImages(spec, dir, p) });
  return 0;
}

/** The sandbox's ExecStartPost in unit files: the start's network step, from the planned network in the run directory. */
async function networkUpCommand(args: string[], io: Io): Promise<number> {
  const { positionals } = parseArgs("internal network-up", args, {});
  if (positionals.length !== 1) throw new UsageError("'podunit internal network-up' takes the path of one network.json.");
  const n = JSON.parse(readFileSync(positionals[0]!, "utf8")) as PlannedNetwork;
  // A failure fails the sandbox's start; its ExecStopPost (network-down) then removes what was made.
  await (await import("../pods/network.ts")).networkUp(n, io.env);
  return 0;
}

/** The sandbox's ExecStopPost: tears the pod's network down, whatever stopped the sandbox. */
async function networkDownCommand(args: string[], io: Io): Promise<number> {
  const { options, positionals } = parseArgs("internal network-down", args, NETWORK_DOWN_OPTIONS);
  if (positionals.length !== 1 || typeof options["run-dir"] !== "string") throw new UsageError("'podunit internal network-down' needs --run-dir DIR and one pod name.");
  const problems = await (await import("../pods/network.ts")).networkDown(options["run-dir"], positionals[0]!, io.env);
  for (const p of problems) io.err(`${p}\n`);
  return problems.length ? 1 : 0;
}
/** An image member's ExecStartPre in unit files: mounts its root (see plan/unitfiles.ts, mountRootArgv). */
async function mountRootCmd(args: string[]): Promise<number> {
  const { options, lists, positionals } = parseArgs("internal mount-root", args, {
    image: { value: true },
    digest: { value: true },
    lower: { value: true },
    upper: { value: true },
    work: { value: true },
  });
  const { image, digest, upper, work } = options;
  if (typeof image !== "string" || typeof digest !== "string" || !lists.lower?.length || positionals.length !== 1) {
    throw new UsageError("'podunit internal mount-root' needs --image REF --digest DIGEST, one --lower DIR or more, and the mount point.");
  }
  if ((typeof upper === "string") !== (typeof work === "string")) throw new UsageError("'podunit internal mount-root' takes --upper and --work together.");
  const target = positionals[0]!;
  const member = target.slice(target.lastIndexOf("/") + 1);
  const { isMountPoint, mountRoot } = await import("../host/rootfs.ts");
  // A root still mounted (the member restarts) keeps its writable layer.
  if (isMountPoint(target)) return 0;
  mountRoot({
    member,
    unit: "",
    image,
    manifestDigest: digest,
    lowerdirs: lists.lower,
    ...(typeof upper === "string" && typeof work === "string" ? { upper, work } : {}),
    target,
  });
  return 0;
}

/**
 * An image member's last ExecStopPost: unmounts its root. The writable layer stays
 * for a restart of the member and goes with the pod's run directory.
 */
async function umountRootCmd(args: string[]): Promise<number> {
  const { positionals } = parseArgs("internal umount-root", args, {});
  if (positionals.length !== 1 || !positionals[0]!.startsWith("/")) throw new UsageError("'podunit internal umount-root' takes the mount point.");
  (await import("../host/rootfs.ts")).unmountRoot(positionals[0]!);
  return 0;
}

/** The volumes of `volumes-up`/`volumes-down` (see plan/volumes.ts, volumeArg). */
async function volumeArgs(verb: string, args: string[]) {
  const { positionals } = parseArgs(`internal ${verb}`, args, {});
  const { parseVolumeArg } = await import("../plan/volumes.ts");
  return positionals.map((a, i) => {
    const v = parseVolumeArg(a, `#${i + 1}`);
    if (!v) throw new UsageError(`'${a}' is not a volume as 'podunit internal ${verb}' takes it: type=T[,size=N][,owner=U:G][,mode=OCTAL],path=PATH.`);
    return { ...v, name: v.source.slice(v.source.lastIndexOf("/") + 1) };
  });
}

/**
 * The sandbox's ExecStartPre in unit files (after its prepare): checks host volumes,
 * makes persistent and scratch directories, mounts tmpfs volumes. A failure fails the
 * sandbox, so no member starts; what it made is undone (host/volumes.ts).
 */
async function volumesUp(args: string[]): Promise<number> {
  const [volumes, { prepareVolumes }] = await Promise.all([volumeArgs("volumes-up", args), import("../host/volumes.ts")]);
  prepareVolumes(volumes);
  return 0;
}

/** The sandbox's first ExecStopPost in unit files: unmounts tmpfs volumes, removes scratch ones. Persistent volumes are never given to it. */
async function volumesDown(args: string[]): Promise<number> {
  const [volumes, { removeRunVolumes }] = await Promise.all([volumeArgs("volumes-down", args), import("../host/volumes.ts")]);
  removeRunVolumes(volumes);
  return 0;
}

/** POD/NAME of the persistent volumes, from the directory names alone. */
async function listVolumeNames(): Promise<string[]> {
  const { VOLUME_ROOT } = await import("../plan/volumes.ts");
  const dirs = (p: string) => readdirSync(p, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  return dirs(VOLUME_ROOT).flatMap((pod) => dirs(`${VOLUME_ROOT}/${pod}`).map((n) => `${pod}/${n}`));
}

/** Where completion finds pods, members and images; anything it cannot read counts as none. */
function completionSources(io: Io): CompletionSources {
  const none = async <T>(f: () => Promise<T[]> | T[]): Promise<T[]> => {
    try {
      return await f();
    } catch {
      return [];
    }
  };
  return {
    pods: async (dir) => {
      const specs = await none(() => listSpecs(specDir({ dir, env: io.env })));
      const { runDir } = await import("../pods/context.ts");
      const running = await none(() => readdirSync(runDir(io.env), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name));
      return [...specs, ...running];
    },
    members: (pod, dir) => none(async () => (await (await import("../pods/queries.ts")).podMembers(pod, dir, io.env, undefined)).members),
    images: () =>
      none(async () => {
        const [{ openStore }, { imageDir }] = await Promise.all([import("../image/index.ts"), import("./common/images.ts")]);
        return openStore(imageDir(io)).list().flatMap((i) => i.names);
      }),
    volumes: () => none(listVolumeNames),
  };
}

async function completeLine(args: string[], io: Io, commands: Command[]): Promise<number> {
  const { complete } = await import("./common/complete.ts");
  const { options, positionals } = parseArgs("internal complete", args, COMPLETE_OPTIONS);
  const cword = Number(options.cword);
  if (!Number.isInteger(cword) || cword < 0) throw new UsageError("'podunit internal complete' needs --cword N, the index of the word to complete.");
  const words = await complete(commands, positionals, cword, completionSources(io)).catch(() => []);
  io.out(words.map((w) => `${w}\n`).join(""));
  return 0;
}

/**
 * `join-exec --cgroup-of PID -- PROGRAM ARG...`: moves itself into the cgroups
 * of process PID (a member's main process), then becomes PROGRAM (execve), so
 * PROGRAM and everything it starts are born in the member's cgroup, under its
 * limits, and stop with it. `podunit exec` runs nsenter through it.
 */
function joinExec(args: string[], io: Io): number {
  const dash = args.indexOf("--");
  const { options } = parseArgs("internal join-exec", dash < 0 ? args : args.slice(0, dash), { "cgroup-of": { value: true } });
  const argv = dash < 0 ? [] : args.slice(dash + 1);
  const pid = Number(options["cgroup-of"]);
  if (!Number.isInteger(pid) || pid <= 0 || argv.length === 0 || !argv[0]!.startsWith("/")) {
    throw new UsageError("'podunit internal join-exec' needs --cgroup-of PID and an absolute PROGRAM after '--'.");
  }
  joinCgroupsOf(pid);
  const errno = execve(argv, io.env);
  throw new HostError(`run '${argv[0]}'`, "execve", errno);
}

/** The `internal` verb; `commands` gives the command table, which completion reads (loaded only then when the verb runs alone). */
export function internalCommand(commands: () => Command[] | Promise<Command[]>): Command {
  return {
  name: "internal",
  summary: "Helpers run by podunit's own units",
  usage:
    "podunit internal ready --main-pid PID|--pid-file FILE --unit UNIT --holder main|child --launcher COMM [--hostname NAME] [--loopback] NS=PIN...\n" +
    "       podunit internal wait-exec [--timeout MS] [--children] [--launcher COMM] PIDFILE\n" +
    "       podunit internal prepare --sandbox|--member NAME --digest D --backend B --run-dir DIR [--image-dir DIR --image REF=DIGEST...] SPEC\n" +
    "       podunit internal mount-root --image REF --digest DIGEST --lower DIR... [--upper DIR --work DIR] TARGET\n" +
    "       podunit internal umount-root TARGET\n" +
    "       podunit internal network-up NETWORK.JSON\n" +
    "       podunit internal network-down --run-dir DIR POD\n" +
    "       podunit internal volumes-up|volumes-down VOLUME...\n" +
    "       podunit internal health [--ready MEMBER --main-pid PID|--pid-file FILE] CONFIG\n" +
    "       podunit internal pull --image-dir DIR --backend B [--image REF=DIGEST...] SPEC\n" +
    "       podunit internal complete --cword N -- WORD...\n" +
    "       podunit internal join-exec --cgroup-of PID -- PROGRAM [ARG...]",
  hidden: true,
  options: {},
  args: [],
  subcommands: [
    { name: "ready", options: READY_OPTIONS, args: [] },
    { name: "wait-exec", options: WAIT_EXEC_OPTIONS, args: ["file"] },
    { name: "prepare", options: PREPARE_OPTIONS, args: ["file"] },
    { name: "network-up", options: {}, args: ["file"] },
    { name: "network-down", options: NETWORK_DOWN_OPTIONS, args: [] },
    { name: "pull", options: PULL_OPTIONS, args: ["file"] },
    { name: "complete", options: COMPLETE_OPTIONS, args: [] },
  ],
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === "ready") return ready(rest);
    if (sub === "wait-exec") return waitExec(rest);
    if (sub === "prepare") return prepare(rest);
    if (sub === "pull") return pullCmd(rest, io);
    if (sub === "complete") return completeLine(rest, io, await commands());
    if (sub === "mount-root") return mountRootCmd(rest);
    if (sub === "umount-root") return umountRootCmd(rest);
    if (sub === "network-up") return networkUpCommand(rest, io);
    if (sub === "network-down") return networkDownCommand(rest, io);
    if (sub === "join-exec") return joinExec(rest, io);
    if (sub === "volumes-up") return volumesUp(rest);
    if (sub === "volumes-down") return volumesDown(rest);
    if (sub === "health") return (await import("./health.ts")).healthMain(rest, io.out, io.err);
    throw new UsageError(`Unknown subcommand 'internal ${sub ?? ""}'.`);
  },
  };
}
