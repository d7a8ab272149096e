/**
 * spec + host facts → Plan. Pure: the same inputs give the same plan, with no
 * I/O. The unit layout and why it looks this way: docs/design-decisions.md.
 */
import { PodunitError, SpecError } from "../errors.ts";
import type { MemberSpec, Namespace, PodSpec, SandboxBackend } from "../spec/types.ts";
import {
  type ExecCommand,
  type ExecFlag,
  type PropertyKey,
  type PropertyValues,
  type UnitProperty,
  propertySince,
  sortProperties,
} from "../systemd/properties.ts";
import { memberUnitName, podSliceName, podTargetName, sandboxUnitName, unitCgroup, podSliceCgroup } from "../systemd/unitname.ts";
import { PodLayout, runcId, sandboxRuncId } from "./layout.ts";
import { configJson, memberConfig, type OciNamespace, type OciNamespaceType, sandboxConfig } from "./oci.ts";
import { orderMembers } from "./order.ts";
import type { HostFacts, Pin, Plan, PlannedFile, PlannedUnit, Stage } from "./types.ts";

/** Namespaces in the order flags and pins are written. */
const NS_ORDER: readonly Namespace[] = ["net", "ipc", "uts", "pid"];
const OCI_TYPE: Record<Namespace, OciNamespaceType> = { net: "network", ipc: "ipc", uts: "uts", pid: "pid" };

function prop<K extends PropertyKey>(key: K, value: PropertyValues[K]): UnitProperty {
  return { key, value } as UnitProperty;
}

/** A command whose argv[0] is its path; `flags` default to no `$` expansion. */
function exec(path: string, args: string[], flags: ExecFlag[] = ["no-env-expand"]): ExecCommand {
  return { path, argv: [path, ...args], flags };
}

const IGNORE: ExecFlag[] = ["ignore-failure", "no-env-expand"];

/** Percent of one CPU → microseconds per second, rounded to what CPUQuota= can write (0.01%). */
function cpuQuotaUsec(percent: number): bigint {
  return BigInt(Math.round(percent * 100)) * 100n;
}

function limitProps(l: PodSpec["limits"]): UnitProperty[] {
  const out: UnitProperty[] = [];
  if (l.memoryMax !== undefined) out.push(prop("MemoryMax", l.memoryMax));
  if (l.cpuQuota !== undefined) out.push(prop("CPUQuotaPerSecUSec", cpuQuotaUsec(l.cpuQuota)));
  if (l.tasksMax !== undefined) out.push(prop("TasksMax", l.tasksMax));
  return out;
}

interface Ctx {
  spec: PodSpec;
  host: HostFacts;
  layout: PodLayout;
  backend: SandboxBackend;
  /** Namespaces the sandbox holds and pins (shared and not taken from the host). */
  pinned: Namespace[];
  slice: string;
  sandbox: string;
}

function chooseBackend(spec: PodSpec, host: HostFacts): SandboxBackend {
  const backend = spec.sandbox ?? (host.paths.runc !== undefined ? "runc" : "native");
  if (backend === "runc" && host.paths.runc === undefined) {
    throw new PodunitError(`Failed to plan pod '${spec.name}': the runc sandbox backend was asked for, but runc is not installed.`, {
      hint: "Install runc (Debian: apt-get install runc), or use the native backend (sandbox = \"native\" or --backend native).",
    });
  }
  return backend;
}

function pinnedNamespaces(spec: PodSpec): Namespace[] {
  const fromHost: Record<Namespace, boolean> = { net: spec.hostNetwork, ipc: spec.hostIpc, uts: false, pid: spec.hostPid };
  return NS_ORDER.filter((ns) => spec.share.includes(ns) && !fromHost[ns]);
}

/** `--net=PIN --ipc=PIN ...` for nsenter or unshare. */
function nsFlags(c: Ctx, namespaces: readonly Namespace[]): string[] {
  return namespaces.map((ns) => `--${ns}=${c.layout.pin(ns)}`);
}

function stopCleanup(c: Ctx): ExecCommand[] {
  const { paths } = c.host;
  return [
    ...c.pinned.map((ns) => exec(paths.umount, [c.layout.pin(ns)], IGNORE)),
    exec(paths.rm, ["-rf", "--one-file-system", c.layout.dir], IGNORE),
  ];
}

function preparePins(c: Ctx): ExecCommand[] {
  const { paths } = c.host;
  return [exec(paths.mkdir, ["-p", c.layout.nsDir]), ...(c.pinned.length ? [exec(paths.touch, c.pinned.map((ns) => c.layout.pin(ns)))] : [])];
}

