/**
 * Published ports: `[HOST_IP:]HOST_PORT:POD_PORT[/tcp|/udp]`, the form people
 * know from other container tools. Pure; every refusal says what was expected.
 */
import type { Parsed } from "./grammar.ts";

export type Protocol = "tcp" | "udp";

export interface PortMapping {
  /** The host address to publish on; undefined = every address of the host. */
  hostIp?: string;
  hostPort: number;
  podPort: number;
  protocol: Protocol;
}

export const PORT_EXPECTED = `"[HOST_IP:]HOST_PORT:POD_PORT[/tcp|/udp]" such as "8080:80", "127.0.0.1:8443:443" or "5353:53/udp"`;

/** A dotted IPv4 address, each part 0-255 written without leading zeros. */
export function isIpv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

function port(s: string, what: string, whole: string): Parsed<number> {
  if (!/^\d+$/.test(s)) return { ok: false, message: `expected ${what} as a number 1-65535 in ${PORT_EXPECTED}, found ${JSON.stringify(whole)}` };
  const n = Number(s);
  if (n < 1 || n > 65535 || (s.length > 1 && s.startsWith("0"))) {
    return { ok: false, message: `expected ${what} from 1 to 65535 (without leading zeros), found ${JSON.stringify(s)} in ${JSON.stringify(whole)}` };
  }
  return { ok: true, value: n };
}

/** Parses one `ports` entry. */
export function parsePort(text: string): Parsed<PortMapping> {
  const bad = (why: string): Parsed<PortMapping> => ({ ok: false, message: `expected ${PORT_EXPECTED}, found ${JSON.stringify(text)}: ${why}` });
  let rest = text;
  let protocol: Protocol = "tcp";
  const slash = rest.lastIndexOf("/");
  if (slash >= 0) {
    const p = rest.slice(slash + 1);
    if (p !== "tcp" && p !== "udp") return bad(`the protocol must be tcp or udp, not ${JSON.stringify(p)}`);
    protocol = p;
    rest = rest.slice(0, slash);
  }
  if (rest.startsWith("[") || rest.split(":").length > 3) return bad("IPv6 host addresses are not supported; publish on every address or an IPv4 one");
  const parts = rest.split(":");
  if (parts.length < 2) return bad("both the host port and the pod port are needed");
  if (parts.some((p) => p.includes("-"))) return bad("port ranges are not supported; list each port");
  let hostIp: string | undefined;
  if (parts.length === 3) {
    hostIp = parts[0]!;
    if (!isIpv4(hostIp)) return bad(`${JSON.stringify(hostIp)} is not an IPv4 address`);
  }
  const host = port(parts[parts.length - 2]!, "the host port", text);
  if (!host.ok) return host;
  const pod = port(parts[parts.length - 1]!, "the pod port", text);
  if (!pod.ok) return pod;
  return { ok: true, value: { ...(hostIp !== undefined ? { hostIp } : {}), hostPort: host.value, podPort: pod.value, protocol } };
}

/** `HOST_IP:HOST_PORT/PROTO`, the form messages name a published port by. */
export function formatHostPort(p: Pick<PortMapping, "hostIp" | "hostPort" | "protocol">): string {
  return `${p.hostIp ?? "*"}:${p.hostPort}/${p.protocol}`;
}

/** Whether two mappings claim the same host port (the same protocol, and addresses that overlap). */
export function samePort(a: Pick<PortMapping, "hostIp" | "hostPort" | "protocol">, b: Pick<PortMapping, "hostIp" | "hostPort" | "protocol">): boolean {
  if (a.hostPort !== b.hostPort || a.protocol !== b.protocol) return false;
  return a.hostIp === undefined || b.hostIp === undefined || a.hostIp === b.hostIp;
}
