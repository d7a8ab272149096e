/** Bridged pods, the pure part: ports, network.toml, the CNI configurations, the step's place, the unit-file lines. */
import { describe, expect, test } from "bun:test";
import { parsePort } from "../../src/podspec/ports.ts";
import { parseNetworkConfig } from "../../src/podspec/netconfig.ts";
import { parseSpec } from "../../src/podspec/parse.ts";
import { plan } from "../../src/plan/plan.ts";
import { masqueradeRuleset, renderHosts } from "../../src/plan/network.ts";
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
  test("the CNI configurations: bridge with host-local under /run, portmap with the ports, firewall", () => {
    expect(p.network!.plugins).toEqual([
      {
        type: "bridge",
        bridge: "podunit0",
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: "host-local", ranges: [[{ subnet: "10.123.0.0/16" }]], routes: [{ dst: "0.0.0.0/0" }], dataDir: "/run/podunit/_network/ipam" },
      },
      {
        type: "portmap",
        snat: true,
        capabilities: { portMappings: true },
        runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }, { hostPort: 5353, containerPort: 53, protocol: "udp" }] },
      },
      { type: "firewall", backend: "iptables" },
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
  test("hosts file and masquerade table", () => {
    expect(renderHosts([{ address: "10.123.0.3", names: ["web", "www"] }, { address: "10.123.0.2", names: ["db"] }])).toContain("10.123.0.2\tdb\n10.123.0.3\tweb www\n");
    expect(masqueradeRuleset("10.123.0.0/16")).toContain("ip saddr 10.123.0.0/16 ip daddr != 10.123.0.0/16 masquerade");
  });
});

test("/proc/net: listening TCP and bound UDP sockets", () => {
  const tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1\n" +
    "   1: 0100007F:1F91 0100007F:0050 01 00000000:00000000 00:00000000 00000000     0        0 12346 1\n";
  expect(parseProcNet(tcp, "tcp")).toEqual([{ protocol: "tcp", address: "127.0.0.1", port: 8080, inode: 12345 }]);
});