function sandboxCommon(c: Ctx): UnitProperty[] {
  return [
    prop("Description", `Pod '${c.spec.name}' sandbox (${c.backend})`),
    prop("Slice", c.slice),
    prop("CollectMode", "inactive-or-failed"),
    prop("KillMode", "control-group"),
    prop("SyslogIdentifier", `${c.spec.name}/sandbox`),
    prop("LogExtraFields", [`PODUNIT_POD=${c.spec.name}`]),
  ];
}

/**
 * Native sandbox. The namespaces are made and pinned by `unshare` in
 * ExecStartPre, which finishes before ExecStart: with Type=exec the unit is
 * "started" as soon as the first binary is executed, so pins made by the main
 * process itself could still be missing when ExecStartPost or a member runs.
 */
function nativeSandbox(c: Ctx): UnitProperty[] {
  const { paths } = c.host;
  const early = c.pinned.filter((ns) => ns !== "pid");
  const setup: string[][] = [];
  if (early.includes("uts")) setup.push([paths.hostname, c.spec.hostname]);
  if (early.includes("net")) setup.push([paths.ip, "link", "set", "lo", "up"]);
  const pre = preparePins(c);
  if (early.length) {
    const [first, ...rest] = setup.length ? setup : [[paths.mkdir, "-p", c.layout.nsDir]];
    pre.push(exec(paths.unshare, [...nsFlags(c, early), "--", ...first!]));
    for (const s of rest) pre.push(exec(paths.nsenter, [...nsFlags(c, ["net"]), "--", ...s]));
  }
  let main: string[] = [paths.catatonit, "-P"];
  if (c.pinned.includes("pid")) main = [paths.unshare, ...nsFlags(c, ["pid"]), "--fork", "--kill-child", "--", ...main];
  if (early.length) main = [paths.nsenter, ...nsFlags(c, early), "--", ...main];
  return [
    ...sandboxCommon(c),
    prop("Type", "exec"),
    prop("ExecStartPreEx", pre),
    prop("ExecStartEx", [exec(main[0]!, main.slice(1))]),
    prop("ExecStopPostEx", stopCleanup(c)),
  ];
}

/** runc sandbox: `runc run -d` under a forking service; pins bound from its PID after it is up. */
function runcSandbox(c: Ctx, files: PlannedFile[], dirs: string[]): UnitProperty[] {
  const { paths } = c.host;
  const runc = paths.runc!;
  const id = sandboxRuncId(c.spec.name);
  const bundle = c.layout.sandboxBundle;
  const rootfs = `${bundle}/rootfs`;
  const namespaces: OciNamespace[] = [{ type: "pid" }];
  if (!c.spec.hostNetwork) namespaces.push({ type: "network" });
  if (!c.spec.hostIpc) namespaces.push({ type: "ipc" });
  namespaces.push({ type: "uts" }, { type: "mount" });
  const config = sandboxConfig({
    rootfs,
    catatonit: paths.catatonit,
    hostname: c.pinned.includes("uts") ? c.spec.hostname : undefined,
    namespaces,
    cgroupsPath: `${unitCgroup(c.spec.name, c.sandbox)}/sandbox`,
  });
  dirs.push(bundle, rootfs);
  files.push({ path: `${bundle}/config.json`, mode: 0o600, content: configJson(config) });
  const pidFile = c.layout.sandboxPidFile;
  return [
    ...sandboxCommon(c),
    prop("Delegate", true),
    prop("Type", "forking"),
    prop("PIDFile", pidFile),
    prop("ExecStartPreEx", [exec(runc, ["delete", "-f", id], IGNORE), ...preparePins(c)]),
    prop("ExecStartEx", [exec(runc, ["run", "-d", "--pid-file", pidFile, "--bundle", bundle, id])]),
    // ${MAINPID} must be expanded here: these commands keep environment expansion on.
    prop(
      "ExecStartPostEx",
      c.pinned.map((ns) => exec(paths.mount, ["--bind", `/proc/\${MAINPID}/ns/${ns}`, c.layout.pin(ns)], [])),
    ),
    prop("ExecStopPostEx", [exec(runc, ["delete", "-f", id], IGNORE), ...stopCleanup(c)]),
  ];
}

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
    prop("CollectMode", "inactive-or-failed"),
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

interface MemberOrderInfo {
  /** Init members that run before this one (all of them, for service members). */
  initsBefore: string[];
}

