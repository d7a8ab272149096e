/**
 * The firewall rules of bridged pods, rendered from their records. Pure.
 *
 * podunit's own nftables table `inet podunit` holds everything per pod and
 * per subnet: the published ports (DNAT, in two maps, from packets to a local
 * address, arriving or sent by the host itself), the hairpin and loopback
 * masquerade that makes them answer from the host and from other pods, and
 * the masquerade of pods' traffic to elsewhere. It is written whole, from
 * every live pod's record, in one `nft -f` transaction: start, stop and
 * `network reconcile` all apply the same function of the records, so nothing
 * is missing, doubled or left behind, whatever ran before.
 *
 * iptables' FORWARD chain (table `ip filter`, iptables-nft) is a base chain of
 * its own: an accept in podunit's table does not undo its DROP policy. So a
 * chain `PODUNIT-FORWARD` there, jumped to from FORWARD, accepts the subnet's
 * traffic, in iptables' own form (native nftables expressions in iptables'
 * tables would make iptables refuse to list them). It is per subnet, not per
 * pod, and stays like the subnet.
 */
import type { PortMapping } from "../podspec/ports.ts";

/** One live pod's published ports and its IPv4 address. */
export interface Published {
  address: string;
  ports: readonly PortMapping[];
}

/** A pod subnet (IPv4, and IPv6 when configured). */
export interface PodSubnet {
  subnet: string;
  subnet6?: string;
}

/** The name of podunit's chain in iptables' filter table. */
export const FORWARD_CHAIN = "PODUNIT-FORWARD";

function elements(items: string[]): string[] {
  return items.length ? [`\t\telements = { ${items.join(", ")} }`] : [];
}

/**
 * podunit's nftables table, replaced whole in one transaction (the `add` makes
 * the `delete` safe when the table is missing, so applying it is idempotent).
 */
export function podunitRuleset(subnets: readonly PodSubnet[], pods: readonly Published[]): string {
  const any: string[] = [];
  const byAddress: string[] = [];
  for (const p of pods) {
    for (const m of p.ports) {
      const to = `${p.address} . ${m.podPort}`;
      if (m.hostIp) byAddress.push(`${m.hostIp} . ${m.protocol} . ${m.hostPort} : ${to}`);
      else any.push(`${m.protocol} . ${m.hostPort} : ${to}`);
    }
  }
  const v4 = [...new Set(subnets.map((s) => s.subnet))].sort();
  const v6 = [...new Set(subnets.flatMap((s) => (s.subnet6 ? [s.subnet6] : [])))].sort();
  const masquerade = [
    ...v4.map((s) => `\t\tip saddr ${s} ip daddr != ${s} masquerade`),
    ...v6.map((s) => `\t\tip6 saddr ${s} ip6 daddr != ${s} masquerade`),
    // Published ports reached from a pod (hairpin) or from the host's 127.0.0.1: the answer must come back through the host.
    ...v4.map((s) => `\t\tct status dnat ip daddr ${s} ip saddr { ${s}, 127.0.0.0/8 } masquerade`),
  ];
  return [
    "add table inet podunit",
    "delete table inet podunit",
    "table inet podunit {",
    "\tmap ports {",
    "\t\ttype inet_proto . inet_service : ipv4_addr . inet_service",
    ...elements(any),
    "\t}",
    "\tmap addrports {",
    "\t\ttype ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service",
    ...elements(byAddress),
    "\t}",
    "\tchain prerouting {",
    "\t\ttype nat hook prerouting priority dstnat; policy accept;",
    "\t\tfib daddr type local jump published",
    "\t}",
    "\tchain output {",
    "\t\ttype nat hook output priority -100; policy accept;",
    "\t\tfib daddr type local jump published",
    "\t}",
    "\tchain published {",
    "\t\tmeta nfproto ipv4 meta l4proto { tcp, udp } dnat ip to ip daddr . meta l4proto . th dport map @addrports",
    "\t\tmeta nfproto ipv4 meta l4proto { tcp, udp } dnat ip to meta l4proto . th dport map @ports",
    "\t}",
    "\tchain postrouting {",
    "\t\ttype nat hook postrouting priority srcnat; policy accept;",
    ...masquerade,
    "\t}",
    "}",
    "",
  ].join("\n");
}

/** The rules of PODUNIT-FORWARD, as `iptables-save` prints them: the subnets' own traffic, and answers and published ports to them. */
export function forwardRules(subnets: readonly string[]): string[] {
  return [...new Set(subnets)].sort().flatMap((s) => [
    `-A ${FORWARD_CHAIN} -s ${s} -j ACCEPT`,
    `-A ${FORWARD_CHAIN} -d ${s} -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT`,
  ]);
}

/**
 * What of the FORWARD accepts is missing from an `iptables-save -t filter`
 * dump: the jump from FORWARD, and whether the chain holds other rules than
 * `rules` (then it is rewritten).
 */
export function forwardMissing(save: string, rules: readonly string[]): { jump: boolean; chain: boolean } {
  const lines = save.split("\n").map((l) => l.trim());
  const have = lines.filter((l) => l.startsWith(`-A ${FORWARD_CHAIN} `));
  return {
    jump: !lines.includes(`-A FORWARD -j ${FORWARD_CHAIN}`),
    chain: have.length !== rules.length || rules.some((r) => !have.includes(r)),
  };
}

/** The `iptables-restore --noflush` input that (re)writes the chain and, when asked, puts the jump first in FORWARD. */
export function forwardRestore(rules: readonly string[], jump: boolean): string {
  return ["*filter", `:${FORWARD_CHAIN} - [0:0]`, `-F ${FORWARD_CHAIN}`, ...rules, ...(jump ? [`-I FORWARD -j ${FORWARD_CHAIN}`] : []), "COMMIT", ""].join("\n");
}
