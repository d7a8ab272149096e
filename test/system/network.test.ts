/**
 * Bridged pods on a real systemd, inside the lab's own network namespace: a pod
 * with a TCP and a UDP port published, reached from an "outside" namespace
 * joined to the lab by a veth pair (198.18.0.0/15, reserved for tests), from
 * 127.0.0.1 in the lab, and from another bridged pod by name and through the
 * host's address; a second pod wanting the same host port is refused; stop,
 * SIGKILL and many cycles leave nothing; a firewall flush is repaired by
 * `podunit network reconcile`. The lab's FORWARD policy is DROP throughout, as
 * Docker sets it.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { BUSYBOX_ROOTFS, eventually, labHelpers, leftovers, makeRootfs, useLab, writeSpec } from "./harness.ts";

const t = useLab("network");
const { podunit, show } = labHelpers(t);
const HOST = "198.18.0.1";
const CYCLES = Number(process.env.PODUNIT_NET_CYCLES ?? 50);

/** A TCP and a UDP server in one host member: each answers with its protocol's greeting. */
const SERVER = `
import socket, threading
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 53))
    while True:
        d, a = s.recvfrom(100); s.sendto(b"hello-udp", a)
threading.Thread(target=udp, daemon=True).start()
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(("0.0.0.0", 80)); t.listen(16)
while True:
    c, _ = t.accept(); c.sendall(b"hello-tcp"); c.close()
`;
const UDP_CLIENT = `import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(2); s.sendto(b"x",(sys.argv[1],int(sys.argv[2]))); print(s.recv(100).decode())`;
const TCP_CLIENT = `import socket,sys; s=socket.create_connection((sys.argv[1],int(sys.argv[2])),2); print(s.recv(100).decode())`;

const sh = (cmd: string) => t.lab.run(["bash", "-c", cmd]);
const tcp = (where: string, ip: string, port: number) => sh(`${where} python3 -c '${TCP_CLIENT}' ${ip} ${port}`);
const udp = (where: string, ip: string, port: number) => sh(`${where} python3 -c '${UDP_CLIENT}' ${ip} ${port}`);

async function startOk(pod: string): Promise<void> {
  const r = await podunit("start", pod);
  if (r.status !== 0) throw new Error(`podunit start ${pod} exited ${r.status}: ${r.stderr}`);
}
async function address(pod: string): Promise<string> {
  return JSON.parse((await podunit("status", pod, "--json")).stdout).network.addresses[0];
}

/** What a pod can leave in the network: veths, address allocations, rules and conntrack entries naming it, hosts lines. */
async function netLeftovers(pod: string, ip: string): Promise<string[]> {
  const out = await sh(`
    # Veths of pods that still run (their records name them) are not this pod's.
    owned=$(cat /run/podunit/_network/pods/*/state.json 2>/dev/null | grep -o '"veth[0-9a-f]*"' | tr -d '"')
    ip -br link | awk '$1 ~ /^veth/ {sub(/@.*/, "", $1); print $1}' | grep -vxF -e "$owned" -e '' | sed 's/^/veth /'
    ls /run/podunit/_network/ipam/podunit 2>/dev/null | grep -x -F '${ip}' | sed 's/^/allocation /'
    { iptables-save; nft list ruleset; } 2>/dev/null | grep -F -e '${ip}/' -e '${ip} ' -e 'podunit-${pod}"' | sed 's/^/rule /'
    conntrack -L 2>/dev/null | grep -F '=${ip} ' | sed 's/^/conntrack /'
    grep -w '${pod}' /run/podunit/_network/hosts | sed 's/^/hosts /'
    [ -e /run/podunit/_network/pods/${pod} ] && echo "record /run/podunit/_network/pods/${pod}"
    machinectl list --no-legend --no-pager 2>/dev/null | awk '$1 == "${pod}" {print "machine " $1}'
    true`);
  return out.stdout.split("\n").filter(Boolean);
}

beforeAll(async () => {
  await makeRootfs(t.lab);
  const r = await sh(`set -e
    ip netns add out
    ip link add o0 type veth peer name o1
    ip link set o1 netns out
    ip addr add ${HOST}/24 dev o0; ip link set o0 up
    ip netns exec out ip addr add 198.18.0.2/24 dev o1
    ip netns exec out ip link set o1 up; ip netns exec out ip link set lo up
    ip netns exec out ip route add default via ${HOST}
    iptables -P FORWARD DROP`);
  if (r.status !== 0) throw new Error(`outside namespace: ${r.stderr}`);
  writeSpec(t.lab, "web", `network = "bridge"\nports = ["8080:80", "5353:53/udp"]\n[containers.srv]\ncommand = ["/usr/bin/python3", "-c", ${JSON.stringify(SERVER)}]\n`);
  writeSpec(t.lab, "client", `network = "bridge"\n[containers.c]\nrootfs = "${BUSYBOX_ROOTFS}"\ncommand = ["/bin/sleep", "100000"]\n`);
  writeSpec(t.lab, "dup", `network = "bridge"\nports = ["8080:80"]\n[containers.srv]\ncommand = ["/bin/sleep", "100000"]\n`);
}, 60_000);

