/** Member units: host-file-system members through nsenter, rootfs and image members through an OCI runtime (crun or runc). */
import { PodunitError, SpecError } from "../errors.ts";
import { containerCgroup, forgetContainer, memberRuntime, pidHandOff, RUNTIME_INIT_COMM } from "./runtime.ts";
import type { MemberSpec, Namespace, OciRuntime } from "../podspec/types.ts";
import type { UnitProperty } from "../systemd/properties.ts";
import { memberUnitName, unitCgroup } from "../systemd/unitname.ts";
import { type Ctx, exec, limitProps, NS_ORDER, nsFlags, OCI_TYPE, prop } from "./builder.ts";
import { containerId } from "./layout.ts";
import { configJson, memberConfig, type MemberProcess, type OciNamespace } from "./oci.ts";
import { DEFAULT_CAPABILITIES } from "../podspec/capabilities.ts";
import { imageMemberConfig } from "./image.ts";
import { SIGNALS } from "../systemd/numbers.ts";
import { ociSeccomp, seccompProperties } from "./seccomp.ts";
import type { ContainerWait, ImageFacts, PlannedFile, PlannedImage } from "./types.ts";
import { hostMountProps, ociVolumeMounts } from "./volumes.ts";

/** `uid[:gid]` → numbers (gid defaults to uid); undefined for user names. */
function numericUser(user: string): { uid: number; gid: number } | undefined {
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m) return undefined;
  const uid = Number(m[1]);
  return { uid, gid: m[2] !== undefined ? Number(m[2]) : uid };
}

function userIssue(c: Ctx, m: MemberSpec, why: string): SpecError {
  return new SpecError([
    { file: c.spec.file, path: `containers.${m.name}.user`, message: `expected a numeric 'uid[:gid]' ${why}, found '${m.user}'` },
  ]);
}

/** Properties every member unit has, whatever runs it. */
function memberCommon(c: Ctx, m: MemberSpec, order: MemberOrderInfo): UnitProperty[] {
  const deps = [...order.initsBefore, ...m.after.filter((a) => !order.initsBefore.includes(a))].map((a) => memberUnitName(c.spec.name, a));
  const props: UnitProperty[] = [
    prop("Description", `Pod '${c.spec.name}' ${m.kind === "init" ? "init member" : "member"} '${m.name}'`),
    prop("After", [c.sandbox, ...deps]),
    prop("BindsTo", [c.sandbox]),
    prop("Slice", c.slice),
    ...limitProps(m.limits),
    prop("Restart", m.restart),
    prop("KillMode", "control-group"),
    prop("StandardOutput", "journal"),
    prop("StandardError", "journal"),
    prop("SyslogIdentifier", `${c.spec.name}/${m.name}`),
    prop("LogExtraFields", [`PODUNIT_POD=${c.spec.name}`, `PODUNIT_MEMBER=${m.name}`]),
  ];
  if (order.initsBefore.length) props.push(prop("Requires", order.initsBefore.map((a) => memberUnitName(c.spec.name, a))));
  if (m.kind === "init") props.push(prop("Type", "oneshot"), prop("RemainAfterExit", true));
  if (m.restartSec !== undefined) props.push(prop("RestartUSec", m.restartSec));
  if (m.stopTimeout !== undefined) props.push(prop("TimeoutStopUSec", m.stopTimeout));
  return props;
}

export interface MemberOrderInfo {
  /** Init members that run before this one (all of them, for service members). */
  initsBefore: string[];
}

/** A member's capabilities: its spec's `capabilities`, or runc's default set. */
function capabilitiesOf(m: MemberSpec): readonly string[] {
  return m.capabilities ?? DEFAULT_CAPABILITIES;
}

/**
 * A host member's capability bounding set in setpriv's form (`-all,+kill,...`):
 * the same set a rootfs member gets from runc, by default runc's own
 * (CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE). Without CAP_SYS_ADMIN a
 * member cannot rename the pod (sethostname), mount, or enter other namespaces.
 */
export function boundingSet(caps: readonly string[]): string {
  return ["-all", ...caps.map((c) => `+${c.slice("CAP_".length).toLowerCase()}`)].join(",");
}

/**
 * A member on the host's file system: systemd runs the command, through nsenter
 * when it joins pod namespaces. nsenter needs root (CAP_SYS_ADMIN), so setpriv
 * comes after it and before the command: it narrows the bounding set to runc's
 * default capabilities, clears the inheritable set and switches to a numeric
 * user. A user name goes through systemd's User= instead (systemd resolves the
 * name, groups and HOME), keeping as ambient capabilities only what nsenter and
 * setpriv need (reach the pins, enter namespaces, drop capabilities), which
 * setpriv drops again. No mount namespace of its own (see docs/security.md on
 * root members and cgroups): it would cost every start a copy of the host's
 * mount table.
 */
