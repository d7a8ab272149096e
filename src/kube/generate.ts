/**
 * A pod spec as a Kubernetes v1 Pod (Kubernetes 1.34, see TARGET): image members
 * as containers, init members as initContainers, the pod's limits as pod-level
 * resources. What a cluster cannot run as the spec says is refused, naming the
 * member and the key; with `lossy` it is left out and listed instead. Pure.
 */
import type { KubeIssue } from "./errors.ts";
import { ClusterRefusal } from "./errors.ts";
import { memberKey, NETWORK, POD_TASKS_MAX, SANDBOX, WANTED_BY } from "./annotations.ts";
import { cpuQuantity, memoryQuantity } from "./quantity.ts";
import type { Limits, MemberSpec, PodSpec, PullPolicy, RestartPolicy } from "../podspec/types.ts";
import { DEFAULT_CAPABILITIES } from "../podspec/capabilities.ts";
import { probesOf } from "./health.ts";
import { mountsOf, volumesOf } from "./volumes.ts";
import { isIpv4 } from "../podspec/ports.ts";
import { escapeForKube } from "./expand.ts";

/** The Kubernetes version the manifests are written for (and the tests validate against). */
export const TARGET = "1.34";

export const RESTART_POLICY: Readonly<Record<RestartPolicy, string>> = { no: "Never", "on-failure": "OnFailure", always: "Always" };
export const PULL_POLICY: Readonly<Record<PullPolicy, string>> = { missing: "IfNotPresent", always: "Always", never: "Never" };

/** What a generated manifest left out (only with `lossy`): the spec's key and why. */
export interface Generated {
  manifest: Record<string, unknown>;
  /** With `lossy`: what was left out, each naming the key. */
  omitted: KubeIssue[];
}

type Obj = Record<string, unknown>;

function resources(l: Limits): Obj | undefined {
  const limits: Obj = {};
  if (l.cpuQuota !== undefined) limits.cpu = cpuQuantity(l.cpuQuota);
  if (l.memoryMax !== undefined) limits.memory = memoryQuantity(l.memoryMax);
  return Object.keys(limits).length ? { limits } : undefined;
}

