/**
 * `kube play`'s core: a manifest file (one or more YAML documents) → the TOML
 * spec of the one pod it describes. A Pod, or the pod template of a Deployment,
 * StatefulSet or Job; ConfigMaps and Secrets of the same file give environment
 * values. Every field is held against the table in fields.ts first; anything
 * refused is an issue with its path and line, and nothing is produced. Pure.
 */
import { checkName } from "../podspec/grammar.ts";
import { checkField, Findings } from "./check.ts";
import { ManifestError, type KubeIssue } from "./errors.ts";
import { KINDS } from "./fields.ts";
import { podTables, type Sources } from "./pod.ts";
import type { PlayedFiles } from "./volumes.ts";
import { writeToml } from "./toml.ts";
import { readYaml, type KPath, type YamlDoc } from "./yaml.ts";

/** The workload kinds: what holds a pod. */
const WORKLOADS = ["Pod", "Deployment", "StatefulSet", "Job"];

export interface PlayResult {
  /** The pod's name (the spec file's stem). */
  name: string;
  /** The spec, as TOML. */
  toml: string;
  /** Whether the spec holds values from a Secret (then it is written for root only and never printed). */
  secret: boolean;
  /** Fields accepted without effect, containerPorts not published, sources not used: each with its path and line. */
  notes: KubeIssue[];
  /** The workload's kind and name, for messages (`Deployment 'web'`). */
  from: string;
  /** ConfigMap and Secret volumes: files to write before the spec (a Secret's are never printed). */
  files: PlayedFiles[];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});

/** Decodes base64 strictly (the alphabet, padding), or undefined. */
function base64(s: string): Buffer | undefined {
  const t = s.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t) || t.length % 4 !== 0) return undefined;
  return Buffer.from(t, "base64");
}

/**
 * Reads the manifest and returns the spec; throws ManifestError with every
 * problem found. ConfigMap and Secret volumes are files below `filesDir`
 * (default: NAME.files next to the spec in /etc/podunit/pods).
 */
