/**
 * A pod template (`spec` of a Pod, `spec.template.spec` of a workload) as the
 * tables of a spec: pod keys, `[install]`, one `[containers.NAME]` per
 * container. Problems are recorded with their path and line. Pure.
 */
import { CAPABILITY_NAMES, DEFAULT_CAPABILITIES, capabilityName, sortCapabilities } from "../podspec/capabilities.ts";
import { checkAbsolutePath, checkHostname, checkName, isEnvName } from "../podspec/grammar.ts";
import { isIpv4 } from "../podspec/ports.ts";
import { parseReference } from "../podspec/reference.ts";
import { isPodunitAnnotation, memberKey, NETWORK, POD_TASKS_MAX, SANDBOX, WANTED_BY } from "./annotations.ts";
import type { Findings } from "./check.ts";
import { unescapeFromKube } from "./expand.ts";
import { playProbes } from "./health.ts";
import { cpuPercent, memoryBytes, specSize } from "./quantity.ts";
import type { TomlScalar, TomlTable } from "./toml.ts";
import { playMounts, playVolumes, type PlayedFiles } from "./volumes.ts";
import type { KPath, YamlDoc } from "./yaml.ts";

/** A ConfigMap's or Secret's values, by name (as text for the environment, as bytes for files), and which of them the pod used. */
export interface Source {
  kind: string;
  doc: YamlDoc;
  values: Map<string, string>;
  bytes: Map<string, Uint8Array>;
}
export interface Sources {
  configMaps: Map<string, Source>;
  secrets: Map<string, Source>;
  used: Set<Source>;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

const POLICY: Record<string, string> = { Always: "always", OnFailure: "on-failure", Never: "no" };

/** What a pod template becomes. */
export interface PodTables {
  top: TomlTable;
  tables: { name: string[]; table: TomlTable; always?: boolean }[];
  secret: boolean;
  /** ConfigMap and Secret volumes: files for the command layer to write. */
  files: PlayedFiles[];
}

/** Reads the template at `at` of `doc`; `annotations` are the workload's; file volumes go below `filesDir`. */
export function podTables(f: Findings, doc: YamlDoc, at: KPath, kind: string, name: string, annotations: Obj, sources: Sources, filesDir: string): PodTables {
  const spec = obj(at.reduce<unknown>((v, k) => obj(v)[k as string], doc.value));
  const p = (...rest: (string | number)[]): KPath => [...at, ...rest];
  const annotationsAt: KPath = kind === "Pod" ? ["metadata", "annotations"] : ["metadata", "annotations"];
  const ann = (key: string) => str(annotations[key]);
  for (const key of Object.keys(annotations)) if (!isPodunitAnnotation(key)) f.note(doc, [...annotationsAt, key], "not kept: annotations other than podunit's have no meaning here");

  const top: TomlTable = {};
  const hostname = str(spec.hostname);
  if (hostname !== undefined && hostname !== name) {
    const ok = checkHostname(hostname);
    if (!ok.ok) f.issue(doc, p("hostname"), ok.message);
    top.hostname = hostname;
  }
  const hostNetwork = spec.hostNetwork === true;
  const sharePid = spec.shareProcessNamespace === true;
  if (sharePid && spec.hostPID === true) f.issue(doc, p("shareProcessNamespace"), "expected shareProcessNamespace or hostPID, found both");
  if (sharePid) top.share = ["ipc", "net", "pid", "uts"].filter((ns) => !(ns === "net" && hostNetwork) && !(ns === "ipc" && spec.hostIPC === true));
  if (hostNetwork) top.host_network = true;
  if (spec.hostIPC === true) top.host_ipc = true;
  if (spec.hostPID === true) top.host_pid = true;
  // hostUsers: false is a user namespace of the pod's own, as userns = "auto" makes it.
  if (spec.hostUsers === false) top.userns = "auto";
  const network = ann(NETWORK);
  if (network !== undefined && network !== "private") f.issue(doc, [...annotationsAt, NETWORK], `expected "private", found ${JSON.stringify(network)}`);
  if (network === undefined && !hostNetwork) top.network = "bridge";
  const sandbox = ann(SANDBOX);
  if (sandbox !== undefined) {
    if (sandbox === "crun" || sandbox === "runc" || sandbox === "native") top.sandbox = sandbox;
    else f.issue(doc, [...annotationsAt, SANDBOX], `expected "crun", "runc" or "native", found ${JSON.stringify(sandbox)}`);
  }
  // A RuntimeClass named after its handler, as clusters running crun or runc name them.
  const runtimeClass = str(spec.runtimeClassName);
  if (runtimeClass !== undefined) {
    if (runtimeClass === "crun" || runtimeClass === "runc") top.runtime = runtimeClass;
    else f.issue(doc, p("runtimeClassName"), `expected "crun" or "runc" (the OCI runtimes podunit runs), found ${JSON.stringify(runtimeClass)}`);
  }
  const ports: string[] = [];
  Object.assign(top, limits(f, doc, p("resources", "limits"), obj(obj(spec.resources).limits)));
  const tasks = ann(POD_TASKS_MAX);
  if (tasks !== undefined) top.tasks_max = tasksMax(f, doc, [...annotationsAt, POD_TASKS_MAX], tasks);

  const policyWord = str(spec.restartPolicy) ?? (kind === "Job" ? undefined : "Always");
  if (policyWord === undefined) f.issue(doc, p("restartPolicy"), "expected restartPolicy Never or OnFailure for a Job");
  const restart = policyWord === undefined ? "no" : POLICY[policyWord];
  if (restart === undefined) f.issue(doc, p("restartPolicy"), `expected Always, OnFailure or Never, found ${JSON.stringify(policyWord)}`);
  const grace = spec.terminationGracePeriodSeconds;
  if (grace === 0) f.issue(doc, p("terminationGracePeriodSeconds"), "expected more than 0: podunit always lets a member stop (SIGKILL follows after this long)");
  const podSc = obj(spec.securityContext);
  const w = obj(doc.value);
  const claims = kind === "StatefulSet" ? { at: ["spec", "volumeClaimTemplates"] as KPath, list: arr(obj(w.spec).volumeClaimTemplates) } : undefined;
  const vols = playVolumes(f, doc, at, spec, claims, { pod: name, filesDir, sources, ann, annotationsAt });

  const tables: PodTables["tables"] = [...vols.tables];
  let secret = false;
  const seen = new Set<string>();
  const containers = [...arr(spec.initContainers).map((c, i) => ({ c: obj(c), path: p("initContainers", i), init: true })), ...arr(spec.containers).map((c, i) => ({ c: obj(c), path: p("containers", i), init: false }))];
  if (!arr(spec.containers).length) f.issue(doc, p("containers"), "expected at least one container");
  for (const { c, path, init } of containers) {
    const at = (...rest: (string | number)[]): KPath => [...path, ...rest];
    const mname = str(c.name) ?? "";
    const okName = checkName(mname, "member");
    if (!okName.ok) f.issue(doc, at("name"), okName.message);
    else if (seen.has(mname)) f.issue(doc, at("name"), `expected each container name once, found '${mname}' again`);
    seen.add(mname);
    const m: TomlTable = {};
    if (init) m.kind = "init";
    const image = str(c.image);
    if (image === undefined) f.issue(doc, at("image"), "expected an image: a container runs an image");
    else {
      try {
        parseReference(image);
      } catch (e) {
        f.issue(doc, at("image"), (e as Error).message);
      }
    }
    m.image = image;
    const pull = str(c.imagePullPolicy) ?? (image !== undefined && pullsLatest(image) ? "Always" : "IfNotPresent");
    if (pull === "Always") m.pull = "always";
    else if (pull === "Never") m.pull = "never";
    else if (pull !== "IfNotPresent") f.issue(doc, at("imagePullPolicy"), `expected Always, IfNotPresent or Never, found ${JSON.stringify(pull)}`);

    // Environment first: command and args may name its variables.
    const env = new Map<string, string>();
    const names = new Set<string>();
    for (const [j, e] of arr(c.envFrom).entries()) {
      const ef = obj(e);
      const ref = ef.configMapRef !== undefined ? { o: obj(ef.configMapRef), from: sources.configMaps, key: "configMapRef", what: "ConfigMap" } : { o: obj(ef.secretRef), from: sources.secrets, key: "secretRef", what: "Secret" };
      const src = ref.from.get(str(ref.o.name) ?? "");
      if (!src) {
        if (ref.o.optional !== true) f.issue(doc, at("envFrom", j, ref.key, "name"), `expected a ${ref.what} named '${str(ref.o.name) ?? ""}' in the same file`);
        continue;
      }
      sources.used.add(src);
      if (src.kind === "Secret") secret = true;
      for (const [k, v] of src.values) {
        const envName = (str(ef.prefix) ?? "") + k;
        if (!isEnvName(envName)) f.issue(doc, at("envFrom", j), `expected environment names such as LOG_LEVEL, found the key '${envName}' in ${ref.what} '${src.doc ? str(obj(obj(src.doc.value).metadata).name) : ""}'`);
        else env.set(envName, v), names.add(envName);
      }
    }
    for (const [j, e] of arr(c.env).entries()) {
      const ev = obj(e);
      const en = str(ev.name) ?? "";
      if (!isEnvName(en)) {
        f.issue(doc, at("env", j, "name"), `expected a name such as LOG_LEVEL ([A-Za-z_][A-Za-z0-9_]*), found ${JSON.stringify(en)}`);
        continue;
      }
      const vf = obj(ev.valueFrom);
      if (ev.valueFrom !== undefined) {
        const [key, from, what] = vf.configMapKeyRef !== undefined ? ["configMapKeyRef", sources.configMaps, "ConfigMap"] as const : ["secretKeyRef", sources.secrets, "Secret"] as const;
        const ref = obj(vf[key]);
        const src = from.get(str(ref.name) ?? "");
        const value = src?.values.get(str(ref.key) ?? "");
        if (value === undefined) {
          if (ref.optional !== true) f.issue(doc, at("env", j, "valueFrom", key), `expected ${what} '${str(ref.name) ?? ""}' with key '${str(ref.key) ?? ""}' in the same file`);
          continue;
        }
        sources.used.add(src!);
        if (what === "Secret") secret = true;
        env.set(en, value);
      } else {
        const raw = str(ev.value) ?? "";
        const u = unescapeFromKube(raw, names);
        if (!u.ok) f.issue(doc, at("env", j, "value"), u.message);
        else env.set(en, u.value);
      }
      names.add(en);
    }
    for (const [k, v] of env) if (v.includes("\0")) f.issue(doc, at("env"), `expected values without NUL characters, found one in '${k}' (the value is not shown)`);
    for (const key of ["command", "args"] as const) {
      if (c[key] === undefined) continue;
      m[key] = arr(c[key]).map((w, j) => {
        const u = unescapeFromKube(String(w), names);
        if (!u.ok) f.issue(doc, at(key, j), u.message);
        else if (key === "command" && u.value === "") f.issue(doc, at(key, j), "expected a non-empty word");
        return u.ok ? u.value : "";
      });
    }
    if (m.command !== undefined && !(m.command as string[]).length) f.issue(doc, at("command"), "expected at least one word, or leave command out to run the image's");
    const wd = str(c.workingDir);
    if (wd !== undefined) {
      const ok = checkAbsolutePath(wd, true);
      if (!ok.ok) f.issue(doc, at("workingDir"), ok.message);
      m.workdir = wd;
    }
    const sc = obj(c.securityContext);
    const uid = sc.runAsUser ?? podSc.runAsUser;
    const gid = sc.runAsGroup ?? podSc.runAsGroup;
    if (gid !== undefined && uid === undefined) f.issue(doc, at("securityContext", "runAsGroup"), "expected runAsUser with runAsGroup: podunit's user is UID[:GID]");
    if (typeof uid === "number") m.user = gid !== undefined ? `${uid}:${gid}` : String(uid);
    if (sc.readOnlyRootFilesystem === true) m.readonly_rootfs = true;
    if (sc.allowPrivilegeEscalation === true) m.no_new_privileges = false;
    const seccompAt = sc.seccompProfile !== undefined && sc.seccompProfile !== null ? at("securityContext", "seccompProfile", "type") : [...p("securityContext", "seccompProfile", "type")];
    const seccomp = str(obj(sc.seccompProfile ?? podSc.seccompProfile).type);
    if (seccomp === "Unconfined") m.seccomp = "unconfined";
    else if (seccomp === "Localhost") f.issue(doc, seccompAt, "not supported: a profile file of the node; podunit has its default filter (RuntimeDefault) or none (Unconfined)");
    else if (seccomp !== undefined && seccomp !== "RuntimeDefault") f.issue(doc, seccompAt, `expected RuntimeDefault or Unconfined, found ${JSON.stringify(seccomp)}`);
    const caps = capabilities(f, doc, at, obj(sc.capabilities), sc.capabilities !== undefined && sc.capabilities !== null);
    const mounts = playMounts(f, doc, at, c, vols);
    if (mounts.length) m.mounts = mounts;
    const health = playProbes(f, doc, at, c);
    if (health && init) f.issue(doc, at(), "expected no probes on an init container: it runs to completion, and the containers after it wait for it");
    Object.assign(m, limits(f, doc, at("resources", "limits"), obj(obj(c.resources).limits)));
    const mt = ann(memberKey("tasks-max", mname));
    if (mt !== undefined) m.tasks_max = tasksMax(f, doc, [...annotationsAt, memberKey("tasks-max", mname)], mt);
    const own = ann(memberKey("restart", mname));
    if (own !== undefined && !["no", "on-failure", "always"].includes(own)) f.issue(doc, [...annotationsAt, memberKey("restart", mname)], `expected "no", "on-failure" or "always", found ${JSON.stringify(own)}`);
    m.restart = own ?? (init ? (restart === "no" ? "no" : "on-failure") : restart);
    if (typeof grace === "number" && grace > 0) m.stop_timeout = `${grace}s`;
    const after = ann(memberKey("after", mname));
    if (after !== undefined) m.after = after.split(",").filter(Boolean);
    const runtime = ann(memberKey("runtime", mname));
    if (runtime !== undefined && runtime !== "crun" && runtime !== "runc") f.issue(doc, [...annotationsAt, memberKey("runtime", mname)], `expected "crun" or "runc", found ${JSON.stringify(runtime)}`);
    else if (runtime !== undefined) m.runtime = runtime;
    for (const [j, port] of arr(c.ports).entries()) ports.push(...publish(f, doc, at("ports", j), obj(port), hostNetwork));
    tables.push({ name: ["containers", mname], table: m, always: true });
    if (env.size) tables.push({ name: ["containers", mname, "env"], table: Object.fromEntries(env) });
    if (health && !init) tables.push({ name: ["containers", mname, "health"], table: health });
    if (caps) tables.push({ name: ["containers", mname, "capabilities"], table: caps });
  }
  if (ports.length) top.ports = ports;
  const wanted = ann(WANTED_BY);
  if (wanted !== undefined) tables.unshift({ name: ["install"], table: { wanted_by: wanted.split(",").filter(Boolean) }, always: true });
  return { top, tables, secret, files: vols.files };
}

/** Kubernetes' default pull policy: Always for an image tagged latest or not tagged (and not pinned), else IfNotPresent. */
function pullsLatest(image: string): boolean {
  try {
    const r = parseReference(image);
    return r.digest === undefined && (r.tag === undefined || r.tag === "latest");
  } catch {
    return false; // the image's own issue is recorded above
  }
}

/**
 * A container's capabilities as the member's `capabilities` table: the names
 * without CAP_, as written; undefined when they leave runc's default set as it is.
 */
function capabilities(f: Findings, doc: YamlDoc, at: (...rest: (string | number)[]) => KPath, caps: Obj, given: boolean): TomlTable | undefined {
  if (!given) return undefined;
  const names = (key: "add" | "drop"): string[] =>
    arr(caps[key]).flatMap((n, j) => {
      const s = String(n);
      if (s.toUpperCase() === "ALL") return ["ALL"];
      const full = capabilityName(s);
      if (CAPABILITY_NAMES.includes(full)) return [full.slice("CAP_".length)];
      f.issue(doc, at("securityContext", "capabilities", key, j), `expected a capability name such as NET_ADMIN (capabilities(7)), found ${JSON.stringify(s)}`);
      return [];
    });
  const add = names("add");
  const drop = names("drop");
  for (const [j, a] of add.entries()) if (drop.includes(a)) f.issue(doc, at("securityContext", "capabilities", "add", j), `expected a capability not also in drop, found ${a} in both`);
  const full = (n: string) => `CAP_${n}`;
  let set = drop.includes("ALL") ? [] : DEFAULT_CAPABILITIES.filter((n) => !drop.map(full).includes(n));
  set = add.includes("ALL") ? [...CAPABILITY_NAMES] : [...set, ...add.map(full)];
  if (sortCapabilities(set).join() === sortCapabilities(DEFAULT_CAPABILITIES).join()) return undefined;
  if (!drop.includes("ALL")) f.note(doc, at("securityContext", "capabilities"), "capabilities are added to and dropped from runc's default set here (AUDIT_WRITE, KILL, NET_BIND_SERVICE), which is narrower than a cluster runtime's; write drop: [ALL] to say the whole set");
  const table: TomlTable = {};
  if (add.length) table.add = add;
  if (drop.length) table.drop = drop;
  return table;
}

/** A container's port: published when it has a hostPort, else a note that it is not. */
function publish(f: Findings, doc: YamlDoc, at: KPath, port: Obj, hostNetwork: boolean): string[] {
  const proto = str(port.protocol) ?? "TCP";
  if (proto !== "TCP" && proto !== "UDP") {
    f.issue(doc, [...at, "protocol"], `expected TCP or UDP, found ${JSON.stringify(proto)}`);
    return [];
  }
  const cp = port.containerPort;
  if (typeof cp !== "number" || cp < 1 || cp > 65535) {
    f.issue(doc, [...at, "containerPort"], "expected a port from 1 to 65535");
    return [];
  }
  if (port.hostPort === undefined) {
    f.note(doc, [...at, "containerPort"], `port ${cp}/${proto.toLowerCase()} is not published (no hostPort): reachable from the pod${hostNetwork ? " and the host" : " and at the pod's address"}`);
    return [];
  }
  const hp = port.hostPort;
  if (typeof hp !== "number" || hp < 1 || hp > 65535) {
    f.issue(doc, [...at, "hostPort"], "expected a port from 1 to 65535");
    return [];
  }
  if (hostNetwork) {
    if (hp !== cp) f.issue(doc, [...at, "hostPort"], `expected hostPort equal to containerPort (${cp}) on the host's network`);
    return [];
  }
  const ip = str(port.hostIP);
  if (ip !== undefined && !isIpv4(ip)) {
    f.issue(doc, [...at, "hostIP"], `expected an IPv4 address, found ${JSON.stringify(ip)}`);
    return [];
  }
  return [`${ip !== undefined ? `${ip}:` : ""}${hp}:${cp}/${proto.toLowerCase()}`];
}

function limits(f: Findings, doc: YamlDoc, at: KPath, l: Obj): TomlTable {
  const out: Record<string, TomlScalar> = {};
  if (l.memory !== undefined) {
    const b = memoryBytes(l.memory as string | number);
    if (!b.ok) f.issue(doc, [...at, "memory"], b.message);
    else out.memory_max = specSize(b.value);
  }
  if (l.cpu !== undefined) {
    const c = cpuPercent(l.cpu as string | number);
    if (!c.ok) f.issue(doc, [...at, "cpu"], c.message);
    else out.cpu_quota = `${c.value}%`;
  }
  return out;
}

function tasksMax(f: Findings, doc: YamlDoc, at: KPath, v: string): number | undefined {
  if (!/^[1-9]\d{0,6}$/.test(v)) {
    f.issue(doc, at, `expected a number of tasks such as "512", found ${JSON.stringify(v)}`);
    return undefined;
  }
  return Number(v);
}
