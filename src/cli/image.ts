import type { Command, Io } from "./common/command.ts";
import { JSON_OPTION, parseArgs } from "./common/args.ts";
import { UsageError } from "../errors.ts";
import { formatBytes, JSON_SCHEMA_VERSION, jsonDocument, table } from "./common/format.ts";
import { openStore, shortId, type ImageStore, type InUse } from "../image/index.ts";
import { imageStoreDir } from "../pods/images.ts";
import { configDir } from "./common/config.ts";
import { PullProgress } from "./common/progress.ts";

const USAGE = [
  "podunit image load PATH [--name REF]",
  "       podunit image pull REF [--platform OS/ARCH[/VARIANT]] [--quiet]",
  "       podunit image list [--json]",
  "       podunit image inspect REF [--json]",
  "       podunit image rm REF... [--force]",
  "       podunit image prune",
  "The store is /var/lib/podunit/images, or $PODUNIT_IMAGE_DIR.",
].join("\n");

const LOAD_OPTIONS = { name: { value: true } } as const;
const RM_OPTIONS = { force: { value: false, short: "f" } } as const;


function store(io: Io): ImageStore {
  return openStore(imageStoreDir(io.env));
}

function one(verb: string, positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`'podunit image ${verb}' takes one ${what}, not ${positionals.length}.`, "Run 'podunit help image' for usage.");
  return positionals[0]!;
}

/** The `image` verb; `inUse(env)` says which pods use an image (by manifest digest), for `rm` and `prune`. */
export function imageCommand(deps: { inUse?: (env: Io["env"]) => InUse } = {}): Command {
  return {
    name: "image",
    summary: "Manage the local image store: load, pull, list, inspect, rm, prune",
    usage: USAGE,
    options: {},
    args: [],
    subcommands: [
      { name: "load", options: LOAD_OPTIONS, args: ["file"] },
      { name: "list", options: JSON_OPTION, args: [] },
      { name: "inspect", options: JSON_OPTION, args: ["image"] },
      { name: "rm", options: RM_OPTIONS, args: ["image..."] },
      { name: "prune", options: {}, args: [] },
    ],
    async run(args, io) {
      const [sub, ...rest] = args;
      const verb = `image ${sub ?? ""}`.trim();
      switch (sub) {
        case "load": {
          const { options, positionals } = parseArgs(verb, rest, LOAD_OPTIONS);
          const path = one("load", positionals, "PATH (an OCI layout directory, an OCI archive or a 'docker save' archive)");
          const r = await store(io).load(path, { name: options.name as string | undefined });
          for (const x of r.skippedXattrs) io.err(`Warning: extended attribute not applied: ${x}\n`);
          for (const i of r.images) {
            io.out(`Loaded image ${i.names.length ? i.names.join(", ") : "<none>"} (${shortId(i.manifestDigest)}).\n`);
          }
          io.out(`${r.newLayers} new layer${r.newLayers === 1 ? "" : "s"} unpacked.\n`);
          return 0;
        }
        case "pull": {
          const { options, positionals } = parseArgs(verb, rest, { platform: { value: true }, quiet: { value: false, short: "q" } });
          const ref = one("pull", positionals, "REF");
          const progress = options.quiet ? undefined : new PullProgress((t) => io.out(t), io.terminal === true);
          const { pull } = await import("../image/fetch.ts");
          const r = await pull(store(io), ref, { configDir: configDir(io), platform: options.platform as string | undefined, onEvent: progress && ((e) => progress.on(e)) });
          if (options.quiet) io.out(`${shortId(r.manifestDigest)}\n`);
          else io.out(`Pulled ${r.name ?? r.ref} (${shortId(r.manifestDigest)}): ${r.newLayers} of ${r.layers} layer${r.layers === 1 ? "" : "s"} new.\n`);
          return 0;
        }
        case "list":
        case "ls": {
          const { options, positionals } = parseArgs(verb, rest, JSON_OPTION);
          if (positionals.length) throw new UsageError("'podunit image list' takes no arguments.");
          const all = store(io).list();
          if (options.json) {
            io.out(jsonDocument({ images: all }) + "\n");
            return 0;
          }
          if (!all.length) {
            io.out("No images.\n");
            return 0;
          }
          const rows = all.flatMap((i) =>
            (i.names.length ? i.names : ["<none>"]).map((n) => [n, shortId(i.manifestDigest), i.created?.replace(/\.\d+/, "").replace("T", " ") ?? "-", formatBytes(BigInt(i.size))]),
          );
          io.out(table([["NAME", "ID", "CREATED", "SIZE"], ...rows]));
          return 0;
        }
        case "inspect": {
          // Always JSON; --json is accepted so that every reading verb takes it.
          const { positionals } = parseArgs(verb, rest, JSON_OPTION);
          const img = store(io).resolve(one("inspect", positionals, "REF"));
          const size = img.manifest.config.size + img.layers.reduce((s, l) => s + l.size, 0);
          io.out(JSON.stringify({ version: JSON_SCHEMA_VERSION, ...img, size }, null, 2) + "\n");
          return 0;
        }
        case "rm": {
          const { options, positionals } = parseArgs(verb, rest, RM_OPTIONS);
          if (!positionals.length) throw new UsageError("'podunit image rm' needs at least one REF.");
          const s = store(io);
          for (const ref of positionals) {
            const r = await s.remove(ref, { force: options.force === true, inUse: deps.inUse?.(io.env) });
            for (const n of r.untagged) io.out(`Untagged ${n}.\n`);
            if (r.removed) io.out(`Removed image ${shortId(r.manifestDigest)} (${r.blobs} blobs, ${r.layers} layers freed).\n`);
            else if (r.inUseBy.length) {
              io.out(`Image ${shortId(r.manifestDigest)} is in use by ${r.inUseBy.join(", ")}; kept without a name until 'podunit image prune' finds it unused.\n`);
            }
          }
          return 0;
        }
        case "prune": {
          const { positionals } = parseArgs(verb, rest, {});
          if (positionals.length) throw new UsageError("'podunit image prune' takes no arguments.");
          const r = await store(io).prune({ inUse: deps.inUse?.(io.env) });
          io.out(`Removed ${r.images.length} unnamed image${r.images.length === 1 ? "" : "s"}, ${r.blobs} blob${r.blobs === 1 ? "" : "s"} (${formatBytes(BigInt(r.bytes))}) and ${r.layers} unpacked layer${r.layers === 1 ? "" : "s"}.\n`);
          return 0;
        }
        case undefined:
          throw new UsageError("'podunit image' needs a subcommand: load, pull, list, inspect, rm or prune.", "Run 'podunit help image' for usage.");
        default:
          throw new UsageError(`Unknown subcommand 'image ${sub}'.`, "The subcommands are load, pull, list, inspect, rm and prune; run 'podunit help image'.");
      }
    },
  };
}

export const image: Command = imageCommand();
