/** Bridged pods, the pure part: ports, network.toml, the CNI configurations, the step's place, the unit-file lines. */
import { describe, expect, test } from "bun:test";
import { parsePort } from "../../src/podspec/ports.ts";
import { parseNetworkConfig } from "../../src/podspec/netconfig.ts";
import { parseSpec } from "../../src/podspec/parse.ts";
import { plan } from "../../src/plan/plan.ts";
import { renderHosts } from "../../src/plan/network.ts";
import { forwardMissing, forwardRestore, forwardRules, podunitRuleset } from "../../src/plan/netrules.ts";
import { render, unitFilePlan } from "../../src/plan/unitfiles.ts";
import { parseProcNet } from "../../src/host/netfilter.ts";
import { HOST } from "./plan-helpers.ts";

/** The message `fn` throws, or "" when it does not throw. */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return "";
}

describe("ports", () => {
  test("the three forms", () => {
    expect(parsePort("8080:80")).toEqual({ ok: true, value: { hostPort: 8080, podPort: 80, protocol: "tcp" } });
    expect(parsePort("127.0.0.1:8443:443")).toEqual({ ok: true, value: { hostIp: "127.0.0.1", hostPort: 8443, podPort: 443, protocol: "tcp" } });
    expect(parsePort("5353:53/udp")).toEqual({ ok: true, value: { hostPort: 5353, podPort: 53, protocol: "udp" } });
  });
  test("refusals say what is wrong", () => {
    const msg = (s: string) => (parsePort(s) as { message: string }).message;
    expect(msg("80")).toContain("both the host port and the pod port are needed");
    expect(msg("8080:80/sctp")).toContain(`the protocol must be tcp or udp, not "sctp"`);
    expect(msg("0:80")).toContain(`expected the host port from 1 to 65535 (without leading zeros), found "0"`);
    expect(msg("8080:65536")).toContain("the pod port from 1 to 65535");
    expect(msg("300.1.1.1:80:80")).toContain(`"300.1.1.1" is not an IPv4 address`);
    expect(msg("8000-8010:80")).toContain("port ranges are not supported");
    expect(msg("[::1]:80:80")).toContain("IPv6 host addresses are not supported");
    expect(msg("a:80")).toContain("expected the host port as a number");
  });
  test("spec keys: ports need a bridge, bridge and host_network exclude each other, a host port once", () => {
    const bad = (toml: string) => thrown(() => parseSpec(toml, "/x/p.toml"));
    const member = `\n[containers.a]\ncommand = ["/bin/true"]\n`;
    expect(bad(`ports = ["80:80"]${member}`)).toContain(`p.toml:1:1: ports: expected network = "bridge" to publish ports, found no network key`);
    expect(bad(`network = "bridge"\nhost_network = true${member}`)).toContain(`network: expected network = "bridge" or host_network = true, found both`);
    expect(bad(`network = "bridge"\nports = ["80:80", "80:81"]${member}`)).toContain("ports[1]: expected each host port once, found *:80/tcp again");
    expect(bad(`network = "bridged"${member}`)).toContain(`did you mean "bridge"?`);
    const ok = parseSpec(`network = "bridge"\nports = ["80:80", "80:80/udp"]${member}`, "/x/p.toml");
    expect(ok.network).toBe("bridge");
    expect(ok.ports?.length).toBe(2);
  });
});

