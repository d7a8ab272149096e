import type { Command } from "./common/command.ts";
import { JSON_OPTION, parseArgs } from "./common/args.ts";
import { jsonDocument } from "./common/format.ts";
import { VERSION } from "./common/about.ts";

export { VERSION };

// Set by `bun build --define` (the Makefile); absent when run from the sources.
declare const PODUNIT_REVISION: string | undefined;
declare const PODUNIT_BUILD_DATE: string | undefined;

/** What `podunit version` tells: the build's values, and the Bun it runs on. */
export function versionInfo(): { podunit: string; revision: string; bun: string; built: string } {
  return {
    podunit: VERSION,
    revision: typeof PODUNIT_REVISION === "string" ? PODUNIT_REVISION : "unknown",
    bun: Bun.version,
    built: typeof PODUNIT_BUILD_DATE === "string" ? PODUNIT_BUILD_DATE : "unknown",
  };
}

export const version: Command = {
  name: "version",
  summary: "Show podunit's version, git revision, Bun version and build date",
  usage: "podunit version [--json]",
  options: JSON_OPTION,
  args: [],
  async run(args, io) {
    const { options } = parseArgs("version", args, JSON_OPTION);
    const v = versionInfo();
    if (options.json) io.out(jsonDocument(v) + "\n");
    else io.out(`podunit ${v.podunit} (revision ${v.revision}, built ${v.built} with Bun ${v.bun})\n`);
    return 0;
  },
};
