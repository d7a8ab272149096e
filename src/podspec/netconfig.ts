/**
 * The host's pod network, `/etc/podunit/network.toml`: the bridge's name, the
 * IPv4 subnet pods get addresses from, and an optional IPv6 subnet. A missing
 * file means the defaults; a bad one is refused with every problem and its
 * line. Pure: text in, config or error out.
 */
import { ExitCode, formatSpecIssue, PodunitError, type SpecIssue } from "../errors.ts";
import { quote } from "./describe.ts";
import { Checker, checkKeys, get, readString, type Table } from "./fields.ts";
import { indexSource } from "./locate.ts";
import { resolveIssues, syntaxIssue } from "./parse.ts";
import { isIpv4 } from "./ports.ts";
import { readToml } from "./toml.ts";

export interface Subnet {
  /** The network address, e.g. "10.123.0.0". */
  address: string;
  prefix: number;
  /** As written, normalised: "10.123.0.0/16". */
  cidr: string;
}

export interface NetworkConfig {
  /** The host bridge pods are attached to. */
  bridge: string;
  subnet: Subnet;
  /** IPv6 addresses too, when set. */
  subnet6?: Subnet;
}

/** Chosen away from the ranges Podman (10.88/16, 10.89/16) and Docker (172.17/16) use, so both can run beside podunit. */
export const DEFAULT_SUBNET = "10.123.0.0/16";
export const DEFAULT_BRIDGE = "podunit0";
export const NETWORK_FILE = "network.toml";
const KEYS = ["bridge", "subnet", "subnet6"] as const;

export const DEFAULT_NETWORK: NetworkConfig = { bridge: DEFAULT_BRIDGE, subnet: parseSubnet4(DEFAULT_SUBNET) as Subnet };

/** A network configuration file that cannot be used. */
export class NetworkConfigError extends PodunitError {
  constructor(readonly issues: SpecIssue[]) {
    const head = issues.length === 1 ? "Invalid network configuration" : `Invalid network configuration (${issues.length} problems)`;
    super(`${head}:\n${issues.map((i) => `  ${formatSpecIssue(i)}`).join("\n")}`, {
      exitCode: ExitCode.INVALID_SPEC,
      hint: "Fix the file, or remove it to use the defaults (docs/networking.md).",
    });
  }
}

function ipv4ToInt(s: string): number {
  return s.split(".").reduce((n, p) => n * 256 + Number(p), 0);
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** "10.123.0.0/16" → Subnet; a string saying why not otherwise. Pods need room for a gateway and at least two addresses. */
export function parseSubnet4(s: string): Subnet | string {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(s);
  if (!m || !isIpv4(m[1]!)) return `expected an IPv4 subnet such as ${quote(DEFAULT_SUBNET)}, found ${quote(s)}`;
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 29) return `expected a prefix length from 8 to 29 (room for a gateway and pods), found /${prefix}`;
  const n = ipv4ToInt(m[1]!);
  const size = 2 ** (32 - prefix);
  if (n % size !== 0) return `expected the subnet's network address, ${intToIpv4(n - (n % size))}/${prefix}, found ${quote(s)} (host bits set)`;
  return { address: m[1]!, prefix, cidr: `${m[1]}/${prefix}` };
}

/** An IPv6 subnet: checked for form and prefix length (64-120); the plugins check the rest. */
export function parseSubnet6(s: string): Subnet | string {
  const m = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(s);
  if (!m || !m[1]!.includes(":") || (m[1]!.match(/::/g) ?? []).length > 1) return `expected an IPv6 subnet such as "fd00:7b::/64", found ${quote(s)}`;
  const prefix = Number(m[2]);
  if (prefix < 64 || prefix > 120) return `expected a prefix length from 64 to 120, found /${prefix}`;
  return { address: m[1]!.toLowerCase(), prefix, cidr: `${m[1]!.toLowerCase()}/${prefix}` };
}

/** A Linux interface name: 1-15 characters, no '/', whitespace or ':'. */
function checkBridge(s: string): string | undefined {
  if (s.length === 0 || s.length > 15) return `expected an interface name of 1 to 15 characters, found ${quote(s)}`;
  if (!/^[A-Za-z0-9_.-]+$/.test(s) || s === "." || s === "..") return `expected an interface name of letters, digits, '_', '.' and '-', found ${quote(s)}`;
  return undefined;
}

/** Parses the text of a network.toml; `file` names it in messages. Throws NetworkConfigError. */
export function parseNetworkConfig(text: string, file: string): NetworkConfig {
  const read = readToml(text);
  if (!read.ok) throw new NetworkConfigError([syntaxIssue(read.error, text, file)]);
  const t: Table = read.value;
  const c = new Checker(() => indexSource(text));
  checkKeys(c, t, [], KEYS);
  const bridge = readString(c, get(t, "bridge"), ["bridge"], `an interface name such as ${quote(DEFAULT_BRIDGE)}`) ?? DEFAULT_BRIDGE;
  const bridgeProblem = checkBridge(bridge);
  if (bridgeProblem) c.add(["bridge"], bridgeProblem);
  const subnet = readSubnet(c, t, "subnet", parseSubnet4) ?? DEFAULT_NETWORK.subnet;
  const subnet6 = readSubnet(c, t, "subnet6", parseSubnet6);
  if (c.issues.length) throw new NetworkConfigError(resolveIssues(c, c.issues, file));
  return { bridge, subnet, ...(subnet6 ? { subnet6 } : {}) };
}

function readSubnet(c: Checker, t: Table, key: string, parse: (s: string) => Subnet | string): Subnet | undefined {
  const s = readString(c, get(t, key), [key], "a subnet in CIDR form");
  if (s === undefined) return undefined;
  const r = parse(s);
  if (typeof r === "string") {
    c.add([key], r);
    return undefined;
  }
  return r;
}
