/**
 * `podunit kube generate` and `podunit kube play`: a pod spec as a Kubernetes
 * Pod manifest, and a manifest as a pod spec. The translation (src/kube/) is
 * loaded only here: its YAML library would cost every other command time.
 */
import { chmodSync, closeSync, constants, existsSync, fstatSync, linkSync, mkdirSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { formatSpecIssue, NotFoundError, PodunitError, UsageError } from "../errors.ts";
import { startPod } from "../pods/lifecycle.ts";
import { loadSpec, MAX_SPEC_BYTES, specDir } from "../podspec/load.ts";
import { parseSpec } from "../podspec/parse.ts";
import { DIR_OPTION, parseArgs } from "./common/args.ts";
import type { Command, Io } from "./common/command.ts";
import { describeStart, requireRoot } from "./common/verbs.ts";

const GENERATE_OPTIONS = { ...DIR_OPTION, lossy: { value: false }, output: { value: true, short: "o", values: "file" } } as const;
const PLAY_OPTIONS = { ...DIR_OPTION, name: { value: true }, output: { value: true, short: "o", values: "file" }, start: { value: false } } as const;

const USAGE = [
  "podunit kube generate POD|FILE [--dir DIR] [--lossy] [--output FILE]",
  "       podunit kube play FILE.yaml [--name NAME] [--dir DIR] [--output FILE] [--start]",
  "generate writes a v1 Pod for Kubernetes 1.34; play writes the spec of the pod a manifest describes",
  "(a Pod, or the template of a Deployment, StatefulSet or Job) into the spec directory, or FILE.",
].join("\n");

const kube = () => import("../kube/index.ts");

/** Reads a manifest: a regular file of at most MAX_SPEC_BYTES. */
function readManifest(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`Failed to read '${path}': no such file.`);
    throw new PodunitError(`Failed to read '${path}': ${(e as Error).message}`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new PodunitError(`Failed to read '${path}': not a regular file.`);
    const buf = Buffer.alloc(MAX_SPEC_BYTES + 1);
    let got = 0;
    for (let n; got < buf.length && (n = readSync(fd, buf, got, buf.length - got, null)) > 0; ) got += n;
    if (got > MAX_SPEC_BYTES) throw new PodunitError(`Failed to read '${path}': larger than ${MAX_SPEC_BYTES} bytes.`);
    return buf.subarray(0, got).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** Writes `text` to `path` unless something is there already; `mode` 0600 keeps Secret values root's. */
function writeNew(path: string, text: string, mode: number): void {
  const tmp = join(dirname(path), `.${path.slice(path.lastIndexOf("/") + 1)}.podunit-${process.pid}`);
  writeFileSync(tmp, text, { mode, flag: "wx" });
  try {
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new PodunitError(`Failed to write '${path}': it exists already.`, { hint: "Remove it first ('podunit stop' the pod if it runs), or pass --output." });
    throw new PodunitError(`Failed to write '${path}': ${(e as Error).message}`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Writes the files of ConfigMap and Secret volumes: one directory per volume
 * below `root` (NAME.files next to the spec), a Secret's readable by root only.
 * Nothing is replaced; returns what to remove if the spec cannot be written.
 */
function writeFiles(root: string, volumes: { volume: string; dir: string; secret: boolean; files: { path: string; data: Uint8Array; mode: number }[] }[]): string | undefined {
  if (!volumes.length) return undefined;
  if (existsSync(root)) throw new PodunitError(`Failed to write '${root}': it exists already.`, { hint: "Remove it first ('podunit stop' the pod if it runs), or pass --output." });
  try {
    mkdirSync(root, { mode: 0o755 });
    chmodSync(root, 0o755);
    for (const v of volumes) {
      mkdirSync(v.dir, { mode: v.secret ? 0o700 : 0o755 });
      chmodSync(v.dir, v.secret ? 0o700 : 0o755);
      for (const f of v.files) {
        const path = join(v.dir, f.path);
        mkdirSync(dirname(path), { recursive: true, mode: v.secret ? 0o700 : 0o755 });
        writeFileSync(path, f.data, { mode: f.mode, flag: "wx" });
        chmodSync(path, f.mode);
      }
    }
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    // The message names the path only: a Secret's value is never in it.
    throw new PodunitError(`Failed to write the files of the pod's volumes below '${root}': ${(e as NodeJS.ErrnoException).code ?? "error"}.`);
  }
  return root;
}

async function runGenerate(args: string[], io: Io): Promise<number> {
  const { options, positionals } = parseArgs("kube generate", args, GENERATE_OPTIONS);
  if (positionals.length !== 1) throw new UsageError(`'podunit kube generate' takes one pod name or spec file, found ${positionals.length}.`);
  const spec = await loadSpec(positionals[0]!, { env: io.env, ...(typeof options.dir === "string" ? { dir: options.dir } : {}) });
  const k = await kube();
  const g = k.generateManifest(spec, { lossy: options.lossy === true });
  for (const o of g.omitted) io.err(`podunit: left out: ${formatSpecIssue(o)}\n`);
  const text = k.writeYaml([g.manifest]);
  if (typeof options.output === "string") {
    writeFileSync(options.output, text, { mode: 0o644 });
    io.out(`Wrote a Pod manifest of pod '${spec.name}' (Kubernetes ${k.TARGET}) to '${options.output}'.\n`);
  } else io.out(text);
  return 0;
}

async function runPlay(args: string[], io: Io): Promise<number> {
  const { options, positionals } = parseArgs("kube play", args, PLAY_OPTIONS);
  if (positionals.length !== 1) throw new UsageError(`'podunit kube play' takes one manifest file, found ${positionals.length}.`);
  if (options.start) requireRoot("kube play --start");
  const file = resolve(positionals[0]!);
  const text = readManifest(file);
  const k = await kube();
  const dir = typeof options.dir === "string" ? options.dir : undefined;
  const specPath = (name: string) => (typeof options.output === "string" ? resolve(options.output) : join(specDir({ env: io.env, ...(dir !== undefined ? { dir } : {}) }), `${name}.toml`));
  // File volumes go next to the spec: NAME.files/VOLUME/.
  const filesRoot = (name: string) => join(dirname(specPath(name)), `${name}.files`);
  const played = k.playManifest(text, file, { ...(typeof options.name === "string" ? { name: options.name } : {}), filesDir: filesRoot });
  for (const n of played.notes) io.err(`podunit: note: ${formatSpecIssue(n)}\n`);
  const target = specPath(played.name);
  // The spec must be one podunit accepts before it is written (a Secret's values are never in these messages: they were checked above).
  parseSpec(played.toml, target, { nameIsStem: typeof options.output !== "string" });
  if (existsSync(target)) throw new PodunitError(`Failed to write '${target}': it exists already.`, { hint: "Remove it first ('podunit stop' the pod if it runs), or pass --output." });
  const written = writeFiles(filesRoot(played.name), played.files);
  try {
    writeNew(target, played.toml, played.secret ? 0o600 : 0o644);
  } catch (e) {
    if (written) rmSync(written, { recursive: true, force: true });
    throw e;
  }
  for (const v of played.files) io.out(`Wrote ${v.files.length} file${v.files.length === 1 ? "" : "s"} of volume '${v.volume}' to '${v.dir}'${v.secret ? ", readable by its owner only (a Secret's)" : ""}.\n`);
  io.out(`Wrote pod '${played.name}' (from ${played.from}) to '${target}'${played.secret ? ", readable by its owner only (it holds Secret values)" : ""}.\n`);
  if (!options.start) return 0;
  const r = await startPod({ ref: typeof options.output === "string" ? target : played.name, dir }, io.env);
  io.out(describeStart(r));
  return 0;
}

export const kubeCommand: Command = {
  name: "kube",
  summary: "Kubernetes YAML in and out: generate a Pod manifest from a pod, play a manifest as a pod",
  usage: USAGE,
  options: {},
  args: [],
  subcommands: [
    { name: "generate", options: GENERATE_OPTIONS, args: ["pod"] },
    { name: "play", options: PLAY_OPTIONS, args: ["file"] },
  ],
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === "generate") return runGenerate(rest, io);
    if (sub === "play") return runPlay(rest, io);
    throw new UsageError(sub === undefined ? "'podunit kube' needs a subcommand: generate or play." : `Unknown subcommand 'kube ${sub}'.`, "Run 'podunit help kube' for usage.");
  },
};
