/**
 * What must hold for every fuzz case: the spec is refused with a SpecError, or it
 * validates and then plans (or is refused with a PodunitError) on four hosts;
 * every plan keeps its unit names, cgroups, container ids and paths inside the pod's
 * namespace, runs no shell of its own, and renders unit files that read back as
 * the same properties it would send over D-Bus. Plain functions (no test
 * framework), so they run in a worker.
 */
import { PodunitError, SpecError } from "../../../src/errors.ts";
import { plan } from "../../../src/plan/plan.ts";
import type { Plan } from "../../../src/plan/types.ts";
import { decodeSpec } from "../../../src/podspec/load.ts";
import { parseSpec } from "../../../src/podspec/parse.ts";
import type { PodSpec } from "../../../src/podspec/types.ts";
import { PROPERTIES, type PropertyKey, toDbus } from "../../../src/systemd/properties.ts";
import { render } from "../../../src/plan/unitfiles.ts";
import { escapeUnitName } from "../../../src/systemd/unitname.ts";
import { HOST, HOST_CRUN, HOST_NO_RUNC, TEST_IMAGES } from "../plan-helpers.ts";
import { readProperty, readUnitFile } from "../unitfile-reader.ts";
import type { Case } from "./gen.ts";

export const SPEC_FILE = "/etc/podunit/pods/fuzz.toml";

export type Outcome = { outcome: "invalid"; issues: number } | { outcome: "planned"; plans: number; refused: number; units: number };

