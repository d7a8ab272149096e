/** The sandbox unit: the process that makes and holds the pod's namespaces (native or runc backend). */
import type { ExecCommand, UnitProperty } from "../systemd/properties.ts";
import { containerCgroup, forgetContainer } from "./runc.ts";
import { unitCgroup } from "../systemd/unitname.ts";
import { type Ctx, exec, IGNORE, nsFlags, prop } from "./context.ts";
import { sandboxRuncId } from "./layout.ts";
import { configJson, type OciNamespace, sandboxConfig } from "./oci.ts";
import type { PlannedFile } from "./types.ts";

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

/** Unpins (one umount for all pins) and, outside /run, removes the run directory. */
function stopCleanup(c: Ctx): ExecCommand[] {
  const { paths } = c.host;
  const out: ExecCommand[] = [];
  if (c.pinned.length) out.push(exec(paths.umount, c.pinned.map((ns) => c.layout.pin(ns)), IGNORE));
  if (!runtimeDirectories(c)) out.push(exec(paths.rm, ["-rf", "--one-file-system", c.layout.dir], IGNORE));
  return out;
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
 * Native sandbox. The namespaces are made and pinned by `unshare` in
 * ExecStartPre, which finishes before ExecStart: with Type=exec the unit is
 * "started" as soon as the first binary is executed, so pins made by the main
 * process itself could still be missing when ExecStartPost or a member runs.
 */
export function nativeSandbox(c: Ctx): UnitProperty[] {
  const { paths } = c.host;
  const early = c.pinned.filter((ns) => ns !== "pid");
  const setup: string[][] = [];
  if (early.includes("uts")) setup.push([paths.hostname, c.spec.hostname]);
  if (early.includes("net")) setup.push([paths.ip, "link", "set", "lo", "up"]);
  const pre: ExecCommand[] = [];
  if (early.length) {
    const [first, ...rest] = setup.length ? setup : [[paths.touch, c.layout.pin(early[0]!)]];
    pre.push(exec(paths.unshare, [...nsFlags(c, early), "--", ...first!]));
    for (const s of rest) pre.push(exec(paths.nsenter, [...nsFlags(c, ["net"]), "--", ...s]));
  }
  let main: string[] = [paths.catatonit, "-P"];
  if (c.pinned.includes("pid")) main = [paths.unshare, ...nsFlags(c, ["pid"]), "--fork", "--kill-child", "--", ...main];
  if (early.length) main = [paths.nsenter, ...nsFlags(c, early), "--", ...main];
  const props = [
    ...sandboxCommon(c),
    prop("Type", "exec"),
    ...(pre.length ? [prop("ExecStartPreEx", pre)] : []),
    prop("ExecStartEx", [exec(main[0]!, main.slice(1))]),
    prop("ExecStopPostEx", stopCleanup(c)),
  ];
  // The PID namespace is made and pinned by the main process, after systemd already counts
  // the unit as started: wait for the pin, so members ordered after the sandbox find it.
  if (c.pinned.includes("pid")) {
    props.push(prop("ExecStartPostEx", [exec(paths.podunit, ["internal", "wait-ns", c.layout.pin("pid")])]));
  }
  return props;
}

/** runc sandbox: `runc run -d` under a forking service; pins bound from its PID after it is up. */
export function runcSandbox(c: Ctx, files: PlannedFile[], dirs: string[]): UnitProperty[] {
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
    cgroupsPath: containerCgroup(c, unitCgroup(c.spec.name, c.sandbox), "sandbox"),
  });
  dirs.push(bundle, rootfs);
  files.push({ path: `${bundle}/config.json`, mode: 0o600, content: configJson(config) });
  const pidFile = c.layout.sandboxPidFile;
  return [
    ...sandboxCommon(c),
    prop("Delegate", true),
    prop("Type", "forking"),
    prop("PIDFile", pidFile),
    prop("ExecStartEx", [exec(runc, ["run", "-d", "--pid-file", pidFile, "--bundle", bundle, id])]),
    // ${MAINPID} must be expanded here: these commands keep environment expansion on.
    // catatonit must run before a stop can work (see 'podunit internal wait-exec'); then the pins.
    prop("ExecStartPostEx", [
      exec(paths.podunit, ["internal", "wait-exec", pidFile]),
      ...c.pinned.map((ns) => exec(paths.mount, ["--bind", `/proc/\${MAINPID}/ns/${ns}`, c.layout.pin(ns)], [])),
    ]),
    prop("ExecStopPostEx", [forgetContainer(c, id), ...stopCleanup(c)]),
  ];
}
