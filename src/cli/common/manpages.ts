/**
 * The man pages, made from what `--help` says and from docs/: podunit(1) from
 * the command table (every verb: its summary, usage, options and subcommands)
 * with docs/exit-codes.md, and podunit-spec(5) from docs/pod-spec.md. The
 * documents are built into the binary, so the pages always match it.
 */
import podSpecMd from "../../../docs/pod-spec.md" with { type: "text" };
import exitCodesMd from "../../../docs/exit-codes.md" with { type: "text" };
import { SPEC_LOOKUP, TAGLINE } from "./about.ts";
import type { OptionSpec } from "./args.ts";
import type { Command } from "./command.ts";
import { escapeRoff, literal, markdownToRoff, roffLine } from "./roff.ts";

export interface ManPage {
  /** File name without compression: `podunit.1`. */
  name: string;
  section: 1 | 5;
  text: string;
}

const WIDTH = 72;

/**
 * A line of `--help` text that fits the page: usage lines break before `[`
 * groups, option descriptions at spaces, continuation lines indented under
 * where the text began.
 */
function wrapLine(line: string): string[] {
  if (line.length <= WIDTH) return [line];
  const usage = /^\s*podunit \S+ ?/.exec(line);
  const indent = " ".repeat(usage ? usage[0].length : (/^\s*\S.*?\s{2,}/.exec(line)?.[0].length ?? 4));
  const words = usage ? line.split(/ (?=\[|-)/) : line.split(" ");
  const out: string[] = [];
  let cur = "";
  for (const w of words) {
    if (cur.trim() && (cur + " " + w).length > WIDTH) {
      out.push(cur);
      cur = indent + w.trimStart();
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * The prose of `--help` after the synopsis, filled by roff: an option line
 * ("  -f, --follow   text") becomes a tagged paragraph, other lines join into
 * paragraphs.
 */
function helpText(blocks: string[]): string[] {
  const out: string[] = [];
  for (const block of blocks) {
    let para: string[] = [];
    const flush = () => {
      if (para.length) out.push(".PP", roffLine(escapeRoff(para.join(" "))));
      para = [];
    };
    for (const line of block.split("\n")) {
      const opt = /^\s+(-\S.*?)(?:\s{2,}|\s(?=[a-z]))(.*)$/.exec(line);
      if (opt) {
        flush();
        out.push(".TP", literal(opt[1]!), roffLine(escapeRoff(opt[2]!)));
      } else if (/^\s{4,}\S/.test(line) && out.at(-3) === ".TP" && para.length === 0) {
        out.push(roffLine(escapeRoff(line.trim())));
      } else para.push(line.trim());
    }
    flush();
  }
  return out;
}

function optionList(options: OptionSpec): string {
  return Object.entries(options)
    .map(([name, o]) => `${o.short ? `${literal(`-${o.short}`)}, ` : ""}${literal(`--${name}`)}${o.value ? ` \\fI${name.toUpperCase()}\\fR` : ""}`)
    .join(", ");
}

function verbSection(c: Command): string[] {
  const out = [`.SS ${escapeRoff(c.name)}`, roffLine(`${escapeRoff(c.summary)}.`)];
  if (c.hidden) out.push(".PP", "Not meant to be run by hand: podunit's own units and completion scripts run it.");
  const [synopsis, ...rest] = c.usage.split("\n\n");
  out.push(".PP", ".nf", ...synopsis!.split("\n").map((l) => l.replace(/^\s+(?=podunit )/, "")).flatMap(wrapLine).map((l) => roffLine(escapeRoff(l))), ".fi", ...helpText(rest));
  if (Object.keys(c.options).length) out.push(".PP", `Options: ${optionList(c.options)}.`);
  for (const s of c.subcommands ?? []) {
    if (Object.keys(s.options).length) out.push(".PP", `Options of ${literal(`${c.name} ${s.name}`)}: ${optionList(s.options)}.`);
  }
  return out;
}

/** The body of a document without its title line. */
function body(md: string): string {
  return md.replace(/^# .*\n/, "");
}

/** podunit(1): every verb of the table, in its order. */
export function podunitPage(commands: Command[], version: string): ManPage {
  const text = [
    `.TH PODUNIT 1 "" "podunit ${escapeRoff(version)}" "podunit manual"`,
    ".SH NAME",
    `podunit \\- ${escapeRoff(TAGLINE)}`,
    ".SH SYNOPSIS",
    `${literal("podunit")} \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR]`,
    ".SH DESCRIPTION",
    "podunit runs pods, groups of processes and containers that share a network, IPC and UTS namespace, inside systemd.",
    "It reads a pod spec in TOML (see \\fBpodunit-spec\\fR(5)), turns it into a slice per pod, a sandbox unit that holds the shared namespaces and a supervised service per member, hands them to systemd and exits.",
    ".PP",
    roffLine(escapeRoff(SPEC_LOOKUP)),
    `Every command takes ${literal("--help")}; ${literal("podunit help COMMAND")} prints the same.`,
    ".SH COMMANDS",
    ...commands.flatMap(verbSection),
    ".SH EXIT STATUS",
    markdownToRoff(body(exitCodesMd)).trimEnd(),
    ".SH ENVIRONMENT",
    ".TP", literal("PODUNIT_SPEC_DIR"), "Where pod specs are found by name (default /etc/podunit/pods); --dir overrides it.",
    ".TP", literal("PODUNIT_IMAGE_DIR"), "The image store (default /var/lib/podunit/images).",
    ".TP", literal("PODUNIT_TRACE"), "Set to 1 to print each step of a command with its time.",
    ".TP", literal("PODUNIT_DEBUG"), "Set to 1 to print the stack of an internal error.",
    ".SH FILES",
    ".TP", literal("/etc/podunit/pods/"), "Pod specs; those with an [install] section start at boot through podunit-generator.",
    ".TP", literal("/var/lib/podunit/"), "Images and volumes.",
    ".TP", literal("/run/podunit/"), "Run files of running pods.",
    ".SH SEE ALSO",
    "\\fBpodunit-spec\\fR(5), \\fBsystemctl\\fR(1), \\fBjournalctl\\fR(1), \\fBsystemd.unit\\fR(5), \\fBsystemd.generator\\fR(7)",
    "",
  ].join("\n");
  return { name: "podunit.1", section: 1, text };
}

/** podunit-spec(5): docs/pod-spec.md. */
export function specPage(version: string): ManPage {
  const text = [
    `.TH PODUNIT-SPEC 5 "" "podunit ${escapeRoff(version)}" "podunit manual"`,
    ".SH NAME",
    "podunit-spec \\- the pod spec: one TOML file that describes a pod",
    ".SH DESCRIPTION",
    markdownToRoff(body(podSpecMd)).trimEnd(),
    ".SH SEE ALSO",
    "\\fBpodunit\\fR(1), \\fBsystemd.resource-control\\fR(5), \\fBsystemd.exec\\fR(5)",
    "",
  ].join("\n");
  return { name: "podunit-spec.5", section: 5, text };
}

/** Both pages. */
export function manPages(commands: Command[], version: string): ManPage[] {
  return [podunitPage(commands, version), specPage(version)];
}
