/**
 * Validation of a parsed TOML table into a PodSpec: every key, every value,
 * the relations between them. Pod-wide keys here, members in member.ts. Records
 * every problem on the checker; pure.
 */
import { quote } from "./describe.ts";
import {
  Checker,
  checkKeys,
  get,
  isTable,
  readBool,
  readChoice,
  readString,
  readStringArray,
  type Table,
} from "./fields.ts";
import { limitsOf, readLimits, readMembers, RUNTIMES } from "./member.ts";
import type { Namespace, PodSpec, SandboxBackend, UsernsMode } from "./types.ts";
import { checkHostname, checkName, checkTargetName } from "./grammar.ts";
import { readNetwork } from "./network.ts";
import { readMounts, readVolumes } from "./volumes.ts";

export const POD_KEYS = [
  "name",
  "hostname",
  "share",
  "host_network",
  "host_ipc",
  "host_pid",
  "sandbox",
  "userns",
  "runtime",
  "memory_max",
  "cpu_quota",
  "tasks_max",
  "install",
  "containers",
  "network",
  "ports",
  "volumes",
] as const;

export const INSTALL_KEYS = ["wanted_by"] as const;

/** Keys people bring from elsewhere, and what to write instead. */
const POD_HINTS: Record<string, string> = {
  host_uts: `there is no host_uts; leave "uts" out of share instead`,
  members: "members are tables named [containers.NAME]",
  pod: "the pod's settings go at the top of the file",
};
const NAMESPACES: readonly Namespace[] = ["net", "ipc", "uts", "pid"];
const BACKENDS: readonly SandboxBackend[] = ["crun", "runc", "native"];
const USERNS: readonly UsernsMode[] = ["host", "auto"];

/**
 * Validates the whole table. `podName` is the file's stem (undefined when there is no
 * file name); the `name` key overrides it unless `nameIsStem` (a spec found by pod name
 * in the spec directory must be called what its file is called, or it could not be found).
 */
export function validatePod(c: Checker, t: Table, podName: string | undefined, file: string, nameIsStem = false): Omit<PodSpec, "file"> {
  checkKeys(c, t, [], POD_KEYS, POD_HINTS);

  let name = podName ?? "";
  const declared = readString(c, get(t, "name"), ["name"], `a pod name such as "web"`);
  if (declared !== undefined) {
    const r = c.parsed(["name"], checkName(declared, "pod"));
    if (r !== undefined) {
      if (nameIsStem && r !== podName) {
        c.add(["name"], `expected ${quote(podName ?? "")}, the name of the file (specs in the pod directory are found by file name), found ${quote(r)}; rename the file or drop the key`);
      } else {
        name = r;
      }
    }
  } else if (podName === undefined) {
    c.add([], `expected the spec to come from a file named NAME.toml to take the pod's name from, or a name key, found ${quote(file)}`);
  } else {
    const r = checkName(podName, "pod");
    if (!r.ok) c.add([], `the pod's name comes from the file's name: ${r.message}; rename the file or set name`);
  }

  const hostNetwork = readBool(c, get(t, "host_network"), ["host_network"]) ?? false;
  const hostIpc = readBool(c, get(t, "host_ipc"), ["host_ipc"]) ?? false;
  const hostPid = readBool(c, get(t, "host_pid"), ["host_pid"]) ?? false;
  const share = readShare(c, get(t, "share"), { net: hostNetwork, ipc: hostIpc, pid: hostPid });
  const net = readNetwork(c, t, hostNetwork, share);

  let hostname = name;
  const rawHostname = get(t, "hostname");
  const h = readString(c, rawHostname, ["hostname"], `a hostname such as "web"`);
  if (h !== undefined) {
    const r = c.parsed(["hostname"], checkHostname(h));
    if (r !== undefined) {
      hostname = r;
      if (!share.includes("uts")) {
        c.add(["hostname"], `expected "uts" in share to give the pod a hostname, found share = [${share.map((s) => quote(s)).join(", ")}]`);
      }
    }
  }

  const sandbox = readChoice(c, get(t, "sandbox"), ["sandbox"], BACKENDS);
  const runtime = readChoice(c, get(t, "runtime"), ["runtime"], RUNTIMES);
  const podShown = readLimits(c, t, []);
  const install = readInstall(c, get(t, "install"));
  const members = readMembers(c, get(t, "containers"), podShown);
  const volumes = readVolumes(c, get(t, "volumes"));
  readMounts(c, get(t, "containers"), members, volumes);
  const userns = readChoice(c, get(t, "userns"), ["userns"], USERNS);
  if (userns === "auto") checkUserns(c, sandbox, members);

  const spec: Omit<PodSpec, "file"> = {
    name,
    hostname,
    share,
    hostNetwork,
    hostIpc,
    hostPid,
    limits: limitsOf(podShown),
    members,
  };
  // Set only when not the default, so specs without networking keys read as before.
  if (net.network !== "private") spec.network = net.network;
  if (net.ports.length) spec.ports = net.ports;
  if (sandbox !== undefined) spec.sandbox = sandbox;
  if (userns === "auto") spec.userns = userns;
  if (runtime !== undefined) spec.runtime = runtime;
  if (install !== undefined) spec.install = install;
  if (volumes?.length) spec.volumes = volumes;
  return spec;
}

