/** The sandbox unit: the process that makes and holds the pod's namespaces (native, or a container of crun or runc). */
import type { ExecCommand, UnitProperty } from "../systemd/properties.ts";
import { containerCgroup, forgetContainer, pidHandOff, RUNTIME_INIT_COMM, type Runtime, sandboxRuntime } from "./runtime.ts";
import { unitCgroup } from "../systemd/unitname.ts";
import { type Ctx, exec, IGNORE, prop } from "./builder.ts";
import { sandboxContainerId } from "./layout.ts";
import { configJson, type OciNamespace, sandboxConfig } from "./oci.ts";
import type { Pin, PlannedFile, SandboxReady } from "./types.ts";

/**
 * The pod's run directory and its ns/ below, relative to /run, when they are there:
 * then systemd creates them before the sandbox starts and removes them after it
 * stops (RuntimeDirectory=), with no process spawned for either.
 */
function runtimeDirectories(c: Ctx): string[] | undefined {
  const under = (p: string) => (p.startsWith("/run/") ? p.slice("/run/".length) : undefined);
  const dir = under(c.layout.dir);
  const ns = under(c.layout.nsDir);
  return dir !== undefined && ns !== undefined ? [dir, ns] : undefined;
}

/** Outside /run (no RuntimeDirectory=), the run directory goes when the sandbox stops. */
function stopCleanup(c: Ctx): ExecCommand[] {
  return runtimeDirectories(c) ? [] : [exec(c.host.paths.rm, ["-rf", "--one-file-system", c.layout.dir], IGNORE)];
}

function sandboxCommon(c: Ctx): UnitProperty[] {
  const runtime = runtimeDirectories(c);
  return [
    ...(runtime ? [prop("RuntimeDirectory", runtime)] : []),
    prop("Description", `Pod '${c.spec.name}' sandbox (${c.backend})`),
    prop("Slice", c.slice),
    prop("KillMode", "control-group"),
    prop("StandardOutput", "journal"),
    prop("StandardError", "journal"),
    // "sandbox" is not a valid member name, so `podunit logs POD sandbox` cannot be ambiguous.
    prop("SyslogIdentifier", `${c.spec.name}/sandbox`),
    prop("LogExtraFields", [`PODUNIT_POD=${c.spec.name}`, `PODUNIT_MEMBER=sandbox`]),
  ];
}

/**
 * Native sandbox: `unshare` makes the namespaces in the main process itself and
 * executes catatonit, which holds them (with a PID namespace, unshare forks and
 * catatonit is its first child, the namespace's init). Nothing else runs in the
 * unit: naming the pod, its loopback and the pins are the ready step's
 * (SandboxReady), done from outside once the namespaces exist.
 */
export function nativeSandbox(c: Ctx): UnitProperty[] {
  const { paths } = c.host;
  let main: string[] = [paths.catatonit, "-P"];
  if (c.pinned.includes("pid")) main = ["--fork", "--kill-child", "--", ...main];
  else if (c.pinned.length) main = ["--", ...main];
  if (c.pinned.length) main = [paths.unshare, ...c.pinned.map((ns) => `--${ns}`), ...main];
  const cleanup = stopCleanup(c);
  return [
    ...sandboxCommon(c),
    prop("Type", "exec"),
    prop("ExecStartEx", [exec(main[0]!, main.slice(1))]),
    ...(cleanup.length ? [prop("ExecStopPostEx", cleanup)] : []),
  ];
}

/** How the sandbox is made ready (see SandboxReady) with the plan's `pins`; undefined when nothing is to be done. */
export function sandboxReady(c: Ctx, pins: Pin[]): SandboxReady | undefined {
  // The runtime's init must have become catatonit before a stop can work (see 'podunit internal ready').
  const rt = sandboxRuntime(c);
  if (rt !== undefined) {
    const { runtimePidFile } = pidHandOff(c, rt, c.layout.sandboxPidFile, true);
    return { unit: c.sandbox, holder: "main", launcher: RUNTIME_INIT_COMM[rt.name], pidFile: runtimePidFile, loopback: false, pins };
  }
  if (!pins.length) return undefined;
  return {
    unit: c.sandbox,
    holder: c.pinned.includes("pid") ? "child" : "main",
    launcher: "unshare",
    ...(c.pinned.includes("uts") ? { hostname: c.spec.hostname } : {}),
    loopback: c.pinned.includes("net"),
    pins,
  };
}

/** Runtime sandbox: `crun|runc run -d` under a forking service; pins bound from its PID after it is up. */
export function runtimeSandbox(c: Ctx, rt: Runtime, files: PlannedFile[], dirs: string[]): UnitProperty[] {
  const { paths } = c.host;
  const id = sandboxContainerId(c.spec.name);
  const bundle = c.layout.sandboxBundle;
  const rootfs = `${bundle}/rootfs`;
  // The user namespace first: runc then makes the others inside it, owned by it, so members
  // in it may mount a /proc of the pod's PID namespace and a /sys of its network namespace.
  const namespaces: OciNamespace[] = [...(c.userns ? [{ type: "user" } as const] : []), { type: "pid" }];
  if (!c.spec.hostNetwork) namespaces.push({ type: "network" });
  if (!c.spec.hostIpc) namespaces.push({ type: "ipc" });
  namespaces.push({ type: "uts" }, { type: "mount" });
  const config = sandboxConfig({
    rootfs,
    catatonit: paths.catatonit,
    hostname: c.pinned.includes("uts") ? c.spec.hostname : undefined,
    namespaces,
    cgroupsPath: containerCgroup(c, unitCgroup(c.spec.name, c.sandbox), "sandbox"),
    ...(c.userns ? { userns: c.userns } : {}),
  });
  dirs.push(bundle, rootfs);
  files.push({ path: `${bundle}/config.json`, mode: 0o600, content: configJson(config) });
  const pidFile = c.layout.sandboxPidFile;
  const handOff = pidHandOff(c, rt, pidFile, true);
  return [
    ...sandboxCommon(c),
    prop("Delegate", true),
    prop("Type", "forking"),
    prop("PIDFile", pidFile),
    prop("ExecStartEx", [exec(rt.path, ["run", "-d", "--pid-file", handOff.runtimePidFile, "--bundle", bundle, id])]),
    ...(handOff.post.length ? [prop("ExecStartPostEx", handOff.post)] : []),
    prop("ExecStopPostEx", [forgetContainer(c, rt, id), ...stopCleanup(c)]),
  ];
}