export function playManifest(text: string, file: string, opts: { name?: string; filesDir?: (name: string) => string } = {}): PlayResult {
  const read = readYaml(text, file);
  if (read.issues.length) throw new ManifestError(read.issues);
  const f = new Findings(file);
  const sources: Sources = { configMaps: new Map(), secrets: new Map(), used: new Set() };
  const workloads: YamlDoc[] = [];
  for (const doc of read.docs) {
    const v = obj(doc.value);
    const kind = v.kind;
    if (typeof doc.value !== "object" || Array.isArray(doc.value)) {
      f.issue(doc, [], "expected a Kubernetes object (a map with apiVersion and kind)");
      continue;
    }
    if (typeof kind !== "string") {
      f.issue(doc, ["kind"], `expected a kind: one of ${Object.keys(KINDS).join(", ")}`);
      continue;
    }
    const known = KINDS[kind];
    if (!known) {
      f.issue(doc, ["kind"], `not supported: kind '${kind}' is not played; podunit plays ${WORKLOADS.join(", ")}, with ConfigMaps and Secrets for their environment`);
      continue;
    }
    if (v.apiVersion !== known.apiVersion) f.issue(doc, ["apiVersion"], `expected apiVersion "${known.apiVersion}" for kind ${kind}, found ${JSON.stringify(v.apiVersion ?? null)}`);
    checkField(f, doc, [], v, known.fields);
    if (WORKLOADS.includes(kind)) workloads.push(doc);
    else readSource(f, doc, kind, sources);
  }
  if (!workloads.length && !f.issues.length) {
    throw new ManifestError([{ file, path: "", message: `found no pod: the file needs a ${WORKLOADS.join(", ")}` }]);
  }
  for (const extra of workloads.slice(1)) f.issue(extra, ["kind"], `expected one pod per file, found another (${obj(extra.value).kind}); play each from a file of its own`);
  if (f.issues.length) throw new ManifestError(f.issues);

  const doc = workloads[0]!;
  const w = obj(doc.value);
  const kind = w.kind as string;
  const metaName = obj(w.metadata).name;
  const podPath: KPath = kind === "Pod" ? ["spec"] : ["spec", "template", "spec"];
  if (kind !== "Pod") checkReplicas(f, doc, kind, obj(w.spec));
  const name = opts.name ?? (typeof metaName === "string" ? metaName : undefined);
  if (name === undefined) f.issue(doc, ["metadata"], "expected metadata.name (the pod's name here); or pass --name");
  else {
    const ok = checkName(name, "pod");
    if (!ok.ok) {
      if (opts.name !== undefined) throw new ManifestError([{ file, path: "", message: `--name: ${ok.message}` }]);
      f.issue(doc, ["metadata", "name"], `${ok.message}; pass --name to choose another`);
    }
  }
  const annotations = obj(obj(w.metadata).annotations);
  const filesDir = (opts.filesDir ?? ((n: string) => `/etc/podunit/pods/${n}.files`))(name ?? "pod");
  const tables = podTables(f, doc, podPath, kind, name ?? "pod", annotations, sources, filesDir);
  for (const [cmName, src] of [...sources.configMaps, ...sources.secrets]) {
    if (!sources.used.has(src)) f.note(src.doc, ["metadata", "name"], `${src.kind} '${cmName}' is not used by the pod`);
  }
  if (f.issues.length) throw new ManifestError(f.issues);
  const from = `${kind} '${typeof metaName === "string" ? metaName : name}'`;
  const comment = [`Played by 'podunit kube play' from ${file.slice(file.lastIndexOf("/") + 1)} (${from}).`];
  return { name: name!, toml: writeToml(comment, { name, ...tables.top }, tables.tables), secret: tables.secret, notes: f.notes, from, files: tables.files };
}

function checkReplicas(f: Findings, doc: YamlDoc, kind: string, spec: Obj): void {
  for (const key of kind === "Job" ? ["completions", "parallelism"] : ["replicas"]) {
    const n = spec[key];
    if (typeof n === "number" && n > 1) f.issue(doc, ["spec", key], `expected at most 1, found ${n}: podunit runs one pod of a ${kind}; run more as pods of their own`);
    if (n === 0) f.issue(doc, ["spec", key], `expected 1, found 0: a ${kind} with no pod has nothing to play`);
  }
}

/** Records a ConfigMap's or Secret's values by name (Secret values are decoded; none is ever put in a message). */
function readSource(f: Findings, doc: YamlDoc, kind: string, sources: Sources): void {
  const v = obj(doc.value);
  const name = obj(v.metadata).name;
  if (typeof name !== "string") return f.issue(doc, ["metadata", "name"], `expected a name for the ${kind}`);
  const values = new Map<string, string>();
  const bytes = new Map<string, Uint8Array>();
  const text = (k: string, d: string) => (values.set(k, d), bytes.set(k, Buffer.from(d, "utf8")));
  if (kind === "Secret") {
    for (const [k, d] of Object.entries(obj(v.data))) {
      if (typeof d !== "string") continue;
      const raw = base64(d);
      if (raw === undefined) f.issue(doc, ["data", k], "expected base64 (the value is not shown)");
      else values.set(k, raw.toString("utf8")), bytes.set(k, raw);
    }
    for (const [k, d] of Object.entries(obj(v.stringData))) if (typeof d === "string") text(k, d);
  } else for (const [k, d] of Object.entries(obj(v.data))) if (typeof d === "string") text(k, d);
  const into = kind === "Secret" ? sources.secrets : sources.configMaps;
  if (into.has(name)) return f.issue(doc, ["metadata", "name"], `expected each ${kind} once, found '${name}' again`);
  into.set(name, { kind, doc, values, bytes });
}

export { ManifestError };
