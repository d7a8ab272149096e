/**
 * `podunit debug bus`: whether podunit reaches systemd over D-Bus, at which
 * address, and which systemd answers. Units are made only from a pod spec,
 * through the plan and its property table (`podunit start`).
 */
import type { Command } from "./common/command.ts";
import { parseArgs } from "./common/args.ts";
import { UsageError } from "../errors.ts";
import { connectSystemd } from "../systemd/bus.ts";

const USAGE = "podunit debug bus";

export const debug: Command = {
  name: "debug",
  summary: "Diagnose the path to systemd over D-Bus",
  usage: USAGE,
  options: {},
  args: [],
  subcommands: [{ name: "bus", options: {}, args: [] }],
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === "bus") return bus(rest, io);
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