describe("a bridged pod with published ports", () => {
  test("starts with an address; status and list show it", async () => {
    await startOk("web");
    await startOk("client");
    const s = JSON.parse((await podunit("status", "web", "--json")).stdout);
    expect(s.network.addresses[0]).toMatch(/^10\.123\.\d+\.\d+$/);
    expect(s.network.ports).toEqual(["0.0.0.0:8080->80/tcp", "0.0.0.0:5353->53/udp"]);
    expect((await podunit("list")).stdout).toContain(s.network.addresses[0]);
  });

  test("reached from outside, from 127.0.0.1 and from the lab's own address, TCP and UDP", async () => {
    const out = "ip netns exec out";
    await eventually("the server", async () => (await tcp(out, HOST, 8080)).stdout.includes("hello-tcp"));
    expect((await udp(out, HOST, 5353)).stdout).toContain("hello-udp");
    expect((await tcp("", "127.0.0.1", 8080)).stdout).toContain("hello-tcp");
    expect((await udp("", "127.0.0.1", 5353)).stdout).toContain("hello-udp");
    expect((await tcp("", HOST, 8080)).stdout).toContain("hello-tcp");
  });

  test("systemd-machined knows the pods: machinectl lists them, the host resolves their names, a stop removes them", async () => {
    const ip = await address("web");
    const list = await sh("machinectl list --no-legend --no-pager");
    expect(list.stdout).toMatch(/^web\s+container\s+podunit/m);
    expect(JSON.parse((await podunit("status", "client", "--json")).stdout).network.machine).toBe("registered");
    expect(list.stdout).toMatch(/^client\s+container\s+podunit/m);
    // nss-mymachines asks machined for the addresses in the machine's namespace.
    expect((await sh("getent ahostsv4 web")).stdout.trim().split(/\s+/)[0]).toBe(ip);
    const machine = await sh("machinectl show web --property=Unit --value");
    expect(machine.stdout.trim()).toBe("podunit-web-sandbox.service");
  });

  test("another bridged pod reaches it by name and through the host's address", async () => {
    const byName = await t.lab.run(["crun", "exec", "podunit-client.c", "sh", "-c", "nc web 80 </dev/null"]);
    expect(byName.stdout).toContain("hello-tcp");
    const hairpin = await t.lab.run(["crun", "exec", "podunit-client.c", "sh", "-c", `nc ${HOST} 8080 </dev/null`]);
    expect(hairpin.stdout).toContain("hello-tcp");
    expect((await t.lab.run(["crun", "exec", "podunit-client.c", "cat", "/etc/hosts"])).stdout).toMatch(/10\.123\.\S+\tweb\n/);
    const ip = await address("client");
    expect((await podunit("stop", "client")).status).toBe(0);
    expect(await netLeftovers("client", ip)).toEqual([]);
  });

  test("a second pod publishing the same host port is refused, naming who has it; nothing of it starts", async () => {
    const r = await podunit("start", "dup");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("*:8080/tcp is published by pod 'web'");
    expect(await leftovers(t.lab, "dup")).toEqual([]);
    expect(await netLeftovers("dup", "10.123.255.254")).toEqual([]);
  });

  test("a firewall flush cuts the port off; podunit network reconcile puts it back", async () => {
    await sh("nft flush ruleset; iptables -P FORWARD DROP");
    expect((await tcp("ip netns exec out", HOST, 8080)).stdout).not.toContain("hello-tcp");
    const r = await podunit("network", "reconcile");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect((await tcp("ip netns exec out", HOST, 8080)).stdout).toContain("hello-tcp");
    expect((await udp("ip netns exec out", HOST, 5353)).stdout).toContain("hello-udp");
  });

  test("stop leaves no veth, allocation, rule, conntrack entry, hosts line or machine", async () => {
    const ip = await address("web");
    expect((await podunit("stop", "web")).status).toBe(0);
    expect(await netLeftovers("web", ip)).toEqual([]);
    expect(await leftovers(t.lab, "web")).toEqual([]);
  });

  test("after the sandbox is killed with SIGKILL, its ExecStopPost tears the network down", async () => {
    await startOk("web");
    const ip = await address("web");
    await udp("ip netns exec out", HOST, 5353);
    await sh("systemctl kill -s KILL podunit-web-sandbox.service");
    await eventually("the sandbox to stop", async () => (await show("podunit-web-sandbox.service", "ActiveState")) !== "active");
    await eventually("the network to be torn down", async () => (await netLeftovers("web", ip)).length === 0 || undefined, 15_000);
    expect((await podunit("stop", "web")).status).toBe(0);
    expect(await netLeftovers("web", ip)).toEqual([]);
  });

  test(`${CYCLES} start/stop cycles leave nothing and reuse addresses; UDP works after each restart`, async () => {
    const seen = new Set<string>();
    for (let i = 0; i < CYCLES; i++) {
      await startOk("web");
      const ip = await address("web");
      seen.add(ip);
      // The server binds its port a moment after the start returns; a stale conntrack entry would keep every try from it.
      if (i % 10 === 0) await eventually("UDP after a restart", async () => (await udp("ip netns exec out", HOST, 5353)).stdout.includes("hello-udp"));
      expect((await podunit("stop", "web")).status).toBe(0);
      expect(await netLeftovers("web", ip)).toEqual([]);
    }
    // host-local hands out addresses round-robin within its range; with the range never exhausted, few are used.
    expect(seen.size).toBeLessThanOrEqual(CYCLES);
    expect(await leftovers(t.lab, "web")).toEqual([]);
  }, 900_000);
});
