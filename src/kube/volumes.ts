/**
 * Pod volumes and mounts, both ways: `persistent` is a PersistentVolumeClaim
 * named POD-VOLUME, `scratch` an emptyDir, `tmpfs` an emptyDir in memory with a
 * size limit, `host` a hostPath. A volume's owner and mode, which Kubernetes has
 * no field for, are annotations. `play` also takes a StatefulSet's claim
 * templates (persistent volumes) and ConfigMaps and Secrets as volumes: their
 * files are written next to the spec and mounted read-only as host volumes
 * (a Secret's in a directory only root can read). Pure. docs/kubernetes.md.
 */
import { checkAbsolutePath, isValidName } from "../podspec/grammar.ts";
import type { MountSpec, PodSpec, VolumeSpec } from "../podspec/types.ts";
import { volumeKey } from "./annotations.ts";
import type { Findings } from "./check.ts";
import type { Sources } from "./pod.ts";
import { memoryBytes, memoryQuantity, specSize } from "./quantity.ts";
import type { TomlTable } from "./toml.ts";
import type { KPath, YamlDoc } from "./yaml.ts";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** The volumes of a generated Pod, with the annotations for owner and mode. */
export function volumesOf(spec: PodSpec, annotations: Obj): Obj[] {
  return (spec.volumes ?? []).map((v) => {
    if (v.owner) annotations[volumeKey("owner", v.name)] = `${v.owner.uid}:${v.owner.gid}`;
    if (v.mode !== undefined) annotations[volumeKey("mode", v.name)] = `0${v.mode.toString(8).padStart(3, "0")}`;
    if (v.type === "persistent") return { name: v.name, persistentVolumeClaim: { claimName: `${spec.name}-${v.name}` } };
    if (v.type === "scratch") return { name: v.name, emptyDir: {} };
    if (v.type === "tmpfs") return { name: v.name, emptyDir: { medium: "Memory", sizeLimit: memoryQuantity(v.size!) } };
    return { name: v.name, hostPath: { path: v.path! } };
  });
}

/** A member's mounts as volumeMounts: `:ro` is read-only all the way down, as recursiveReadOnly: Enabled says. */
export function mountsOf(mounts: MountSpec[]): Obj[] {
  return mounts.map((m) => ({ name: m.volume, mountPath: m.path, ...(m.readonly ? { readOnly: true, recursiveReadOnly: "Enabled" } : {}) }));
}

/** Files a ConfigMap or Secret volume becomes: written by the command layer, never printed. */
export interface PlayedFiles {
  volume: string;
  /** Absolute directory the files go to (the host volume's path). */
  dir: string;
  /** A Secret's: the directory is root's only (0700), the files 0600 at most. */
  secret: boolean;
  files: { path: string; data: Uint8Array; mode: number }[];
}

/** What the pod's volumes become: `[volumes.NAME]` tables, the volumes mounted read-only always, files to write. */
export interface PlayedVolumes {
  tables: { name: string[]; table: TomlTable; always?: boolean }[];
  names: Set<string>;
  readOnly: Set<string>;
  files: PlayedFiles[];
}

/**
 * Reads `volumes` of the pod template at `at` (and a StatefulSet's
 * `volumeClaimTemplates` at `claims`). `filesDir` is where file volumes go.
 */
