/**
 * podunit's registry configuration, in its configuration directory
 * (`/etc/podunit`, or another one the command layer passes):
 *   registries.toml       `insecure = ["HOST[:PORT]", ...]` and `[mirrors]` ("docker.io" = "HOST[:PORT]")
 *   certs.d/HOST[:PORT]/  `*.crt` trusted for that registry (ca.crt), and `client.cert` + `client.key`
 *   auth.json             credentials (auth.ts)
 * Nothing here is guessed: plain HTTP is used only for a registry listed as insecure.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { readToml } from "../../podspec/toml.ts";
import { PodunitError } from "../../errors.ts";

export const DEFAULT_CONFIG_DIR = "/etc/podunit";
/** Where Debian (and most distributions) keep the system's trusted certificates. */
const SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

export interface RegistryConfig {
  /** The configuration directory the rest was read from. */
  dir: string;
  /** Registries (HOST[:PORT]) reached over plain HTTP, or HTTPS without verification. */
  insecure: Set<string>;
  /** Registry name → the registry that serves it instead (`docker.io` → `127.0.0.1:5000`). */
  mirrors: Map<string, string>;
}

const HOST = /^[A-Za-z0-9.-]+(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;

function configError(file: string, why: string): PodunitError {
  return new PodunitError(`Invalid registry configuration '${file}': ${why}.`, {
    hint: 'It holds e.g. insecure = ["127.0.0.1:5000"] and [mirrors] "docker.io" = "mirror.example:5000"; see docs/images.md.',
  });
}

/** Reads `registries.toml` from `dir`; a missing file is an empty configuration. */
export function loadRegistryConfig(dir: string = DEFAULT_CONFIG_DIR): RegistryConfig {
  const file = `${dir}/registries.toml`;
  const cfg: RegistryConfig = { dir, insecure: new Set(), mirrors: new Map() };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return cfg;
    throw configError(file, (e as Error).message);
  }
  // The spec's TOML reader: Bun's parser where it reads what @iarna/toml reads, @iarna/toml otherwise,
  // which is loaded only then (every podunit command would pay for it).
  const parsed = readToml(text);
  if (!parsed.ok) throw configError(file, parsed.touchedBuiltins ? "a key names a built-in property" : String((parsed.error as Error)?.message ?? parsed.error).split("\n")[0]!);
  const doc = parsed.value;
  for (const key of Object.keys(doc)) if (key !== "insecure" && key !== "mirrors") throw configError(file, `unknown key '${key}'`);
  const insecure = doc.insecure ?? [];
  if (!Array.isArray(insecure) || !insecure.every((h) => typeof h === "string" && HOST.test(h))) {
    throw configError(file, "'insecure' must be a list of HOST[:PORT] strings");
  }
  for (const h of insecure as string[]) cfg.insecure.add(h);
  const mirrors = doc.mirrors ?? {};
  if (typeof mirrors !== "object" || mirrors === null || Array.isArray(mirrors)) throw configError(file, "'mirrors' must be a table");
  for (const [from, to] of Object.entries(mirrors)) {
    if (typeof to !== "string" || !HOST.test(to)) throw configError(file, `mirror of '${from}' must be a HOST[:PORT] string`);
    cfg.mirrors.set(from, to);
  }
  return cfg;
}

/** The TLS settings for one registry: the system's roots plus its own, and a client certificate if it has one. */
export interface TlsSettings {
  ca: string[];
  cert?: string;
  key?: string;
  /** The files the extra trust came from, for messages. */
  files: string[];
}

/** `certs.d/HOST[:PORT]/`: every `*.crt` is trusted in addition to the system's roots. */
export function tlsFor(dir: string, host: string): TlsSettings {
  const certs = `${dir}/certs.d/${host}`;
  // node:tls only when the system bundle is missing: its set-up would otherwise cost every command.
  const system = existsSync(SYSTEM_BUNDLE) ? [readFileSync(SYSTEM_BUNDLE, "utf8")] : [...(require("node:tls") as typeof import("node:tls")).rootCertificates];
  const out: TlsSettings = { ca: system, files: [] };
  let names: string[];
  try {
    names = readdirSync(certs).sort();
  } catch {
    return out;
  }
  for (const n of names) {
    if (n.endsWith(".crt")) {
      out.ca.push(readFileSync(`${certs}/${n}`, "utf8"));
      out.files.push(`${certs}/${n}`);
    }
  }
  if (names.includes("client.cert") && names.includes("client.key")) {
    out.cert = readFileSync(`${certs}/client.cert`, "utf8");
    out.key = readFileSync(`${certs}/client.key`, "utf8");
  }
  return out;
}
