/** A plan for people (`podunit plan`) and as JSON (`podunit plan --json`, golden files). */
import { renderProperty } from "../systemd/properties.ts";
import type { Plan, PlannedFile, PlannedImage, PlannedUnit } from "./types.ts";

/**
 * The plan as JSON text: bigints as decimal strings, two-space indent, trailing
 * newline. A file whose content is JSON as podunit formats it (config.json) is
 * shown as `json`, the parsed object, in place of `content`: an OCI config escaped
 * into one string is unreadable in a plan or its golden file. Nothing is lost:
 * `JSON.stringify(json, null, 2) + "\n"` gives back the file's exact bytes, and a
 * file that would not round-trip keeps its `content` string.
 */
export function planToJson(plan: Plan): string {
  const shown = { ...plan, files: plan.files.map(fileForJson) };
  return `${JSON.stringify(shown, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`;
}

function fileForJson(f: PlannedFile): PlannedFile | Omit<PlannedFile, "content"> & { json: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(f.content);
  } catch {
    return f;
  }
  if (`${JSON.stringify(json, null, 2)}\n` !== f.content) return f;
  const { content: _content, ...rest } = f;
  return { ...rest, json };
}

function unitBlock(u: Pick<PlannedUnit, "name" | "properties">, extra: string[] = []): string[] {
  return [`  ${u.name}`, ...u.properties.flatMap(renderProperty).map((l) => `    ${l}`), ...extra.map((l) => `    ${l}`)];
}

/** The plan as readable text: start order, every unit with its settings in unit-file form, pins, files. */
export function formatPlan(plan: Plan): string {
  const lines: string[] = [
    `Pod '${plan.pod}' from ${plan.file}`,
    `Sandbox: ${plan.backend}; systemd ${plan.systemdVersion} (needs ${plan.requiresSystemd}), cgroups ${plan.cgroupMode}`,
    `Run directory: ${plan.runDir}`,
    "",
    "Start order:",
    ...plan.stages.map((s, i) => `  ${i + 1}. ${s.units.join("  ")}${s.kind === "init" ? "  (init, runs to completion)" : ""}`),
    "",
    "Units:",
  ];
  for (const u of [plan.slice, plan.sandbox, ...plan.members]) lines.push(...unitBlock(u));
  const install = plan.target.wantedBy.length ? [`WantedBy=${plan.target.wantedBy.join(" ")}  (unit files only)`] : [];
  lines.push(...unitBlock(plan.target, install));
  lines.push("", "Namespace pins:");
  if (plan.pins.length) lines.push(...plan.pins.map((p) => `  ${p.ns.padEnd(4)} ${p.path}`));
  else lines.push("  (none: every namespace is the host's or the member's own)");
  if (plan.userns) lines.push("", `User namespace: ids 0-${plan.userns.size - 1} are host ids ${plan.userns.start}-${plan.userns.start + plan.userns.size - 1}`);
  if (plan.images?.length) lines.push("", "Image members:", ...plan.images.flatMap(imageBlock));
  lines.push("", "Files written before start:");
  if (plan.files.length) {
    lines.push(...plan.files.map((f) => `  ${f.path}  (mode ${f.mode.toString(8).padStart(4, "0")}, ${Buffer.byteLength(f.content)} bytes)`));
  } else lines.push("  (none)");
  return `${lines.join("\n")}\n`;
}

/** An image member's root and its resolved values, each with where it came from (spec, image or default). */
function imageBlock(i: PlannedImage): string[] {
  const c = i.config;
  const u = c.user.value;
  const user = `${u.uid}:${u.gid}${u.written !== undefined ? ` (${u.written})` : ""}`;
  const root = i.upper !== undefined ? `overlay of ${i.lowerdirs.length} layer(s), writable layer ${i.upper}` : `read-only, ${i.lowerdirs.length} layer(s)`;
  return [
    `  ${i.member}: image '${i.image}' = ${i.manifestDigest}`,
    `    root:        ${i.target}  (${root})`,
    `    command:     ${JSON.stringify(c.command.value)}  (${c.command.from})`,
    `    workdir:     ${c.workdir.value}  (${c.workdir.from})`,
    `    user:        ${user}  (${c.user.from})`,
    `    stop signal: ${c.stopSignal.value}  (${c.stopSignal.from})`,
    ...c.env.map((e, n) => `    ${n === 0 ? "env:        " : "            "} ${e.name}=${e.value}  (${e.from})`),
  ];
}
