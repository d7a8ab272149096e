/**
 * Runs CNI plugins as the CNI spec says: the plugin's configuration on stdin,
 * CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_PATH in its
 * environment, the result (or an error object) on stdout. ADD runs the list in
 * order, each plugin given the previous one's result as prevResult; DEL runs it
 * in reverse with the same configurations and the last ADD's result.
 */
import { PodunitError } from "../errors.ts";
import { CNI_NETWORK, CNI_VERSION, POD_IFNAME, type PluginConfig } from "../plan/network.ts";
import { mark } from "../trace.ts";

/** Where Debian's containernetworking-plugins put the plugins; CNI_PATH overrides. */
export const DEFAULT_CNI_PATH = "/usr/lib/cni:/opt/cni/bin";

export interface CniCall {
  containerId: string;
  /** Path of the network namespace; for DEL it may no longer exist. */
  netns: string;
  cniPath: string;
}

function pluginPath(type: string, cniPath: string): string {
  for (const dir of cniPath.split(":")) {
    const p = `${dir}/${type}`;
    if (Bun.file(p).size > 0) return p;
  }
  throw new PodunitError(`Failed to find the CNI plugin '${type}' in ${cniPath}.`, {
    hint: "Install the CNI reference plugins (Debian: apt-get install containernetworking-plugins).",
  });
}

/** Runs one plugin; returns its parsed stdout (the result for ADD, {} for DEL). */
export async function runPlugin(command: "ADD" | "DEL" | "CHECK", config: PluginConfig, call: CniCall, prevResult?: unknown): Promise<Record<string, unknown>> {
  const path = pluginPath(config.type, call.cniPath);
  const stdin = JSON.stringify({ cniVersion: CNI_VERSION, name: CNI_NETWORK, ...config, ...(prevResult !== undefined ? { prevResult } : {}) });
  const t0 = performance.now();
  const proc = Bun.spawn([path], {
    stdin: new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
    env: {
      CNI_COMMAND: command,
      CNI_CONTAINERID: call.containerId,
      CNI_NETNS: call.netns,
      CNI_IFNAME: POD_IFNAME,
      CNI_PATH: call.cniPath,
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    },
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const ms = performance.now() - t0;
  mark(`cni ${config.type} ${command} (${ms.toFixed(1)} ms)`);
  let parsed: Record<string, unknown> = {};
  try {
    if (out.trim()) parsed = JSON.parse(out) as Record<string, unknown>;
  } catch {
    // Not JSON: reported below with the raw text when the plugin failed.
  }
  if (code !== 0) {
    const msg = typeof parsed.msg === "string" ? `${parsed.msg}${typeof parsed.details === "string" && parsed.details ? ` (${parsed.details})` : ""}` : (out || err).trim();
    throw new PodunitError(`CNI plugin '${config.type}' failed on ${command} for '${call.containerId}': ${msg || `exit status ${code}`}`);
  }
  return parsed;
}

/** ADD through the list; returns the last result. On a failure, the caller runs `cniDel` (the spec asks for a DEL after a failed ADD). */
export async function cniAdd(plugins: readonly PluginConfig[], call: CniCall): Promise<Record<string, unknown>> {
  let result: Record<string, unknown> | undefined;
  for (const p of plugins) {
    const out = await runPlugin("ADD", p, call, result);
    // A plugin that only acts on the traffic (portmap, firewall) passes the result through.
    result = Object.keys(out).length ? out : result;
  }
  return result ?? {};
}

/** DEL through the list in reverse; every plugin is run even when one fails. Returns what failed. */
export async function cniDel(plugins: readonly PluginConfig[], call: CniCall, prevResult: unknown): Promise<string[]> {
  const problems: string[] = [];
  for (const p of [...plugins].reverse()) {
    try {
      await runPlugin("DEL", p, call, prevResult);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return problems;
}
