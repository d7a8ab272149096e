/**
 * `podunit system install|uninstall`: the binary puts itself in place (it is the
 * whole product: units, completions and man pages are built into it), then asks
 * systemd to reload so that it sees the slice and runs the generator. Under
 * `--root` nothing is reloaded: the tree is for another system or a package.
 */
import type { Command, Io } from "./common/command.ts";
import { parseArgs } from "./common/args.ts";
import { PodunitError, UsageError, BusUnreachableError } from "../errors.ts";
import { applyInstall, removeInstall } from "../boot/selfinstall.ts";
import { withSystemd } from "../pods/wiring.ts";
import { refreshEnabledPods } from "../pods/refresh.ts";
import { productEntries } from "./common/product.ts";
import { requireRoot } from "./common/verbs.ts";

const OPTIONS = { prefix: { value: true, values: "dir" }, root: { value: true, values: "dir" } } as const;

const USAGE = `podunit system install [--prefix DIR] [--root DIR]
       podunit system uninstall [--prefix DIR] [--root DIR]
       podunit system refresh

  --prefix DIR   where podunit goes: DIR/bin, DIR/lib/systemd, DIR/share (default /usr/local)
  --root DIR     write below DIR instead of / (for packaging or another system); no daemon-reload

Installs the running binary as PREFIX/bin/podunit, podunit.slice, the generator link
PREFIX/lib/systemd/system-generators/podunit-generator, completions for bash, zsh and
fish, the man pages podunit(1) and podunit-spec(5), and /etc/podunit/pods. Running it
again changes only what differs. 'uninstall' removes those, and leaves pod specs,
images and volumes alone.

'refresh' writes again the unit files of the pods enabled in /etc/systemd/system
('podunit enable') for the podunit installed now, from the spec, backend and images
they were enabled with, where they differ; an upgrade that plans pods differently
would otherwise keep them from starting at the next boot. 'install' (without
--root) and the Debian package do it on their own. A running pod goes on with the
units it started with until its next start.`;

async function reload(io: Io): Promise<void> {
  try {
    await withSystemd(io.env, (sd) => sd.reload());
    io.out("systemd reloaded (daemon-reload).\n");
  } catch (err) {
    if (!(err instanceof BusUnreachableError)) throw err;
    io.out("systemd was not reached, so it was not reloaded; run 'systemctl daemon-reload' once it runs.\n");
  }
}

/**
 * Writes the enabled pods' unit files again (see src/pods/refresh.ts) and says what it
 * did for each; 1 when one could not be written. systemd not running is no failure:
 * there is nothing to start then, and the next run after boot does it.
 */
async function refresh(io: Io, podunit?: string): Promise<number> {
  let r;
  try {
    r = await refreshEnabledPods(io.env, podunit ? { podunit } : {});
  } catch (err) {
    if (!(err instanceof BusUnreachableError)) throw err;
    io.out("systemd was not reached, so the unit files of enabled pods were not checked; run 'podunit system refresh' once it runs.\n");
    return 0;
  }
  for (const p of r.pods) {
    if (p.error) {
      io.err(`podunit: pod '${p.pod}': its unit files were left as they were: ${p.error.message}\n`);
      const hint = p.error instanceof PodunitError ? p.error.hint : undefined;
      if (hint) io.err(`podunit: ${hint}\n`);
      io.err(`podunit: Fix that, then run 'podunit enable ${p.pod}' (or 'podunit disable ${p.pod}'); the unit files it has now may not start it.\n`);
    } else if (p.written.length || p.removed.length) {
      io.out(`Pod '${p.pod}': unit files written again for this podunit (${p.written.length} written, ${p.removed.length} removed); they take effect at its next start.\n`);
    } else {
      io.out(`Pod '${p.pod}': unit files up to date.\n`);
    }
  }
  if (r.reloaded) io.out("systemd reloaded (daemon-reload).\n");
  return r.pods.some((p) => p.error) ? 1 : 0;
}

/** The `system` verb over the command table (its man pages and completions describe the table). */
export function systemCommand(commands: () => Command[], version: string): Command {
  return {
    name: "system",
    summary: "Install podunit on this system (binary, units, generator, completions, man pages), remove it, or refresh enabled pods' unit files",
    usage: USAGE,
    options: {},
    args: [],
    subcommands: [
      { name: "install", options: OPTIONS, args: [] },
      { name: "uninstall", options: OPTIONS, args: [] },
      { name: "refresh", options: {}, args: [] },
    ],
    async run(args, io) {
      const [sub, ...rest] = args;
      if (sub === "refresh") {
        const { positionals } = parseArgs("system refresh", rest, {});
        if (positionals.length) throw new UsageError(`'podunit system refresh' takes no arguments, found '${positionals[0]}'.`);
        requireRoot("system refresh");
        return refresh(io);
      }
      if (sub !== "install" && sub !== "uninstall") {
        throw new UsageError(
          sub === undefined ? "'podunit system' needs a subcommand: install, uninstall or refresh." : `Unknown subcommand 'system ${sub}'.`,
          "Run 'podunit help system' for usage.",
        );
      }
      const { options, positionals } = parseArgs(`system ${sub}`, rest, OPTIONS);
      if (positionals.length) throw new UsageError(`'podunit system ${sub}' takes no arguments, found '${positionals[0]}'.`);
      const prefix = (options.prefix as string | undefined) ?? "/usr/local";
      const root = (options.root as string | undefined) ?? "/";
      if (!prefix.startsWith("/")) throw new UsageError(`Option '--prefix' takes an absolute path, found '${prefix}'.`);
      if (root === "/") requireRoot(`system ${sub}`);
      // A compiled podunit runs its bundle from Bun's embedded file system; from the sources, execPath is bun itself.
      if (sub === "install" && !Bun.main.startsWith("/$bunfs/")) {
        throw new PodunitError("Failed to install podunit: this is not the compiled podunit binary (it runs from the sources).", {
          hint: "Build it with 'make build' and run 'dist/podunit system install'.",
        });
      }
      const entries = productEntries({ prefix, binary: process.execPath, commands: commands(), version });
      const where = root === "/" ? "" : ` below ${root}`;
      let code = 0;
      if (sub === "install") {
        const r = applyInstall(root, entries);
        io.out(r.changed.length ? `Installed podunit in ${prefix}${where}: ${r.changed.length} of ${entries.length} entries written.\n` : `podunit in ${prefix}${where} is up to date; nothing changed.\n`);
        for (const p of r.changed) io.out(`  ${p}\n`);
        if (root === "/") code = await refresh(io, `${prefix.replace(/\/+$/, "")}/bin/podunit`);
      } else {
        const removed = removeInstall(root, entries);
        io.out(removed.length ? `Removed podunit from ${prefix}${where}:\n${removed.map((p) => `  ${p}\n`).join("")}` : `podunit was not installed in ${prefix}${where}; nothing removed.\n`);
        io.out("Left in place: pod specs in /etc/podunit/pods, images and volumes in /var/lib/podunit, and pods that run.\n");
      }
      if (root === "/") await reload(io);
      return code;
    },
  };
}
