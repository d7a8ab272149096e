/**
 * `login` and `logout`: credentials are checked against the registry before they
 * are stored (a typo is found now, not at the next pull), then kept in auth.json.
 */
import { UsageError } from "../../errors.ts";
import { removeCredentials, saveCredentials, type Credentials } from "./auth.ts";
import { RegistryClient } from "./client.ts";
import { DEFAULT_CONFIG_DIR, loadRegistryConfig } from "./config.ts";

const REGISTRY = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;

/** `docker.io` for Docker Hub's other names; refuses what is not HOST[:PORT]. */
export function registryName(s: string): string {
  const host = s.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  if (!REGISTRY.test(host)) throw new UsageError(`'${s}' is not a registry name (HOST[:PORT], e.g. 'registry.example:5000' or 'docker.io').`);
  return ["index.docker.io", "registry-1.docker.io"].includes(host) ? "docker.io" : host;
}

/** Checks the credentials with the registry and stores them; returns the registry's name as stored. */
export async function login(registry: string, creds: Credentials, opts: { configDir?: string } = {}): Promise<string> {
  const name = registryName(registry);
  if (!creds.username || creds.username.includes(":")) throw new UsageError("The user name must be given and cannot contain ':'.");
  if (!creds.password) throw new UsageError("The password is empty.");
  const dir = opts.configDir ?? DEFAULT_CONFIG_DIR;
  const client = new RegistryClient(name, { config: loadRegistryConfig(dir) });
  client.useCredentials(creds);
  const res = await client.get("", { what: "its API root (/v2/)" });
  await res.body?.cancel();
  saveCredentials(dir, name, creds);
  return name;
}

/** Forgets a registry's credentials; false when there were none. */
export function logout(registry: string, opts: { configDir?: string } = {}): boolean {
  return removeCredentials(opts.configDir ?? DEFAULT_CONFIG_DIR, registryName(registry));
}