/**
 * A pod in a user namespace of its own needs a runtime sandbox, crun or runc (it writes the
 * namespace's ID maps itself; unshare(1) of util-linux 2.38 needs newuidmap(1)
 * and /etc/subuid for that) and members with images: a rootfs directory would be
 * seen by the member's root as owned by nobody (see docs/security.md).
 */
function checkUserns(c: Checker, sandbox: SandboxBackend | undefined, members: PodSpec["members"]): void {
  if (sandbox === "native") {
    c.add(["sandbox"], `expected "crun" or "runc" (or no sandbox key) for a pod with userns = "auto": a runtime sandbox makes the pod's user namespace, found "native"`);
  }
  for (const m of members) {
    if (m.rootfs !== undefined) {
      c.add(["containers", m.name, "rootfs"], `expected an image member (image = "...") in a pod with userns = "auto", found a rootfs directory; give the member an image, or drop userns`);
    }
  }
}

/** `share`: a subset of net, ipc, uts, pid; default net, ipc, uts minus what the host provides. */
function readShare(c: Checker, v: unknown, host: { net: boolean; ipc: boolean; pid: boolean }): Namespace[] {
  const hostKey = { net: "host_network", ipc: "host_ipc", pid: "host_pid" } as const;
  const fromHost = (ns: Namespace) => ns !== "uts" && host[ns];
  if (v === undefined) {
    return (["ipc", "net", "uts"] as const).filter((ns) => !fromHost(ns));
  }
  const items = readStringArray(c, v, ["share"], `["net", "ipc", "uts"]`) ?? [];
  const seen = new Set<Namespace>();
  for (const { value, index } of items) {
    if (value === "mnt" || value === "mount") {
      c.add(["share", index], `expected "net", "ipc", "uts" or "pid", found ${quote(value)}; every member keeps its own mount namespace`);
      continue;
    }
    const ns = readChoice(c, value, ["share", index], NAMESPACES);
    if (ns === undefined) continue;
    if (seen.has(ns)) {
      c.add(["share", index], `expected each namespace once, found ${quote(ns)} again`);
      continue;
    }
    seen.add(ns);
    if (ns !== "uts" && fromHost(ns)) {
      c.add(
        [hostKey[ns]],
        `expected ${quote(ns)} to be left out of share when the pod uses the host's namespace, found both ${hostKey[ns]} = true and ${quote(ns)} in share`,
      );
    }
  }
  return [...seen].sort();
}

function readInstall(c: Checker, v: unknown): { wantedBy: string[] } | undefined {
  if (v === undefined) return undefined;
  if (!isTable(v)) {
    c.wrongType(["install"], `a table such as [install] with wanted_by = ["multi-user.target"]`, v);
    return undefined;
  }
  checkKeys(c, v, ["install"], INSTALL_KEYS);
  const raw = get(v, "wanted_by");
  if (raw === undefined) return { wantedBy: ["multi-user.target"] };
  const items = readStringArray(c, raw, ["install", "wanted_by"], `["multi-user.target"]`);
  if (items === undefined) return undefined;
  if (Array.isArray(raw) && raw.length === 0) {
    c.add(["install", "wanted_by"], `expected at least one target such as "multi-user.target", found an empty array`);
  }
  const wantedBy = new Set<string>();
  for (const { value, index } of items) {
    const name = c.parsed(["install", "wanted_by", index], checkTargetName(value));
    if (name === undefined) continue;
    if (wantedBy.has(name)) c.add(["install", "wanted_by", index], `expected each target once, found ${quote(name)} again`);
    else wantedBy.add(name);
  }
  return { wantedBy: [...wantedBy] };
}