/**
 * A member on the host's file system: systemd runs the command, through nsenter
 * when it joins pod namespaces. nsenter needs root, so the user switch comes
 * after it: a numeric user through setpriv (no passwd entry needed, as with
 * runc); a user name through systemd's User=, keeping only CAP_SYS_ADMIN for
 * nsenter, which setpriv then drops before the command runs.
 */
function hostMember(c: Ctx, m: MemberSpec, order: MemberOrderInfo): UnitProperty[] {
  const { paths } = c.host;
  const props = memberCommon(c, m, order);
  if (m.kind !== "init") props.push(prop("Type", "exec"));
  const wrap = c.pinned.length ? [paths.nsenter, ...nsFlags(c, c.pinned), "--"] : [];
  let argv: string[];
  const numeric = m.user === undefined ? undefined : numericUser(m.user);
  if (numeric) {
    argv = [...wrap, paths.setpriv, `--reuid=${numeric.uid}`, `--regid=${numeric.gid}`, "--clear-groups", "--", ...m.command];
  } else if (m.user !== undefined && wrap.length) {
    props.push(prop("User", m.user), prop("AmbientCapabilities", ["CAP_SYS_ADMIN"]));
    argv = [...wrap, paths.setpriv, "--inh-caps=-all", "--ambient-caps=-all", "--", ...m.command];
  } else {
    if (m.user !== undefined) props.push(prop("User", m.user));
    if (wrap.length) argv = [...wrap, ...m.command];
    else argv = m.command[0]!.startsWith("/") ? m.command : [paths.env, "--", ...m.command];
  }
  props.push(prop("ExecStartEx", [exec(argv[0]!, argv.slice(1))]));
  const env = Object.entries(m.env).map(([k, v]) => `${k}=${v}`);
  if (env.length) props.push(prop("Environment", env));
  if (m.workdir !== undefined) props.push(prop("WorkingDirectory", m.workdir));
  props.push(prop("NoNewPrivileges", true));
  return props;
}

/** A member with a rootfs: runc under a forking service, its container cgroup nested below the unit's. */
function rootfsMember(c: Ctx, m: MemberSpec, order: MemberOrderInfo, files: PlannedFile[], dirs: string[]): UnitProperty[] {
  const { paths } = c.host;
  if (paths.runc === undefined) {
    throw new PodunitError(`Failed to plan pod '${c.spec.name}': member '${m.name}' has a rootfs, which needs runc, and runc is not installed.`, {
      hint: "Install runc (Debian: apt-get install runc).",
    });
  }
  const runc = paths.runc;
  const user = m.user === undefined ? { uid: 0, gid: 0 } : numericUser(m.user);
  if (!user) throw userIssue(c, m, "for a member with a rootfs (names cannot be looked up in its file system)");
  const unit = memberUnitName(c.spec.name, m.name);
  const id = runcId(c.spec.name, m.name);
  const bundle = c.layout.memberBundle(m.name);
  const fromHost: Record<Namespace, boolean> = { net: c.spec.hostNetwork, ipc: c.spec.hostIpc, uts: false, pid: c.spec.hostPid };
  const namespaces: OciNamespace[] = [];
  for (const ns of NS_ORDER) {
    if (fromHost[ns]) continue;
    namespaces.push(c.pinned.includes(ns) ? { type: OCI_TYPE[ns], path: c.layout.pin(ns) } : { type: OCI_TYPE[ns] });
  }
  namespaces.push({ type: "mount" });
  const ownPidNs = !c.spec.hostPid && !c.pinned.includes("pid");
  const config = memberConfig({
    rootfs: m.rootfs!,
    readonly: m.readonlyRootfs,
    command: m.command,
    env: m.env,
    cwd: m.workdir,
    uid: user.uid,
    gid: user.gid,
    init: ownPidNs ? paths.catatonit : undefined,
    namespaces,
    cgroupsPath: `${unitCgroup(c.spec.name, unit)}/ctr`,
  });
  dirs.push(bundle);
  files.push({ path: `${bundle}/config.json`, mode: 0o600, content: configJson(config) });

  const props = memberCommon(c, m, order);
  props.push(prop("Delegate", true));
  props.push(prop("ExecStartPreEx", [exec(runc, ["delete", "-f", id], IGNORE)]));
  if (m.kind === "init") {
    // Runs to completion in the foreground; the oneshot unit waits for it.
    props.push(prop("ExecStartEx", [exec(runc, ["run", "--bundle", bundle, id])]));
  } else {
    const pidFile = c.layout.memberPidFile(m.name);
    props.push(
      prop("Type", "forking"),
      prop("PIDFile", pidFile),
      prop("ExecStartEx", [exec(runc, ["run", "-d", "--pid-file", pidFile, "--bundle", bundle, id])]),
      // runc's init exits 143 on SIGTERM; without this a clean stop ends failed.
      prop("SuccessExitStatus", { statuses: [143], signals: ["SIGTERM"] }),
    );
  }
  props.push(prop("ExecStopPostEx", [exec(runc, ["delete", "-f", id], IGNORE)]));
  return props;
}

