/**
 * A bridged pod's network, planned: the CNI configuration list podunit runs
 * (bridge with host-local addresses; published ports and FORWARD accepts are
 * podunit's own rules, plan/netrules.ts), where its state lives under the run
 * directory, the names it is known by, and the Exec lines that set it up and
 * tear it down in unit files. Pure; src/host/cni.ts runs the plugins and
 * src/pods/network.ts the step. Why these plugins and not others:
 * docs/networking.md.
 */
import { DEFAULT_NETWORK, type NetworkConfig } from "../podspec/netconfig.ts";
import type { PortMapping } from "../podspec/ports.ts";
import type { PodSpec } from "../podspec/types.ts";
import type { ExecCommand } from "../systemd/properties.ts";
import { exec, IGNORE } from "./builder.ts";
import { NetworkLayout } from "./layout.ts";

export { NetworkLayout };

/** The CNI spec version of the configurations podunit writes (Debian's plugins 1.1 speak it). */
export const CNI_VERSION = "1.0.0";
/** The network's name: host-local keeps its allocations in a directory of this name. */
export const CNI_NETWORK = "podunit";
/** The pod's interface inside its namespace. */
export const POD_IFNAME = "eth0";

/** One plugin's configuration, as the plugin reads it on stdin (without prevResult, which is added at run time). */
export type PluginConfig = { type: string } & Record<string, unknown>;

export interface PlannedNetwork {
  pod: string;
  /** CNI_CONTAINERID: stable per pod, so a DEL finds what the ADD made. */
  containerId: string;
  /** Names other pods reach this one by (the pod's name, and its hostname when it differs). */
  names: string[];
  bridge: string;
  subnet: string;
  subnet6?: string;
  ports: PortMapping[];
  /** The plugins in ADD order (DEL runs them in reverse with the same configurations; records of earlier versions may list portmap and firewall too). */
  plugins: PluginConfig[];
  /** The sandbox's pin of the pod's network namespace (a link made by the ready step). */
  netnsPin: string;
  /** `<runDir>/_network`: state shared by every bridged pod (addresses, hosts file, each pod's record). */
  stateDir: string;
}


/**
 * The CNI plugins for a pod: bridge, with host-local addresses. Published ports
 * and the FORWARD accepts are podunit's own rules (plan/netrules.ts), not the
 * portmap and firewall plugins: those two cost a Go process each at every start
 * and stop, several times podunit's one `nft -f` (docs/benchmarks.md).
 */
export function cniPlugins(net: NetworkConfig, ipamDir: string): PluginConfig[] {
  const ranges = [[{ subnet: net.subnet.cidr }], ...(net.subnet6 ? [[{ subnet: net.subnet6.cidr }]] : [])];
  const routes = [{ dst: "0.0.0.0/0" }, ...(net.subnet6 ? [{ dst: "::/0" }] : [])];
  return [
    {
      type: "bridge",
      bridge: net.bridge,
      isGateway: true,
      // podunit masquerades the whole subnet itself: the plugin's own per-pod rule is not
      // removed by a DEL whose namespace is gone (measured with plugins 1.1.1).
      ipMasq: false,
      // A pod reaching its own published port through the host's address comes back on the same port.
      hairpinMode: true,
      ipam: { type: "host-local", ranges, routes, dataDir: ipamDir },
    },
  ];
}

/** The network of a bridged pod; undefined for the others. */
export function planNetwork(spec: PodSpec, net: NetworkConfig | undefined, runDir: string, netnsPin: string): PlannedNetwork | undefined {
  if (spec.network !== "bridge") return undefined;
  const cfg = net ?? DEFAULT_NETWORK;
  const layout = new NetworkLayout(runDir);
  const ports = spec.ports ?? [];
  return {
    pod: spec.name,
    containerId: `podunit-${spec.name}`,
    names: spec.hostname !== spec.name ? [spec.name, spec.hostname] : [spec.name],
    bridge: cfg.bridge,
    subnet: cfg.subnet.cidr,
    ...(cfg.subnet6 ? { subnet6: cfg.subnet6.cidr } : {}),
    ports,
    plugins: cniPlugins(cfg, layout.ipamDir),
    netnsPin,
    stateDir: layout.dir,
  };
}

/** The network's configuration list as the CNI spec writes it (the form `podunit plan` shows and tools read). */
export function cniConfigList(n: PlannedNetwork): { cniVersion: string; name: string; plugins: PluginConfig[] } {
  return { cniVersion: CNI_VERSION, name: CNI_NETWORK, plugins: n.plugins };
}

/** The path of the planned network's own copy in the pod's run directory (unit files read it back). */
export function networkFile(podRunDir: string): string {
  return `${podRunDir}/network.json`;
}

/** argv of `podunit internal network-up FILE` (after the binary). */
export function networkUpArgv(podRunDir: string): string[] {
  return ["internal", "network-up", networkFile(podRunDir)];
}

/** argv of `podunit internal network-down --run-dir DIR POD` (after the binary). */
export function networkDownArgv(runDir: string, pod: string): string[] {
  return ["internal", "network-down", "--run-dir", runDir, pod];
}

/** The sandbox's ExecStopPost: tears the network down whenever the sandbox stops (a failure is logged, not fatal to the stop). */
export function networkDownCommand(podunit: string, runDir: string, pod: string): ExecCommand {
  return exec(podunit, networkDownArgv(runDir, pod), IGNORE);
}

/** One line of the hosts file per bridged pod. */
export interface HostsEntry {
  address: string;
  names: string[];
}

/** The hosts file: loopback names first, then every bridged pod, sorted by name so rewrites only change what changed. */
export function renderHosts(entries: readonly HostsEntry[]): string {
  const lines = ["# Written by podunit: bridged pods by name. Changes are overwritten.", "127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"];
  for (const e of [...entries].sort((a, b) => a.names[0]!.localeCompare(b.names[0]!))) lines.push(`${e.address}\t${e.names.join(" ")}`);
  return lines.join("\n") + "\n";
}