describe("network.toml", () => {
  test("defaults and values", () => {
    expect(parseNetworkConfig("", "/etc/podunit/network.toml")).toEqual({ bridge: "podunit0", subnet: { address: "10.123.0.0", prefix: 16, cidr: "10.123.0.0/16" } });
    const c = parseNetworkConfig(`bridge = "pods0"\nsubnet = "10.9.0.0/24"\nsubnet6 = "fd00:9::/64"\n`, "n.toml");
    expect(c.bridge).toBe("pods0");
    expect(c.subnet6?.cidr).toBe("fd00:9::/64");
  });
  test("a bad file is refused with the line at fault", () => {
    const err = (text: string) => thrown(() => parseNetworkConfig(text, "/etc/podunit/network.toml"));
    expect(err(`bridge = "podunit0"\nsubnet = "10.9.0.1/24"\n`)).toContain("/etc/podunit/network.toml:2:1: subnet: expected the subnet's network address, 10.9.0.0/24");
    expect(err(`\n\nbrige = "x"\n`)).toContain("network.toml:3:1: brige: unknown key; did you mean 'bridge'?");
    expect(err(`bridge = "a-name-far-too-long"\n`)).toContain("network.toml:1:1: bridge: expected an interface name of 1 to 15 characters");
    expect(err(`subnet = "10.0.0.0/30"\n`)).toContain("expected a prefix length from 8 to 29");
    expect(err(`subnet = [\n`)).toContain("network.toml:");
  });
});

describe("the plan of a bridged pod", () => {
  const spec = parseSpec(`network = "bridge"\nports = ["8080:80", "5353:53/udp"]\n[containers.a]\ncommand = ["/bin/true"]\n`, "/etc/podunit/pods/web.toml");
  const p = plan(spec, HOST, { backend: "native" });

  test("network-up comes right after sandbox-ready, before the members", () => {
    expect(p.steps.map((s) => s.kind)).toEqual(["run-files", "start-units", "sandbox-ready", "network-up", "start-units", "unit-files"]);
  });
  test("the CNI configuration: bridge with host-local under /run, nothing else (ports are podunit's own rules)", () => {
    expect(p.network!.plugins).toEqual([
      {
        type: "bridge",
        bridge: "podunit0",
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: "host-local", ranges: [[{ subnet: "10.123.0.0/16" }]], routes: [{ dst: "0.0.0.0/0" }], dataDir: "/run/podunit/_network/ipam" },
      },
    ]);
    expect(p.network!.netnsPin).toBe("/run/podunit/web/ns/net");
    expect(p.files.map((f) => f.path)).toContain("/run/podunit/web/network.json");
  });
  test("a pod without the key has no network step", () => {
    const plain = plan(parseSpec(`[containers.a]\ncommand = ["/bin/true"]\n`, "/x/web.toml"), HOST, { backend: "native" });
    expect(plain.network).toBeUndefined();
    expect(plain.steps.some((s) => s.kind === "network-up")).toBe(false);
  });
  test("unit files: network-up after internal ready, network-down as ExecStopPost, after network-online.target", () => {
    const sandbox = render(unitFilePlan(p, HOST)).find((f) => f.name === "podunit-web-sandbox.service")!.content;
    const lines = sandbox.split("\n");
    const ready = lines.findIndex((l) => l.includes("internal ready"));
    const up = lines.findIndex((l) => l.startsWith("ExecStartPost=") && l.includes("internal network-up /run/podunit/web/network.json"));
    expect(ready).toBeGreaterThan(-1);
    expect(up).toBeGreaterThan(ready);
    expect(sandbox).toContain("ExecStopPost=-:/usr/local/bin/podunit internal network-down --run-dir /run/podunit web");
    expect(sandbox).toMatch(/After=.*network-online\.target/);
    expect(sandbox).toMatch(/Wants=.*network-online\.target/);
  });
  test("hosts file", () => {
    expect(renderHosts([{ address: "10.123.0.3", names: ["web", "www"] }, { address: "10.123.0.2", names: ["db"] }])).toContain("10.123.0.2\tdb\n10.123.0.3\tweb www\n");
  });
});

