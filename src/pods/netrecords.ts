/**
 * The records of bridged pods' networks (`<runDir>/_network/pods/POD/state.json`),
 * read for `status`, `list` and tear-down. Apart from network.ts, which sets
 * networks up and down, so that `podunit list` loads none of that.
 */
import { readdirSync, readFileSync } from "node:fs";
import { NetworkLayout } from "../plan/layout.ts";
import type { PlannedNetwork } from "../plan/network.ts";
import type { MachineResult } from "../systemd/machined.ts";

/** What was set up for one pod: the plan's network, and what the plugins answered. */
export interface NetworkState extends PlannedNetwork {
  netnsFile: string;
  /** The last ADD's result (CNI format); undefined while the ADD has not finished. */
  result?: Record<string, unknown>;
  /** The pod's addresses, without prefix length. */
  addresses: string[];
  /** Whether systemd-machined knows the pod (machinectl, nss-mymachines), or why not. */
  machine?: MachineResult;
}

/** One pod's record; undefined when it has none (or an unreadable one). */
export function readState(runDir: string, pod: string): NetworkState | undefined {
  try {
    return JSON.parse(readFileSync(new NetworkLayout(runDir).stateFile(pod), "utf8")) as NetworkState;
  } catch {
    return undefined;
  }
}

/** Every pod with a network record. */
export function readStates(runDir: string): NetworkState[] {
  let pods: string[];
  try {
    pods = readdirSync(`${new NetworkLayout(runDir).dir}/pods`);
  } catch {
    return [];
  }
  return pods.flatMap((p) => readState(runDir, p) ?? []);
}

/** A bridged pod's addresses and published ports as `status` and `list` show them. */
export interface NetworkInfo {
  addresses: string[];
  ports: string[];
  machine?: string;
}

/** A pod's address and published ports, for status and list; undefined when it has no network record. */
export function networkInfo(runDir: string, pod: string): NetworkInfo | undefined {
  const s = readState(runDir, pod);
  return s && infoOf(s);
}

/** The network part of `list`: every pod with a network record, by name (one directory read, then only the records there are). */
export function networkInfos(runDir: string): Map<string, NetworkInfo> {
  return new Map(readStates(runDir).map((s) => [s.pod, infoOf(s)]));
}

function infoOf(s: NetworkState): NetworkInfo {
  const machine = s.machine && (s.machine.registered ? "registered" : s.machine.reason);
  return { addresses: s.addresses, ports: s.ports.map((p) => `${p.hostIp ?? "0.0.0.0"}:${p.hostPort}->${p.podPort}/${p.protocol}`), ...(machine ? { machine } : {}) };
}
