/**
 * A bridged pod's network at run time: set-up (the start's `network-up` step,
 * or the sandbox's ExecStartPost in unit files), tear-down (its undo, and the
 * sandbox's ExecStopPost, so it runs whenever the sandbox stops), the check
 * that a pod's host ports are free, and `podunit network reconcile`. Each pod's
 * record lives under `<runDir>/_network/pods/POD/`; all pods share the address
 * allocations and the hosts file there. One lock serialises them.
 */
import { mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { PodunitError } from "../errors.ts";
import { cniAdd, cniDel, DEFAULT_CNI_PATH, type CniCall } from "../host/cni.ts";
import { lockPod } from "../host/lock.ts";
import { acceptForward, applyNft, forgetConntrack, holdNetns, hostListeners, releaseNetns, routeLocalnet, socketOwner } from "../host/netfilter.ts";
import { mountinfo } from "../host/proc.ts";
import { podunitRuleset, type PodSubnet } from "../plan/netrules.ts";
import { NetworkLayout, renderHosts, type HostsEntry, type PlannedNetwork } from "../plan/network.ts";
import { formatHostPort, samePort, type PortMapping } from "../podspec/ports.ts";
import { mark } from "../trace.ts";
import { registerMachine } from "../systemd/machined.ts";
import { type NetworkState, readState, readStates } from "./netrecords.ts";

/** The lock every network change takes (allocations, the hosts file, the records). `_network` is no pod's name. */
const withNetworkLock = async <T>(runDir: string, fn: () => Promise<T>): Promise<T> => {
  const lock = await lockPod(runDir, "_network");
  try {
    return await fn();
  } finally {
    lock.release();
  }
};

function runDirOf(n: Pick<PlannedNetwork, "stateDir">): string {
  return n.stateDir.slice(0, n.stateDir.length - "/_network".length);
}

function cniCall(s: NetworkState, env: Record<string, string | undefined>): CniCall {
  return { containerId: s.containerId, netns: s.netnsFile, cniPath: env.CNI_PATH || DEFAULT_CNI_PATH };
}



function writeState(s: NetworkState): void {
  writeFileSync(new NetworkLayout(runDirOf(s)).stateFile(s.pod), JSON.stringify(s) + "\n", { mode: 0o600 });
}

/** Rewrites the hosts file from the records, in place: members bind it as a file, and a new inode would not reach them. */
function writeHosts(runDir: string): void {
  const entries: HostsEntry[] = readStates(runDir).flatMap((s) => s.addresses.map((address) => ({ address, names: s.names })));
  writeFileSync(new NetworkLayout(runDir).hostsFile, renderHosts(entries), { mode: 0o644 });
}

function addressesOf(result: Record<string, unknown>): string[] {
  const ips = (result.ips as Array<{ address?: string }> | undefined) ?? [];
  return ips.flatMap((ip) => (ip.address ? [ip.address.split("/")[0]!] : []));
}

/**
 * Who holds the host ports `ports` would publish: another pod's record, or a host
 * process listening on one. Empty when all are free.
 */
export function portConflicts(pod: string, ports: readonly PortMapping[], runDir: string): string[] {
  if (ports.length === 0) return [];
  const out: string[] = [];
  const others = readStates(runDir).filter((s) => s.pod !== pod);
  const listeners = hostListeners();
  for (const p of ports) {
    const pods = others.filter((s) => s.ports.some((q) => samePort(p, q)));
    for (const s of pods) out.push(`${formatHostPort(p)} is published by pod '${s.pod}'`);
    const l = listeners.find((x) => x.protocol === p.protocol && x.port === p.hostPort && (p.hostIp === undefined || ["0.0.0.0", "::", p.hostIp].includes(x.address)));
    if (l) out.push(`${formatHostPort(p)} is taken by a host process listening on ${l.address}:${l.port}${(() => { const o = socketOwner(l.inode); return o ? ` (process ${o})` : ""; })()}`);
  }
  return out;
}

/** Throws when a host port of the pod is taken (checked before anything of the pod runs, and again under the lock). */
export function assertPortsFree(n: Pick<PlannedNetwork, "pod" | "ports" | "stateDir">): void {
  const taken = portConflicts(n.pod, n.ports, runDirOf(n));
  if (taken.length) {
    throw new PodunitError(`Failed to start pod '${n.pod}': ${taken.join("; ")}.`, {
      hint: "Publish another host port in the spec's ports, or stop what holds it; nothing of the pod was started.",
    });
  }
}

/**
 * Sets up the pod's network. A failure leaves a record behind that `networkDown`
 * removes with everything made so far (the step's undo calls it).
 */
export async function networkUp(n: PlannedNetwork, env: Record<string, string | undefined> = {}): Promise<NetworkState> {
  const state = await attach(n, env);
  // Outside the lock: machined may be started for it (bus activation), and a pod works without it.
  state.machine = await registerMachine(env, { name: n.pod, leader: leaderOf(n.netnsPin), ifindices: hostIfindices(state.result, n.bridge) });
  mark(state.machine.registered ? "registered with systemd-machined" : `not registered with systemd-machined: ${state.machine.reason}`);
  await withNetworkLock(runDirOf(n), async () => {
    // A tear-down that came in between removed the record; it stays removed.
    if (readState(runDirOf(n), n.pod)) writeState(state);
  });
  return state;
}

/** The PID whose namespace the pin links to (`/proc/PID/ns/net`): the sandbox's holder, in the sandbox's unit. */
function leaderOf(pin: string): number {
  const m = /^\/proc\/(\d+)\/ns\//.exec(readlinkSync(pin));
  if (!m) throw new PodunitError(`The pod's network namespace pin ${pin} does not link to a process's namespace.`);
  return Number(m[1]);
}

/** Host-side interfaces of a CNI result (those not in the pod's namespace, other than the bridge), by index. */
function hostIfindices(result: Record<string, unknown> | undefined, bridge: string): number[] {
  const ifaces = (result?.interfaces as Array<{ name?: string; sandbox?: string }> | undefined) ?? [];
  return ifaces.flatMap((i) => {
    if (i.sandbox || !i.name || i.name === bridge) return [];
    try {
      return [Number(readFileSync(`/sys/class/net/${i.name}/ifindex`, "utf8"))];
    } catch {
      return [];
    }
  });
}

/** The pods whose network is live: a record with a result and the namespace still held (its bind mount is there). */
function liveStates(runDir: string): NetworkState[] {
  const mounts = new Set(mountinfo().map((m) => m.mountPoint));
  return readStates(runDir).filter((s) => s.result && mounts.has(s.netnsFile));
}

/**
 * Writes podunit's nftables table from the live pods (their ports and the
 * subnets' masquerade), whole, in one transaction.
 */
async function applyRules(live: readonly NetworkState[]): Promise<void> {
  const published = live.flatMap((s) => {
    const v4 = s.addresses.find((a) => !a.includes(":"));
    return v4 && s.ports.length ? [{ address: v4, ports: s.ports }] : [];
  });
  await applyNft(podunitRuleset(live, published));
  mark("network: podunit's nftables table written (nft -f)");
}

/** The FORWARD accepts of the pods' subnets, IPv4 and IPv6 (only what is missing is written). */
async function applyForward(subnets: readonly PodSubnet[]): Promise<void> {
  await Promise.all([acceptForward(4, subnets.map((s) => s.subnet)), acceptForward(6, subnets.flatMap((s) => (s.subnet6 ? [s.subnet6] : [])))]);
}

async function attach(n: PlannedNetwork, env: Record<string, string | undefined>): Promise<NetworkState> {
  const runDir = runDirOf(n);
  const layout = new NetworkLayout(runDir);
  return withNetworkLock(runDir, async () => {
    assertPortsFree(n);
    mkdirSync(layout.podDir(n.pod), { recursive: true, mode: 0o700 });
    mkdirSync(layout.ipamDir, { recursive: true, mode: 0o700 });
    const state: NetworkState = { ...n, netnsFile: layout.netnsFile(n.pod), addresses: [] };
    writeState(state);
    holdNetns(n.netnsPin, state.netnsFile);
    mark("network: namespace held");
    // While the bridge plugin runs: iptables' FORWARD chain, read and (when something is missing) written.
    const forward = applyForward([n]).then(() => mark("network: FORWARD accepts checked"));
    forward.catch(() => {});
    state.result = await cniAdd(n.plugins, cniCall(state, env));
    state.addresses = addressesOf(state.result);
    writeState(state);
    // 127.0.0.1 reaches published ports through the bridge.
    if (n.ports.length) routeLocalnet(n.bridge);
    await applyRules(liveStates(runDir));
    await forward;
    // Entries of an earlier run of these UDP ports still point at the old address.
    const udp = n.ports.filter((p) => p.protocol === "udp").map((p) => p.hostPort);
    if (udp.length) {
      await forgetConntrack(undefined, udp);
      mark("network: conntrack entries of the UDP ports deleted");
    }
    writeHosts(runDir);
    mark("network up");
    return state;
  });
}

/**
 * Tears the pod's network down: its ports out of podunit's table, CNI DEL (also
 * when the namespace is gone), the namespace's bind mount, conntrack entries,
 * the record, the hosts line. Idempotent: a pod without a record has nothing
 * to tear down. Returns what could not be done.
 */
export async function networkDown(runDir: string, pod: string, env: Record<string, string | undefined> = {}): Promise<string[]> {
  const layout = new NetworkLayout(runDir);
  // A pod without a record (on the host's network, or already down) has nothing to take down: its
  // record is made only by its own start, which never runs beside its stop. Such a stop skips the lock.
  if (!readState(runDir, pod)) return [];
  return withNetworkLock(runDir, async () => {
    const s = readState(runDir, pod);
    if (!s) return [];
    const problems: string[] = [];
    // First, so no new connection is sent to the pod's address while it goes.
    await applyRules(liveStates(runDir).filter((x) => x.pod !== pod)).catch((e: Error) => problems.push(e.message));
    problems.push(...(await cniDel(s.plugins, cniCall(s, env), s.result)));
    try {
      releaseNetns(s.netnsFile);
    } catch (err) {
      problems.push((err as Error).message);
    }
    problems.push(...(await forgetConntrack(s.addresses[0], s.ports.filter((p) => p.protocol === "udp").map((p) => p.hostPort))));
    if (problems.length === 0) rmSync(layout.podDir(pod), { recursive: true, force: true });
    writeHosts(runDir);
    mark("network down");
    return problems.map((p) => `network of pod '${pod}': ${p}`);
  });
}

/**
 * Puts back the rules of every pod whose network is live, after a flush of the
 * firewall: podunit's table written whole from the records, and the FORWARD
 * accepts. No plugin runs: the bridge plugin writes no rules. Returns the pods
 * repaired and the problems.
 */
export async function reconcileNetworks(runDir: string): Promise<{ pods: string[]; problems: string[] }> {
  return withNetworkLock(runDir, async () => {
    const live = liveStates(runDir);
    const problems: string[] = [];
    await applyRules(live).catch((e: Error) => problems.push(e.message));
    await applyForward(live).catch((e: Error) => problems.push(e.message));
    return { pods: live.map((s) => s.pod), problems };
  });
}