export function hostMember(c: Ctx, m: MemberSpec, order: MemberOrderInfo): UnitProperty[] {
  const { paths } = c.host;
  const props = memberCommon(c, m, order);
  if (m.kind !== "init") props.push(prop("Type", "exec"));
  const wrap = c.pinned.length ? [paths.nsenter, ...nsFlags(c, c.pinned), "--"] : [];
  const drop = [`--bounding-set=${boundingSet(capabilitiesOf(m))}`, "--inh-caps=-all"];
  const numeric = m.user === undefined ? undefined : numericUser(m.user);
  let setpriv: string[];
  if (numeric) {
    setpriv = [`--reuid=${numeric.uid}`, `--regid=${numeric.gid}`, "--clear-groups", ...drop];
  } else if (m.user !== undefined) {
    // CAP_DAC_READ_SEARCH reaches the pins below the root-only run directory; CAP_SYS_PTRACE
    // follows them into the sandbox's /proc/PID/ns (another user's process); CAP_SYS_ADMIN
    // enters the namespaces; CAP_SETPCAP lets setpriv narrow the bounding set.
    const ambient = wrap.length ? ["CAP_DAC_READ_SEARCH", "CAP_SETPCAP", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE"] : ["CAP_SETPCAP"];
    props.push(prop("User", m.user), prop("AmbientCapabilities", ambient));
    setpriv = [...drop, "--ambient-caps=-all"];
  } else {
    setpriv = drop;
  }
  // setpriv finds a command without a '/' through PATH.
  const argv = [...wrap, paths.setpriv, ...setpriv, "--", ...m.command];
  props.push(prop("ExecStartEx", [exec(argv[0]!, argv.slice(1))]));
  const env = Object.entries(m.env).map(([k, v]) => `${k}=${v}`);
  if (env.length) props.push(prop("Environment", env));
  if (m.workdir !== undefined) props.push(prop("WorkingDirectory", m.workdir));
  props.push(prop("NoNewPrivileges", m.noNewPrivileges !== false));
  if (m.seccomp !== "unconfined") props.push(...seccompProperties());
  props.push(...hostMountProps(c.volumes, m.mounts));
  return props;
}

/** A member's process under its runtime, and the signal a stop sends it first (SIGTERM unless an image says otherwise). */
export type ContainerProcess = MemberProcess & { stopSignal: string };

/** Where a member's container goes in the plan. */
export interface ContainerOut {
  files: PlannedFile[];
  dirs: string[];
  waits: ContainerWait[];
  /** Each container member's runtime, by member name. */
  runtimes: Map<string, OciRuntime>;
  /** Each container member's PID file as its runtime writes it, by member name (its ExecStartPost= steps read it). */
  pidFiles: Map<string, string>;
}

/** A member with a rootfs: its runtime under a forking service, its container cgroup nested below the unit's. */
export function rootfsMember(c: Ctx, m: MemberSpec, order: MemberOrderInfo, out: ContainerOut): UnitProperty[] {
  const user = m.user === undefined ? { uid: 0, gid: 0 } : numericUser(m.user);
  if (!user) throw userIssue(c, m, "for a member with a rootfs (names cannot be looked up in its file system)");
  const run: ContainerProcess = {
    rootfs: m.rootfs!,
    readonly: m.readonlyRootfs,
    command: m.command,
    env: m.env,
    ...(m.workdir !== undefined ? { cwd: m.workdir } : {}),
    ...user,
    stopSignal: "SIGTERM",
  };
  return containerMember(c, m, order, out, run);
}

/**
 * A member whose root is made from an image (PlannedImage: the layers as lower
 * directories, a writable layer of its own unless read-only); otherwise a rootfs
 * member, with the command, environment, directory, user and stop signal
 * resolved against the image's config.
 */
export function imageMember(c: Ctx, m: MemberSpec, order: MemberOrderInfo, out: ContainerOut, facts: ImageFacts | undefined, images: PlannedImage[]): UnitProperty[] {
  if (facts === undefined) {
    throw new PodunitError(`Failed to plan pod '${c.spec.name}': member '${m.name}' runs image '${m.image}', which was not looked up before planning.`, {
      hint: "This is a bug in podunit: the image should have been found in the store, or refused, before planning.",
    });
  }
  const config = imageMemberConfig(c.spec, m, facts);
  const target = c.layout.memberRoot(m.name);
  const layers = c.layout.memberLayers(m.name);
  images.push({
    member: m.name,
    unit: memberUnitName(c.spec.name, m.name),
    image: m.image!,
    manifestDigest: facts.manifestDigest,
    lowerdirs: [...facts.layers].reverse(),
    ...(m.readonlyRootfs ? {} : { upper: `${layers}/upper`, work: `${layers}/work` }),
    target,
    ...(c.userns ? { idmap: { userns: c.layout.pin("user"), dir: c.layout.memberIdmap(m.name) } } : {}),
    store: facts.store,
    config,
  });
  const run: ContainerProcess = {
    rootfs: target,
    readonly: m.readonlyRootfs,
    command: config.command.value,
    env: Object.fromEntries(config.env.map((e) => [e.name, e.value])),
    cwd: config.workdir.value,
    uid: config.user.value.uid,
    gid: config.user.value.gid,
    stopSignal: config.stopSignal.value,
  };
  return containerMember(c, m, order, out, run);
}

function containerMember(c: Ctx, m: MemberSpec, order: MemberOrderInfo, out: ContainerOut, run: ContainerProcess): UnitProperty[] {
  const { files, dirs, waits } = out;
  const { paths } = c.host;
  const rt = memberRuntime(c.spec, m, c.host, c.keptRuntimes.get(m.name));
  out.runtimes.set(m.name, rt.name);
  const unit = memberUnitName(c.spec.name, m.name);
  const id = containerId(c.spec.name, m.name);
  const bundle = c.layout.memberBundle(m.name);
  const fromHost: Record<Namespace, boolean> = { net: c.spec.hostNetwork, ipc: c.spec.hostIpc, uts: false, pid: c.spec.hostPid };
  const namespaces: OciNamespace[] = [];
  for (const ns of NS_ORDER) {
    if (fromHost[ns]) continue;
    namespaces.push(c.pinned.includes(ns) ? { type: OCI_TYPE[ns], path: c.layout.pin(ns) } : { type: OCI_TYPE[ns] });
  }
  namespaces.push({ type: "mount" });
  if (c.userns) namespaces.unshift({ type: "user", path: c.layout.pin("user") });
  const ownPidNs = !c.spec.hostPid && !c.pinned.includes("pid");
  const { stopSignal: _signal, ...process } = run;
  const config = memberConfig({
    ...process,
    noNewPrivileges: m.noNewPrivileges !== false,
    capabilities: capabilitiesOf(m),
    init: ownPidNs ? paths.catatonit : undefined,
    namespaces,
    cgroupsPath: containerCgroup(c, unitCgroup(c.spec.name, unit), "ctr"),
    ...(m.seccomp !== "unconfined" ? { seccomp: ociSeccomp() } : {}),
    ...(m.mounts ? { volumes: ociVolumeMounts(c.volumes, m.mounts) } : {}),
    ...(c.userns ? { userns: c.userns } : {}),
  });
  dirs.push(bundle);
  files.push({ path: `${bundle}/config.json`, mode: 0o600, content: configJson(config) });

  const props = memberCommon(c, m, order);
  props.push(prop("Delegate", true));
  if (m.kind === "init") {
    // Runs to completion in the foreground; the oneshot unit waits for it.
    props.push(prop("ExecStartEx", [exec(rt.path, ["run", "--bundle", bundle, id])]));
  } else {
    const pidFile = c.layout.memberPidFile(m.name);
    // Without a PID namespace of its own the container has no catatonit: its first process may be alone.
    const handOff = pidHandOff(c, rt, pidFile, !ownPidNs);
    out.pidFiles.set(m.name, handOff.runtimePidFile);
    // With its own PID namespace, the container's first process loses a SIGTERM sent before
    // catatonit runs: the member counts as started after that (Plan.containerWaits).
    if (ownPidNs) waits.push({ unit, pidFile: handOff.runtimePidFile, launcher: RUNTIME_INIT_COMM[rt.name] });
    props.push(
      prop("Type", "forking"),
      prop("PIDFile", pidFile),
      prop("ExecStartEx", [exec(rt.path, ["run", "-d", "--pid-file", handOff.runtimePidFile, "--bundle", bundle, id])]),
      ...(handOff.post.length ? [prop("ExecStartPostEx", handOff.post)] : []),
      // The container's init exits 143 on SIGTERM (128 + the signal); without this a clean stop ends failed.
      prop("SuccessExitStatus", stopStatus(run.stopSignal)),
    );
  }
  if (run.stopSignal !== "SIGTERM") props.push(prop("KillSignal", run.stopSignal));
  props.push(prop("ExecStopPostEx", [forgetContainer(c, rt, id)]));
  return props;
}

/** A clean stop by SIGTERM or by the member's own stop signal. */
function stopStatus(signal: string): { statuses: number[]; signals: string[] } {
  const extra = signal === "SIGTERM" ? [] : [signal];
  return { statuses: [143, ...extra.map((s) => 128 + SIGNALS[s]!)], signals: ["SIGTERM", ...extra] };
}