export function playVolumes(f: Findings, doc: YamlDoc, at: KPath, spec: Obj, claims: { at: KPath; list: unknown[] } | undefined, ctx: { pod: string; filesDir: string; sources: Sources; ann: (k: string) => string | undefined; annotationsAt: KPath }): PlayedVolumes {
  const out: PlayedVolumes = { tables: [], names: new Set(), readOnly: new Set(), files: [] };
  const add = (path: KPath, name: string, table: TomlTable): void => {
    if (!isValidName(name)) return f.issue(doc, path, `expected a volume name such as "data" (lower-case letters, digits and "-"), found ${JSON.stringify(name)}`);
    if (out.names.has(name)) return f.issue(doc, path, `expected each volume name once, found '${name}' again`);
    out.names.add(name);
    if (table.type !== "host") ownerMode(f, doc, name, table, ctx);
    out.tables.push({ name: ["volumes", name], table, always: true });
  };
  for (const [i, raw] of arr(spec.volumes).entries()) {
    const v = obj(raw);
    const p = (...rest: (string | number)[]): KPath => [...at, "volumes", i, ...rest];
    const name = str(v.name) ?? "";
    const kinds = ["persistentVolumeClaim", "emptyDir", "hostPath", "configMap", "secret"].filter((k) => v[k] !== undefined && v[k] !== null);
    if (kinds.length !== 1) {
      f.issue(doc, p(), `expected exactly one of persistentVolumeClaim, emptyDir, hostPath, configMap or secret, found ${kinds.length ? kinds.join(" and ") : "none"}`);
      continue;
    }
    const kind = kinds[0]!;
    const body = obj(v[kind]);
    if (kind === "persistentVolumeClaim") {
      const claim = str(body.claimName);
      if (claim !== `${ctx.pod}-${name}`) f.note(doc, p(kind, "claimName"), `the claim's name is not kept: the volume's data is podunit's persistent volume ${ctx.pod}/${name} (/var/lib/podunit/volumes/${ctx.pod}/${name})`);
      add(p("name"), name, { type: "persistent" });
    } else if (kind === "emptyDir") {
      const medium = str(body.medium) ?? "";
      if (medium !== "" && medium !== "Memory") {
        f.issue(doc, p(kind, "medium"), `expected "" or Memory, found ${JSON.stringify(medium)}`);
        continue;
      }
      if (medium === "Memory") {
        if (body.sizeLimit === undefined || body.sizeLimit === null) {
          f.issue(doc, p(kind, "medium"), "expected sizeLimit with medium: Memory: a tmpfs volume here has a size (its memory is capped)");
          continue;
        }
        const b = memoryBytes(body.sizeLimit as string | number);
        if (!b.ok) f.issue(doc, p(kind, "sizeLimit"), b.message);
        else add(p("name"), name, { type: "tmpfs", size: specSize(b.value) });
      } else {
        if (body.sizeLimit !== undefined && body.sizeLimit !== null) {
          f.issue(doc, p(kind, "sizeLimit"), "not supported: a scratch volume here has no size limit; write medium: Memory for a tmpfs of that size, or leave sizeLimit out");
          continue;
        }
        add(p("name"), name, { type: "scratch" });
      }
    } else if (kind === "hostPath") {
      const path = str(body.path) ?? "";
      const ok = checkAbsolutePath(path, false);
      if (!ok.ok) f.issue(doc, p(kind, "path"), ok.message);
      else if (path.includes(":")) f.issue(doc, p(kind, "path"), `expected a path without ":", found ${JSON.stringify(path)}`);
      const type = str(body.type) ?? "";
      if (!["", "Directory", "File"].includes(type)) {
        f.issue(doc, p(kind, "type"), `expected "", Directory or File, found ${JSON.stringify(type)}: podunit never creates a host path and mounts only directories and files`);
        continue;
      }
      if (ok.ok) add(p("name"), name, { type: "host", path: ok.value });
    } else {
      const secret = kind === "secret";
      const ref = str(secret ? body.secretName : body.name) ?? "";
      const src = (secret ? ctx.sources.secrets : ctx.sources.configMaps).get(ref);
      if (!src && body.optional !== true) {
        f.issue(doc, p(kind, secret ? "secretName" : "name"), `expected a ${secret ? "Secret" : "ConfigMap"} named '${ref}' in the same file`);
        continue;
      }
      if (src) ctx.sources.used.add(src);
      const dir = `${ctx.filesDir}/${name}`;
      const defaultMode = fileMode(f, doc, p(kind, "defaultMode"), body.defaultMode) ?? 0o644;
      const files: PlayedFiles["files"] = [];
      const items: Obj[] = body.items === undefined || body.items === null ? [...(src?.bytes.keys() ?? [])].map((key) => ({ key, path: key })) : arr(body.items).map(obj);
      for (const [j, item] of items.entries()) {
        const key = str(item.key) ?? "";
        const data = src?.bytes.get(key);
        const path = str(item.path) ?? key;
        if (data === undefined) {
          if (src) f.issue(doc, p(kind, "items", j, "key"), `expected a key of ${src.kind} '${ref}', found '${key}'`);
          continue;
        }
        if (path === "" || path.startsWith("/") || path.split("/").some((s) => s === "" || s === "." || s === "..")) {
          f.issue(doc, body.items === undefined ? p(kind) : p(kind, "items", j, "path"), `expected a relative file name without "..", found ${JSON.stringify(path)}`);
          continue;
        }
        const mode = (item.mode !== undefined ? fileMode(f, doc, p(kind, "items", j, "mode"), item.mode) : undefined) ?? defaultMode;
        files.push({ path, data, mode: secret ? mode & 0o700 : mode });
      }
      add(p("name"), name, { type: "host", path: dir });
      out.readOnly.add(name);
      out.files.push({ volume: name, dir, secret, files });
    }
  }
  for (const [i, raw] of (claims?.list ?? []).entries()) {
    const c = obj(raw);
    const p = (...rest: (string | number)[]): KPath => [...claims!.at, i, ...rest];
    const mode = str(obj(c.spec).volumeMode);
    if (mode !== undefined && mode !== "Filesystem") f.issue(doc, p("spec", "volumeMode"), `expected Filesystem, found ${JSON.stringify(mode)}: block devices are not supported`);
    add(p("metadata", "name"), str(obj(c.metadata).name) ?? "", { type: "persistent" });
  }
  return out;
}

