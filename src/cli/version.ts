import pkg from "../../package.json" with { type: "json" };
import type { Command } from "./common/command.ts";
import { parseArgs } from "./common/args.ts";

/** podunit's version, taken from package.json at build time. */
export const VERSION: string = pkg.version;

export const version: Command = {
  name: "version",
  summary: "Show podunit's version",
  usage: "podunit version [--json]",
  async run(args, io) {
    const { options } = parseArgs("version", args, { json: { value: false } });
    if (options.json) io.out(JSON.stringify({ version: VERSION }) + "\n");
    else io.out(`podunit ${VERSION}\n`);
    return 0;
  },
};