/** Builds the manifest, or throws ClusterRefusal listing every key a cluster cannot take (unless `lossy`). */
export function generateManifest(spec: PodSpec, opts: { lossy?: boolean } = {}): Generated {
  const problems: KubeIssue[] = [];
  const refuse = (path: string, message: string) => problems.push({ file: spec.file, path, message });
  const annotations: Obj = {};
  const podSpec: Obj = {};

  if (spec.hostname !== spec.name) {
    if (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(spec.hostname) && spec.hostname.length <= 63) podSpec.hostname = spec.hostname;
    else refuse("hostname", `a Kubernetes hostname is one DNS label (no dots), found "${spec.hostname}"`);
  }
  const hostNs = { net: spec.hostNetwork, ipc: spec.hostIpc, uts: false } as const;
  for (const ns of ["net", "ipc", "uts"] as const) {
    if (!spec.share.includes(ns) && !hostNs[ns]) refuse("share", `a Kubernetes pod's containers always share the "${ns}" namespace; add "${ns}" to share`);
  }
  if (spec.hostNetwork) podSpec.hostNetwork = true;
  if (spec.hostIpc) podSpec.hostIPC = true;
  if (spec.hostPid) podSpec.hostPID = true;
  if (spec.share.includes("pid")) podSpec.shareProcessNamespace = true;
  if (spec.userns === "auto") podSpec.hostUsers = false;
  if (spec.network !== "bridge" && !spec.hostNetwork) annotations[NETWORK] = "private";
  if (spec.sandbox) annotations[SANDBOX] = spec.sandbox;
  if (spec.runtime) podSpec.runtimeClassName = spec.runtime;
  if (spec.install) annotations[WANTED_BY] = spec.install.wantedBy.join(",");
  const podRes = resources(spec.limits);
  if (podRes) podSpec.resources = podRes;
  if (spec.limits.tasksMax !== undefined) annotations[POD_TASKS_MAX] = String(spec.limits.tasksMax);

  const services = spec.members.filter((m) => m.kind === "service");
  const inits = spec.members.filter((m) => m.kind === "init");
  if (!services.length) refuse("containers", "a Kubernetes pod needs at least one container that is not an init container; add a member with kind = \"service\"");
  const policy = services[0]?.restart ?? "on-failure";
  for (const m of services) {
    if (m.restart !== policy) refuse(`containers.${m.name}.restart`, `Kubernetes has one restartPolicy per pod: '${services[0]!.name}' has "${policy}", '${m.name}' has "${m.restart}"`);
  }
  podSpec.restartPolicy = RESTART_POLICY[policy];
  // An init container is retried when the pod's policy restarts anything (Kubernetes' rule).
  const initRestart: RestartPolicy = policy === "no" ? "no" : "on-failure";
  const stops = new Set(spec.members.map((m) => m.stopTimeout));
  if (stops.size > 1) refuse("containers", "Kubernetes has one terminationGracePeriodSeconds per pod: give every member the same stop_timeout");
  const stop = [...stops][0];
  if (stop !== undefined && stops.size === 1) {
    if (stop % 1_000_000n === 0n) podSpec.terminationGracePeriodSeconds = Number(stop / 1_000_000n);
    else refuse("containers", "terminationGracePeriodSeconds is whole seconds: write stop_timeout in seconds");
  }

  const container = (m: MemberSpec): Obj[] => {
    const key = (k: string) => `containers.${m.name}.${k}`;
    if (m.image === undefined) {
      if (m.rootfs !== undefined) refuse(key("rootfs"), "a member with a rootfs cannot go to a cluster, which runs images, not directories of this host: build an image of its root and set image");
      else refuse(key("image"), "a member without an image runs on the host's file system, which a cluster does not have: set image");
      return [];
    }
    // Always written: a cluster's default for an untagged image is Always, podunit's is "missing".
    const c: Obj = { name: m.name, image: m.image, imagePullPolicy: PULL_POLICY[m.pull ?? "missing"] };
    const names = new Set(Object.keys(m.env));
    if (m.command.length) c.command = m.command.map((w) => escapeForKube(w, names));
    if (m.args !== undefined) c.args = m.args.map((w) => escapeForKube(w, names));
    const env = Object.entries(m.env);
    // A value may name the variables defined before it.
    if (env.length) c.env = env.map(([name, value], i) => ({ name, value: escapeForKube(value, new Set(env.slice(0, i).map(([n]) => n))) }));
    if (m.workdir !== undefined) c.workingDir = m.workdir;
    const sc: Obj = {};
    if (m.user !== undefined) {
      const u = /^(\d+)(?::(\d+))?$/.exec(m.user);
      if (!u) refuse(key("user"), `Kubernetes takes numeric ids only (runAsUser, runAsGroup), found "${m.user}"; write "UID[:GID]"`);
      else {
        sc.runAsUser = Number(u[1]);
        if (u[2] !== undefined) sc.runAsGroup = Number(u[2]);
      }
    }
    if (m.readonlyRootfs) sc.readOnlyRootFilesystem = true;
    sc.allowPrivilegeEscalation = m.noNewPrivileges === false;
    // The whole set, always: a cluster runtime's default set is wider than runc's, which members start from here.
    const caps = (m.capabilities ?? DEFAULT_CAPABILITIES).map((n) => n.slice("CAP_".length));
    sc.capabilities = { drop: ["ALL"], ...(caps.length ? { add: caps } : {}) };
    // Always written: without it a cluster runs a container unconfined.
    sc.seccompProfile = { type: m.seccomp === "unconfined" ? "Unconfined" : "RuntimeDefault" };
    c.securityContext = sc;
    if (m.mounts?.length) c.volumeMounts = mountsOf(m.mounts);
    if (m.health) Object.assign(c, probesOf(m.health, (k, message) => refuse(key(k), message)));
    const res = resources(m.limits);
    if (res) c.resources = res;
    if (m.limits.tasksMax !== undefined) annotations[memberKey("tasks-max", m.name)] = String(m.limits.tasksMax);
    if (m.restartSec !== undefined) refuse(key("restart_sec"), "a cluster restarts containers with its own back-off; leave restart_sec out");
    if (m.kind === "init" && m.restart !== initRestart) annotations[memberKey("restart", m.name)] = m.restart;
    // Kubernetes chooses a runtime per pod only (runtimeClassName): a member's own is podunit's annotation.
    if (m.runtime) annotations[memberKey("runtime", m.name)] = m.runtime;
    const byName = new Map(spec.members.map((x) => [x.name, x]));
    const badAfter = m.after.filter((a) => !(byName.get(a)?.kind === "init" && (m.kind === "service" || inits.indexOf(byName.get(a)!) < inits.indexOf(m))));
    if (badAfter.length) refuse(key("after"), `a cluster starts a pod's containers together; only init containers run in order (after names ${badAfter.map((a) => `'${a}'`).join(", ")})`);
    else if (m.after.length) annotations[memberKey("after", m.name)] = m.after.join(",");
    return [c];
  };

  if (inits.length) podSpec.initContainers = inits.flatMap(container);
  podSpec.containers = services.flatMap(container);
  if (spec.ports?.length) {
    const first = podSpec.containers as Obj[];
    if (first[0]) {
      first[0].ports = spec.ports.map((p) => ({
        containerPort: p.podPort,
        hostPort: p.hostPort,
        ...(p.hostIp !== undefined && isIpv4(p.hostIp) ? { hostIP: p.hostIp } : {}),
        protocol: p.protocol.toUpperCase(),
      }));
    }
  }

  if (spec.volumes?.length) podSpec.volumes = volumesOf(spec, annotations);

  if (problems.length && !opts.lossy) throw new ClusterRefusal(problems);
  // Even --lossy needs something to run.
  if (!(podSpec.containers as Obj[]).length) throw new ClusterRefusal([...problems, { file: spec.file, path: "containers", message: "nothing is left that a cluster can run" }]);
  const metadata: Obj = { name: spec.name };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  return { manifest: { apiVersion: "v1", kind: "Pod", metadata, spec: podSpec }, omitted: problems };
}