/** A file mode: 0 to 0777 (YAML writes it as a decimal or an octal number). */
function fileMode(f: Findings, doc: YamlDoc, at: KPath, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0o777) return v;
  f.issue(doc, at, `expected a file mode from 0 to 0777 (511), found ${JSON.stringify(v)}`);
  return undefined;
}

/** A volume's owner and mode from podunit's annotations. */
function ownerMode(f: Findings, doc: YamlDoc, name: string, table: TomlTable, ctx: { ann: (k: string) => string | undefined; annotationsAt: KPath }): void {
  const owner = ctx.ann(volumeKey("owner", name));
  if (owner !== undefined) {
    if (/^\d{1,10}:\d{1,10}$/.test(owner)) table.owner = owner;
    else f.issue(doc, [...ctx.annotationsAt, volumeKey("owner", name)], `expected "UID:GID" such as "1000:1000", found ${JSON.stringify(owner)}`);
  }
  const mode = ctx.ann(volumeKey("mode", name));
  if (mode !== undefined) {
    if (/^0?[0-7]{3,4}$/.test(mode)) table.mode = mode;
    else f.issue(doc, [...ctx.annotationsAt, volumeKey("mode", name)], `expected an octal mode such as "0750", found ${JSON.stringify(mode)}`);
  }
}

/** A container's volumeMounts as the member's `mounts`. */
export function playMounts(f: Findings, doc: YamlDoc, at: (...rest: (string | number)[]) => KPath, c: Obj, vols: PlayedVolumes): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const [j, raw] of arr(c.volumeMounts).entries()) {
    const m = obj(raw);
    const name = str(m.name) ?? "";
    if (!vols.names.has(name)) {
      f.issue(doc, at("volumeMounts", j, "name"), `expected the name of one of the pod's volumes, found ${JSON.stringify(name)}`);
      continue;
    }
    const path = str(m.mountPath) ?? "";
    const ok = checkAbsolutePath(path, true);
    if (!ok.ok) {
      f.issue(doc, at("volumeMounts", j, "mountPath"), ok.message);
      continue;
    }
    if (ok.value === "/" || ok.value.includes(":")) {
      f.issue(doc, at("volumeMounts", j, "mountPath"), `expected a path other than "/" and without ":", found ${JSON.stringify(path)}`);
      continue;
    }
    if (seen.has(ok.value)) {
      f.issue(doc, at("volumeMounts", j, "mountPath"), `expected each path once in a container, found ${JSON.stringify(path)} again`);
      continue;
    }
    seen.add(ok.value);
    const rro = str(m.recursiveReadOnly);
    if (rro !== undefined && !["Disabled", "IfPossible", "Enabled"].includes(rro)) f.issue(doc, at("volumeMounts", j, "recursiveReadOnly"), `expected Disabled, IfPossible or Enabled, found ${JSON.stringify(rro)}`);
    if (rro !== undefined && rro !== "Disabled" && m.readOnly !== true) f.issue(doc, at("volumeMounts", j, "recursiveReadOnly"), "expected readOnly: true with recursiveReadOnly");
    const ro = m.readOnly === true || vols.readOnly.has(name);
    if (m.readOnly === true && rro !== "Enabled" && rro !== "IfPossible") f.note(doc, at("volumeMounts", j, "readOnly"), "a read-only mount here is read-only all the way down (as recursiveReadOnly: Enabled), mounts below it too");
    out.push(`${name}:${ok.value}${ro ? ":ro" : ""}`);
  }
  return out;
}