/** Runs one case; returns what happened, or throws an Error saying which rule it broke. */
export function runCase(c: Case): Outcome {
  let spec: PodSpec;
  try {
    const text = typeof c.input === "string" ? c.input : decodeSpec(c.input, SPEC_FILE);
    spec = parseSpec(text, SPEC_FILE, { defaultName: "fuzz" });
  } catch (e) {
    if (!(e instanceof SpecError)) throw new Error(`the spec gave ${describe(e)}, not a SpecError`);
    checkIssues(e);
    return { outcome: "invalid", issues: e.issues.length };
  }
  let plans = 0;
  let refused = 0;
  let units = 0;
  for (const [host, backend] of [[HOST, undefined], [HOST, "native"], [HOST_NO_RUNC, undefined], [HOST_CRUN, undefined]] as const) {
    let p: Plan;
    try {
      p = plan(backend ? { ...spec, sandbox: backend } : spec, host, { images: TEST_IMAGES, userns: { start: 0x70000000, size: 65536 } });
    } catch (e) {
      if (!(e instanceof PodunitError)) throw new Error(`plan() gave ${describe(e)}, not a PodunitError`);
      refused++;
      continue;
    }
    const broken = checkPlan(p, spec);
    if (broken.length) throw new Error(`the plan broke its pod's namespace:\n  ${broken.slice(0, 10).join("\n  ")}`);
    const disagree = checkRender(p);
    if (disagree.length) throw new Error(`unit files and D-Bus disagree:\n  ${disagree.slice(0, 10).join("\n  ")}`);
    plans++;
    units += 1 + 1 + p.members.length;
  }
  return { outcome: "planned", plans, refused, units };
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.constructor.name}: ${e.message.slice(0, 300)}\n${e.stack?.split("\n").slice(1, 6).join("\n")}` : String(e);
}

/** Every issue is a short, positioned, one-line-per-issue message. */
function checkIssues(e: SpecError): void {
  if (e.issues.length === 0) throw new Error("a SpecError without issues");
  for (const i of e.issues) {
    if (typeof i.message !== "string" || i.message === "") throw new Error("an issue without a message");
    if (i.message.length > 1000) throw new Error(`an issue message of ${i.message.length} characters: ${i.message.slice(0, 200)}...`);
    if (i.line !== undefined && !(i.line >= 1)) throw new Error(`an issue at line ${i.line}`);
    if (i.column !== undefined && !(i.column >= 1)) throw new Error(`an issue at column ${i.column}`);
  }
  if (e.issues.length > 101) throw new Error(`${e.issues.length} issues listed (at most 100 and a summary)`);
}

const UNIT_NAME = /^[A-Za-z0-9:_.\\-]+$/;

/** Names, references, cgroups, ids and paths of a plan stay inside its pod's namespace. */
export function checkPlan(p: Plan, spec: PodSpec): string[] {
  const out: string[] = [];
  const pod = spec.name;
  const esc = escapeUnitName(pod);
  const prefix = `podunit-${esc}-`;
  const runDir = `${HOST.runDir}/${pod}`;
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(pod) || pod.length > 63) out.push(`pod name '${pod}' is not a DNS label`);
  if (p.runDir !== runDir) out.push(`run directory '${p.runDir}'`);
  const units = [p.slice, p.sandbox, ...p.members, ...(p.health ? [p.health.service] : [])];
  const names = [...units.map((u) => u.name), p.target.name, ...(p.health ? [p.health.timer.name] : [])];
  if (new Set(names).size !== names.length) out.push(`unit names repeat: ${names.join(" ")}`);
  for (const n of names) {
    const own =
      n === `podunit-${esc}.slice` || n === `podunit-${esc}.target` || n === `podunit-${esc}-health-check.timer` || (n.startsWith(prefix) && n.endsWith(".service"));
    if (!own) out.push(`unit '${n}' outside podunit-${esc}-*`);
    if (!UNIT_NAME.test(n) || n.length > 255) out.push(`unit '${n}' is not a valid unit name`);
  }
  for (const u of units) {
    if (!(u.cgroup === `/podunit.slice/podunit-${esc}.slice` || u.cgroup.startsWith(`/podunit.slice/podunit-${esc}.slice/`))) out.push(`cgroup '${u.cgroup}' of ${u.name}`);
    for (const prop of u.properties) {
      if (["After", "BindsTo", "Requires", "Wants"].includes(prop.key)) {
        for (const ref of prop.value as string[]) if (!names.includes(ref)) out.push(`${u.name} ${prop.key}= '${ref}' is not a unit of the pod`);
      }
      if (prop.key === "Slice" && prop.value !== p.slice.name) out.push(`${u.name} Slice=${prop.value}`);
      if (prop.key.startsWith("Exec")) {
        for (const cmd of prop.value as Array<{ path: string; argv: string[] }>) {
          if (!Object.values(HOST_CRUN.paths).includes(cmd.path)) out.push(`${u.name} runs '${cmd.path}', which is none of podunit's tools`);
          // Container ids name the pod's containers only.
          if (cmd.path === HOST_CRUN.paths.runc || cmd.path === HOST_CRUN.paths.crun) {
            for (const a of cmd.argv) if (a.startsWith("podunit-") && !a.startsWith(`podunit-${pod}.`)) out.push(`${u.name} names container '${a}'`);
          }
        }
      }
    }
  }
  for (const w of p.target.properties) {
    if (w.key === "Wants") for (const ref of w.value as string[]) if (!names.includes(ref)) out.push(`target wants '${ref}'`);
  }
  // Every path podunit makes, writes or mounts: below /run/podunit/<pod>/, normalised.
  const roots = (p.images ?? []).flatMap((i) => [i.target, ...(i.upper !== undefined ? [i.upper, i.work!] : [])]);
  const made = [...p.directories, ...p.files.map((f) => f.path), ...p.pins.map((x) => x.path), ...roots];
  for (const path of made) {
    if (!(path === runDir || path.startsWith(`${runDir}/`))) out.push(`'${path}' is outside ${runDir}/`);
    if (path.split("/").slice(1).some((s) => s === "" || s === "." || s === "..")) out.push(`'${path}' is not normalised`);
  }
  // Any mention of the run directory anywhere in the plan (argv, PIDFile, OCI configs) is the pod's own,
  // except in what the spec itself passes through (argv, env, workdir, rootfs).
  const own = new Set(spec.members.flatMap((m) => [...m.command, ...(m.health?.check.kind === "exec" ? m.health.check.argv : []), ...Object.entries(m.env).map(([k, v]) => `${k}=${v}`), m.workdir ?? "", m.rootfs ?? ""]));
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      if (own.has(v)) return;
      if (v.startsWith("{")) {
        try {
          return walk(JSON.parse(v)); // an OCI config: look at its values one by one
        } catch {}
      }
      for (const m of v.matchAll(/\/run\/podunit\/([^"\\/\s]*)/g)) if (m[1] !== pod) out.push(`the plan mentions '/run/podunit/${m[1]}' in '${v.slice(0, 100)}'`);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(p);
  for (const f of p.files) {
    // Pin files are empty: the sandbox binds its namespaces onto them.
    if (p.pins.some((x) => x.path === f.path)) {
      if (f.content !== "") out.push(`pin file ${f.path} is not empty`);
      continue;
    }
    // The record of the images a running pod uses, not an OCI config.
    if (f.path === `${runDir}/images.json`) continue;
    // The health checks' configuration: the cgroups it moves exec checks into are the pod's.
    if (f.path === `${runDir}/health.json`) {
      for (const m of (JSON.parse(f.content) as { members: Array<{ cgroup: string }> }).members) {
        if (!m.cgroup.startsWith(`/podunit.slice/podunit-${esc}.slice/`)) out.push(`${f.path}: cgroup '${m.cgroup}'`);
      }
      continue;
    }
    let cfg: { linux?: { cgroupsPath?: string; namespaces?: Array<{ path?: string }> } };
    try {
      cfg = JSON.parse(f.content);
    } catch {
      out.push(`${f.path} is not JSON`);
      continue;
    }
    const cg = cfg.linux?.cgroupsPath ?? "";
    if (!cg.startsWith(`/podunit.slice/podunit-${esc}.slice/`)) out.push(`${f.path}: cgroupsPath '${cg}'`);
    for (const ns of cfg.linux?.namespaces ?? []) if (ns.path !== undefined && !ns.path.startsWith(`${runDir}/ns/`)) out.push(`${f.path}: joins '${ns.path}'`);
  }
  return out;
}

const BY_DBUS = new Map(Object.values(PROPERTIES).map((d) => [d.dbus as string, d]));

/** The rendered unit files read back (as systemd's parser would) to the properties sent over D-Bus, and nothing else. */
export function checkRender(p: Plan): string[] {
  const out: string[] = [];
  const files = new Map(render(p).map((f) => [f.name, f.content]));
  for (const [u, type] of [[p.slice, "Slice"], [p.sandbox, "Service"], ...p.members.map((m) => [m, "Service"] as const)] as const) {
    const text = files.get(u.name);
    if (text === undefined) {
      out.push(`no unit file for ${u.name}`);
      continue;
    }
    const entries = readUnitFile(text);
    const seen = new Set<string>();
    for (const d of toDbus(u)) {
      const def = BY_DBUS.get(d.name)!;
      const section = def.section === "Unit" ? "Unit" : type;
      const values = (entries.get(section) ?? []).filter(([k]) => k === def.unitKey).map(([, v]) => v);
      let back: unknown;
      try {
        back = readProperty(def.dbus as PropertyKey, values);
      } catch (e) {
        out.push(`${u.name} ${def.unitKey}= does not read back: ${(e as Error).message}`);
        continue;
      }
      if (!Bun.deepEquals(back, d.value)) out.push(`${u.name} ${def.unitKey}= reads back as ${String(JSON.stringify(back, big))?.slice(0, 200)}, sent as ${String(JSON.stringify(d.value, big))?.slice(0, 200)}`);
      seen.add(`${section}/${def.unitKey}`);
    }
    for (const [section, pairs] of entries) for (const [k] of pairs) if (!seen.has(`${section}/${k}`)) out.push(`${u.name} has an extra line ${section}/${k}=`);
  }
  return out;
}

function big(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString("utf8") : v;
}
