/**
 * The host side of a bridged pod beside the bridge plugin: podunit's own
 * nftables table (published ports, masquerade), the FORWARD accepts in
 * iptables' filter table, route_localnet on the bridge, conntrack entries of a pod's
 * addresses and ports, the ports host processes listen on (/proc/net), and the
 * bind mount that keeps a pod's network namespace until its tear-down.
 */
import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { PodunitError } from "../errors.ts";
import { findProgram } from "../plan/hostfacts.ts";
import { forwardMissing, forwardRestore, forwardRules } from "../plan/netrules.ts";
import type { Protocol } from "../podspec/ports.ts";
import { HostError } from "./errno.ts";
import { MNT_DETACH, MS_BIND, mount, umount2 } from "./libc.ts";

async function run(argv: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(argv, { stdin: stdin !== undefined ? new TextEncoder().encode(stdin) : "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

function program(name: string, pkg: string): string {
  const p = findProgram(name);
  if (!p) throw new PodunitError(`Failed to find '${name}', which bridged pods need.`, { hint: `Install it (Debian: apt-get install ${pkg}).` });
  return p;
}

/** Applies an nftables script in one transaction (`nft -f -`). */
export async function applyNft(script: string): Promise<void> {
  const r = await run([program("nft", "nftables"), "-f", "-"], script);
  if (r.code !== 0) throw new PodunitError(`Failed to apply podunit's nftables rules: ${r.err.trim() || `nft exited ${r.code}`}`);
}

/**
 * Makes iptables' FORWARD chain accept the pod subnets' traffic (podunit's
 * PODUNIT-FORWARD chain and the jump to it): reads the filter table once and
 * writes only what is missing, in one `iptables-restore --noflush`. Without
 * iptables there is no such chain to drop the traffic, and nothing to do.
 */
export async function acceptForward(family: 4 | 6, subnets: readonly string[]): Promise<void> {
  if (subnets.length === 0) return;
  const tool = family === 4 ? "iptables" : "ip6tables";
  const save = findProgram(`${tool}-save`);
  const restore = findProgram(`${tool}-restore`);
  if (!save || !restore) return;
  const rules = forwardRules(subnets);
  const dump = await run([save, "-t", "filter"]);
  const missing = forwardMissing(dump.code === 0 ? dump.out : "", rules);
  if (!missing.jump && !missing.chain) return;
  const r = await run([restore, "-w", "--noflush"], forwardRestore(rules, missing.jump));
  if (r.code !== 0) throw new PodunitError(`Failed to accept the pods' forwarded traffic in ${tool}'s FORWARD chain: ${r.err.trim() || `${tool}-restore exited ${r.code}`}`);
}

/**
 * Lets packets from 127.0.0.1 be routed out of the bridge (to a published port
 * reached at 127.0.0.1): the kernel drops them as martians otherwise.
 */
export function routeLocalnet(bridge: string): void {
  writeFileSync(`/proc/sys/net/ipv4/conf/${bridge}/route_localnet`, "1");
}

/**
 * Deletes conntrack entries to or from `address`, and UDP entries of the host
 * ports given: a UDP flow keeps its entry (and so its old destination) while
 * packets keep coming, so a restarted pod would never see them otherwise.
 * conntrack exits 1 when nothing matched; that is fine.
 */
export async function forgetConntrack(address: string | undefined, udpPorts: readonly number[]): Promise<string[]> {
  const conntrack = findProgram("conntrack");
  if (!conntrack) return udpPorts.length ? ["conntrack is not installed: stale UDP entries of the pod's ports may remain (apt-get install conntrack)"] : [];
  const calls: string[][] = [];
  if (address) calls.push(["-D", "-s", address], ["-D", "--reply-src", address]);
  for (const p of udpPorts) calls.push(["-D", "-p", "udp", "--dport", String(p)]);
  // One after the other: two deletions of overlapping entries at once race, and the loser stops early.
  const problems: string[] = [];
  for (const a of calls) {
    const r = await run([conntrack, ...a]);
    if (r.code > 1) problems.push(`conntrack ${a.join(" ")}: ${r.err.trim()}`);
  }
  return problems;
}

export interface Listener {
  protocol: Protocol;
  address: string;
  port: number;
  inode: number;
}

function hexAddress(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join(".");
  // IPv6 in four host-order words: shown only as "any" or "::1", which is all conflicts need.
  if (/^0+$/.test(hex)) return "::";
  if (hex === "00000000000000000000000001000000") return "::1";
  if (hex.startsWith("0000000000000000FFFF0000")) return hexAddress(hex.slice(24));
  return hex;
}

/** Sockets listening (TCP, state 0A) or bound (UDP, state 07) in one /proc/net/{tcp,udp}[6] table. Pure. */
export function parseProcNet(text: string, protocol: Protocol): Listener[] {
  const want = protocol === "tcp" ? "0A" : "07";
  const out: Listener[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== want) continue;
    const [addr, port] = f[1]!.split(":");
    out.push({ protocol, address: hexAddress(addr!), port: parseInt(port!, 16), inode: Number(f[9]) });
  }
  return out;
}

/** Every listening TCP and bound UDP socket of this network namespace. */
export function hostListeners(): Listener[] {
  const read = (f: string) => {
    try {
      return readFileSync(`/proc/net/${f}`, "utf8");
    } catch {
      return "";
    }
  };
  return [...parseProcNet(read("tcp"), "tcp"), ...parseProcNet(read("tcp6"), "tcp"), ...parseProcNet(read("udp"), "udp"), ...parseProcNet(read("udp6"), "udp")];
}

/** The process holding a socket inode ("1234 (nginx)"), looked for only when a port is taken. */
export function socketOwner(inode: number): string | undefined {
  const target = `socket:[${inode}]`;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) return `${pid} (${readFileSync(`/proc/${pid}/comm`, "utf8").trim()})`;
      } catch {
        // Gone meanwhile.
      }
    }
  }
  return undefined;
}

/** Binds the network namespace `nsPath` (a pin) at `file`, so it outlives the sandbox until `releaseNetns`. mount(2), not a `mount` process. */
export function holdNetns(nsPath: string, file: string): void {
  writeFileSync(file, "", { mode: 0o600 });
  const err = mount(nsPath, file, null, MS_BIND, null);
  if (err !== 0) throw new HostError("hold the pod's network namespace at", "mount", err, { path: file });
}

/** Detaches and removes the namespace's bind mount (the removal also detaches copies in other mount namespaces). */
export function releaseNetns(file: string): void {
  umount2(file, MNT_DETACH);
  rmSync(file, { force: true });
}
