/**
 * What an installed podunit consists of, below a prefix: the binary, the slice
 * all pods live under, the generator link, shell completions, man pages, the
 * copyright notice, and the spec directory. `podunit system install` writes it
 * and `make deb` packages the same tree, so the two cannot drift apart.
 */
import { join, relative } from "node:path";
import slice from "../../../units/podunit.slice" with { type: "text" };
import reconcile from "../../../units/podunit-network-reconcile.service" with { type: "text" };
import copyright from "../../../contrib/debian/copyright" with { type: "text" };
import type { InstallEntry } from "../../boot/selfinstall.ts";
import { GENERATOR_NAME } from "../../boot/generatorname.ts";
import { DEFAULT_SPEC_DIR } from "../../podspec/load.ts";
import type { Command } from "./command.ts";
import { completionScript } from "./completion-scripts.ts";
import { manPages } from "./manpages.ts";

/** Puts back the firewall rules of bridged pods at boot and after nftables reloads (docs/networking.md). */
const RECONCILE_UNIT = "podunit-network-reconcile.service";

/** Paths below a prefix; zsh looks in vendor-completions for the distribution's files and site-functions for local ones. */
export function productPaths(prefix: string) {
  const share = join(prefix, "share");
  return {
    binary: join(prefix, "bin/podunit"),
    slice: join(prefix, "lib/systemd/system/podunit.slice"),
    reconcile: join(prefix, "lib/systemd/system", RECONCILE_UNIT),
    generator: join(prefix, "lib/systemd/system-generators", GENERATOR_NAME),
    bash: join(share, "bash-completion/completions/podunit"),
    zsh: join(share, prefix === "/usr" ? "zsh/vendor-completions/_podunit" : "zsh/site-functions/_podunit"),
    fish: join(share, "fish/vendor_completions.d/podunit.fish"),
    man: join(share, "man"),
    doc: join(share, "doc/podunit"),
  };
}

/** Gzip as Debian wants it for man pages: the most compression, no name or time in the header. */
function gz(text: string): Uint8Array {
  return Bun.gzipSync(Buffer.from(text), { level: 9 });
}

/** The entries for an install below `prefix`; `binary` is the executable to copy. */
export function productEntries(opts: { prefix: string; binary: string; commands: Command[]; version: string }): InstallEntry[] {
  const p = productPaths(opts.prefix);
  const pages = manPages(opts.commands, opts.version);
  return [
    { kind: "copy", path: p.binary, from: opts.binary, mode: 0o755 },
    { kind: "file", path: p.slice, content: slice, mode: 0o644 },
    { kind: "file", path: p.reconcile, content: reconcile.replaceAll("/usr/local/bin/podunit", p.binary), mode: 0o644 },
    // Enabled where it is installed, as its [Install] section says: at boot, and with nftables.service.
    ...["multi-user.target.wants", "nftables.service.wants"].map((w): InstallEntry => ({ kind: "link", path: join(p.reconcile, "..", w, RECONCILE_UNIT), target: `../${RECONCILE_UNIT}` })),
    // Relative, so that the link holds below any --root and in the package.
    { kind: "link", path: p.generator, target: relative(join(p.generator, ".."), p.binary) },
    { kind: "file", path: p.bash, content: completionScript("bash"), mode: 0o644 },
    { kind: "file", path: p.zsh, content: completionScript("zsh"), mode: 0o644 },
    { kind: "file", path: p.fish, content: completionScript("fish"), mode: 0o644 },
    ...pages.map((m): InstallEntry => ({ kind: "file", path: join(p.man, `man${m.section}`, `${m.name}.gz`), content: gz(m.text), mode: 0o644 })),
    { kind: "file", path: join(p.doc, "copyright"), content: copyright, mode: 0o644 },
    { kind: "dir", path: p.doc, mode: 0o755 },
    { kind: "dir", path: DEFAULT_SPEC_DIR, mode: 0o755, keep: true },
  ];
}