function unit(name: string, type: PlannedUnit["type"], role: PlannedUnit["role"], cgroup: string, props: UnitProperty[], m?: MemberSpec): PlannedUnit {
  const keys = new Set<string>();
  for (const p of props) {
    if (keys.has(p.key)) throw new Error(`Property '${p.key}' planned twice for '${name}'`);
    keys.add(p.key);
  }
  return { name, type, role, ...(m ? { member: m.name, kind: m.kind } : {}), cgroup, properties: sortProperties(props) };
}

/** Turns a validated pod spec into a plan for this host. */
export function plan(spec: PodSpec, host: HostFacts): Plan {
  const layout = new PodLayout(host.runDir, spec.name);
  const c: Ctx = {
    spec,
    host,
    layout,
    backend: chooseBackend(spec, host),
    pinned: pinnedNamespaces(spec),
    slice: podSliceName(spec.name),
    sandbox: sandboxUnitName(spec.name),
  };
  const files: PlannedFile[] = [];
  const dirs: string[] = [layout.dir];

  const slice = unit(c.slice, "slice", "slice", podSliceCgroup(spec.name), [
    prop("Description", `Pod '${spec.name}'`),
    ...limitProps(spec.limits),
  ]);
  const sandboxProps = c.backend === "runc" ? runcSandbox(c, files, dirs) : nativeSandbox(c);
  const sandbox = unit(c.sandbox, "service", "sandbox", unitCgroup(spec.name, c.sandbox), sandboxProps);

  const order = orderMembers(spec);
  const initNames = order.inits.map((m) => m.name);
  if (spec.members.some((m) => m.rootfs !== undefined)) dirs.push(`${layout.dir}/bundles`);
  const members = spec.members.map((m) => {
    const info: MemberOrderInfo = { initsBefore: m.kind === "init" ? initNames.slice(0, initNames.indexOf(m.name)) : initNames };
    const name = memberUnitName(spec.name, m.name);
    const props = m.rootfs !== undefined ? rootfsMember(c, m, info, files, dirs) : hostMember(c, m, info);
    return unit(name, "service", "member", unitCgroup(spec.name, name), props, m);
  });

  const unitOf = (m: MemberSpec) => memberUnitName(spec.name, m.name);
  const stages: Stage[] = [
    { kind: "slice", units: [slice.name] },
    { kind: "sandbox", units: [sandbox.name] },
    ...order.inits.map((m): Stage => ({ kind: "init", units: [unitOf(m)] })),
    ...order.waves.map((w): Stage => ({ kind: "members", units: w.map(unitOf) })),
  ];

  const target = {
    name: podTargetName(spec.name),
    properties: sortProperties([prop("Description", `Pod '${spec.name}'`), prop("Wants", [sandbox.name, ...members.map((u) => u.name)])]),
    wantedBy: spec.install?.wantedBy ?? [],
  };

  const all = [slice, sandbox, ...members, target];
  let requiresSystemd = 0;
  let needs = "";
  for (const u of all) {
    for (const p of u.properties) {
      const v = propertySince(p);
      if (v > requiresSystemd) [requiresSystemd, needs] = [v, `${p.key} on ${u.name}`];
    }
  }
  if (host.systemdVersion < requiresSystemd) {
    throw new PodunitError(
      `Failed to plan pod '${spec.name}': it needs systemd ${requiresSystemd} or later (for ${needs}), and this host runs systemd ${host.systemdVersion}.`,
    );
  }

  const pins: Pin[] = c.pinned.map((ns) => ({ ns, path: layout.pin(ns) }));
  return {
    pod: spec.name,
    file: spec.file,
    backend: c.backend,
    systemdVersion: host.systemdVersion,
    cgroupMode: host.cgroupMode,
    requiresSystemd,
    runDir: layout.dir,
    slice,
    sandbox,
    members,
    target,
    stages,
    pins,
    directories: dirs,
    files,
  };
}

/** Every unit podunit starts for the plan, in start order of their kinds (slice, sandbox, members). */
export function planUnits(p: Plan): PlannedUnit[] {
  return [p.slice, p.sandbox, ...p.members];
}
