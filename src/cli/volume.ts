/** `podunit volume list|inspect|rm`: the persistent volumes of pods (see docs/volumes.md). */
import type { Command } from "./common/command.ts";
import { JSON_OPTION, parseArgs } from "./common/args.ts";
import { UsageError } from "../errors.ts";
import { formatBytes, JSON_SCHEMA_VERSION, jsonDocument, table } from "./common/format.ts";
import { volumeInspect, volumeList, volumeRemove, type VolumeOnDisk } from "../pods/volumes.ts";
import { requireRoot } from "./common/verbs.ts";

const USAGE = [
  "podunit volume list [--json]",
  "       podunit volume inspect POD/NAME [--json]",
  "       podunit volume rm POD/NAME",
  "Persistent volumes live in /var/lib/podunit/volumes/POD/NAME.",
  "'podunit stop' keeps them; 'volume rm' removes one, not while its pod runs.",
].join("\n");

const json = (v: VolumeOnDisk) => ({ pod: v.pod, name: v.name, path: v.path, owner: `${v.uid}:${v.gid}`, mode: v.mode.toString(8).padStart(4, "0"), bytes: v.bytes });

function one(verb: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`'podunit volume ${verb}' takes one volume, POD/NAME, not ${positionals.length}.`, "Run 'podunit help volume' for usage.");
  return positionals[0]!;
}

export const volume: Command = {
  name: "volume",
  summary: "Manage the persistent volumes of pods: list, inspect, rm",
  usage: USAGE,
  options: {},
  args: [],
  subcommands: [
    { name: "list", options: JSON_OPTION, args: [] },
    { name: "inspect", options: JSON_OPTION, args: ["volume"] },
    { name: "rm", options: {}, args: ["volume"] },
  ],
  async run(args, io) {
    const [sub, ...rest] = args;
    const verb = `volume ${sub ?? ""}`.trim();
    switch (sub) {
      case "list":
      case "ls": {
        const { options, positionals } = parseArgs(verb, rest, JSON_OPTION);
        if (positionals.length) throw new UsageError("'podunit volume list' takes no arguments.");
        const all = volumeList();
        if (options.json) {
          io.out(jsonDocument({ volumes: all.map(json) }) + "\n");
          return 0;
        }
        if (!all.length) {
          io.out("No persistent volumes.\n");
          return 0;
        }
        io.out(table([["VOLUME", "OWNER", "MODE", "SIZE", "PATH"], ...all.map((v) => [`${v.pod}/${v.name}`, `${v.uid}:${v.gid}`, v.mode.toString(8).padStart(4, "0"), formatBytes(BigInt(v.bytes)), v.path])]));
        return 0;
      }
      case "inspect": {
        // Always JSON; --json is accepted so that every reading verb takes it.
        const { positionals } = parseArgs(verb, rest, JSON_OPTION);
        io.out(JSON.stringify({ version: JSON_SCHEMA_VERSION, ...json(volumeInspect(one("inspect", positionals))) }, null, 2) + "\n");
        return 0;
      }
      case "rm": {
        const { positionals } = parseArgs(verb, rest, {});
        requireRoot("volume rm");
        const v = await volumeRemove(one("rm", positionals), io.env);
        io.out(`Removed volume ${v.pod}/${v.name} (${formatBytes(BigInt(v.bytes))}).\n`);
        return 0;
      }
      case undefined:
        throw new UsageError("'podunit volume' needs a subcommand: list, inspect or rm.", "Run 'podunit help volume' for usage.");
      default:
        throw new UsageError(`Unknown subcommand 'volume ${sub}'.`, "The subcommands are list, inspect and rm; run 'podunit help volume'.");
    }
  },
};
