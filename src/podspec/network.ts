/**
 * The pod keys of networking: `network` ("private", the default: a namespace
 * with loopback only; "bridge": an address on the host's pod bridge) and
 * `ports` (published host ports, bridged pods only). Records every problem on
 * the checker; pure.
 */
import { quote } from "./describe.ts";
import { type Checker, get, readChoice, readStringArray, type Table } from "./fields.ts";
import { formatHostPort, parsePort, type PortMapping, samePort } from "./ports.ts";
import type { Namespace } from "./types.ts";

export type NetworkMode = "private" | "bridge";
const MODES: readonly NetworkMode[] = ["private", "bridge"];

export interface PodNetwork {
  network: NetworkMode;
  ports: PortMapping[];
}

/** Reads `network` and `ports`; `hostNetwork` and `share` are the pod's, already read. */
export function readNetwork(c: Checker, t: Table, hostNetwork: boolean, share: readonly Namespace[]): PodNetwork {
  const network = readChoice(c, get(t, "network"), ["network"], MODES) ?? "private";
  if (network === "bridge" && hostNetwork) {
    c.add(["network"], `expected network = "bridge" or host_network = true, found both; a pod on the host's network cannot also have an address of its own`);
  } else if (network === "bridge" && !share.includes("net")) {
    c.add(["network"], `expected "net" in share for network = "bridge" (the bridge's interface lives in the pod's shared network namespace)`);
  }
  const ports: PortMapping[] = [];
  const raw = get(t, "ports");
  const items = readStringArray(c, raw, ["ports"], `["8080:80", "127.0.0.1:8443:443", "5353:53/udp"]`) ?? [];
  if (raw !== undefined && network !== "bridge") {
    c.add(["ports"], `expected network = "bridge" to publish ports, found ${network === "private" && get(t, "network") === undefined ? "no network key" : `network = ${quote(network)}`}`);
  }
  for (const { value, index } of items) {
    const p = c.parsed(["ports", index], parsePort(value));
    if (p === undefined) continue;
    const twin = ports.find((q) => samePort(p, q));
    if (twin) {
      c.add(["ports", index], `expected each host port once, found ${formatHostPort(p)} again (it is published by ${quote(value)} and an earlier entry)`);
      continue;
    }
    ports.push(p);
  }
  return { network, ports };
}