describe("podunit's firewall rules, from the live pods' records", () => {
  const subnet = { subnet: "10.123.0.0/16" };
  const web = { address: "10.123.0.2", ports: [{ hostPort: 8080, podPort: 80, protocol: "tcp" as const }, { hostPort: 5353, podPort: 53, protocol: "udp" as const }] };
  const local = { address: "10.123.0.3", ports: [{ hostIp: "127.0.0.1", hostPort: 8443, podPort: 443, protocol: "tcp" as const }] };
  const text = podunitRuleset([subnet, subnet], [web, local]);

  test("the table is replaced whole, so applying it twice or after a flush gives the same rules", () => {
    expect(text.startsWith("add table inet podunit\ndelete table inet podunit\ntable inet podunit {\n")).toBe(true);
  });
  test("published ports: any host address in one map, a given one in another, DNAT from prerouting and output to local addresses", () => {
    expect(text).toContain("elements = { tcp . 8080 : 10.123.0.2 . 80, udp . 5353 : 10.123.0.2 . 53 }");
    expect(text).toContain("elements = { 127.0.0.1 . tcp . 8443 : 10.123.0.3 . 443 }");
    expect(text.match(/fib daddr type local jump published/g)).toHaveLength(2);
    expect(text).toContain("dnat ip to meta l4proto . th dport map @ports");
    expect(text).toContain("dnat ip to ip daddr . meta l4proto . th dport map @addrports");
  });
  test("masquerade: the subnet to elsewhere once per subnet, and DNAT-ed connections from pods (hairpin) and from 127.0.0.1", () => {
    expect(text.match(/ip saddr 10\.123\.0\.0\/16 ip daddr != 10\.123\.0\.0\/16 masquerade/g)).toHaveLength(1);
    expect(text).toContain("ct status dnat ip daddr 10.123.0.0/16 ip saddr { 10.123.0.0/16, 127.0.0.0/8 } masquerade");
    expect(podunitRuleset([{ subnet: "10.9.0.0/24", subnet6: "fd00:9::/64" }], [])).toContain("ip6 saddr fd00:9::/64 ip6 daddr != fd00:9::/64 masquerade");
  });
  test("a pod that stopped has no element left; no pods, no masquerade", () => {
    expect(podunitRuleset([subnet], [local])).not.toContain("10.123.0.2");
    const none = podunitRuleset([], []);
    expect(none).not.toContain("elements");
    expect(none).not.toContain("masquerade");
  });
  test("FORWARD accepts: in iptables' own form, written only when missing", () => {
    const rules = forwardRules(["10.123.0.0/16"]);
    expect(rules).toEqual([
      "-A PODUNIT-FORWARD -s 10.123.0.0/16 -j ACCEPT",
      "-A PODUNIT-FORWARD -d 10.123.0.0/16 -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT",
    ]);
    const saved = `*filter\n:FORWARD DROP [0:0]\n:PODUNIT-FORWARD - [0:0]\n-A FORWARD -j PODUNIT-FORWARD\n${rules.join("\n")}\nCOMMIT\n`;
    expect(forwardMissing(saved, rules)).toEqual({ jump: false, chain: false });
    expect(forwardMissing("*filter\n:FORWARD DROP [0:0]\nCOMMIT\n", rules)).toEqual({ jump: true, chain: true });
    expect(forwardMissing(saved, forwardRules(["10.123.0.0/16", "10.9.0.0/24"]))).toEqual({ jump: false, chain: true });
    expect(forwardRestore(rules, true)).toBe(`*filter\n:PODUNIT-FORWARD - [0:0]\n-F PODUNIT-FORWARD\n${rules.join("\n")}\n-I FORWARD -j PODUNIT-FORWARD\nCOMMIT\n`);
    expect(forwardRestore(rules, false)).not.toContain("-I FORWARD");
  });
});

test("/proc/net: listening TCP and bound UDP sockets", () => {
  const tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1\n" +
    "   1: 0100007F:1F91 0100007F:0050 01 00000000:00000000 00:00000000 00000000     0        0 12346 1\n";
  expect(parseProcNet(tcp, "tcp")).toEqual([{ protocol: "tcp", address: "127.0.0.1", port: 8080, inode: 12345 }]);
});
