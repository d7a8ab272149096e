/**
 * Registry credentials in the `auths` format Docker and Podman use
 * (`{"auths": {"HOST[:PORT]": {"auth": base64("user:password")}}}`), kept in
 * `auth.json` of podunit's configuration directory with mode 0600, and the
 * parsing of a registry's `WWW-Authenticate` challenge.
 *
 * A password is only ever decoded into a `Credentials` value that goes into an
 * `Authorization` header; no message here or elsewhere includes it.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { PodunitError } from "../../errors.ts";

export interface Credentials {
  username: string;
  password: string;
}

type AuthFile = { auths?: Record<string, { auth?: string; [k: string]: unknown }>; [k: string]: unknown };

/** The keys other tools may have written for Docker Hub. */
const DOCKER_HUB_KEYS = ["docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"];

export function authFile(dir: string): string {
  return `${dir}/auth.json`;
}

function readAuthFile(file: string): AuthFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new PodunitError(`Cannot read the credentials file '${file}': ${(e as Error).message}.`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not a JSON object");
    return v as AuthFile;
  } catch (e) {
    throw new PodunitError(`The credentials file '${file}' is not valid: ${(e as Error).message}.`, {
      hint: "It holds {\"auths\": {\"HOST\": {\"auth\": \"...\"}}}; remove it and log in again with 'podunit login HOST'.",
    });
  }
}

/** A key of `auths` as the registry it names: `https://host:5000/v2/` → `host:5000`. */
function keyHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//, "").replace(/\/.*$/, "");
}

/** The credentials stored for a registry (`docker.io` also under Docker Hub's other names), if any. */
export function credentialsFor(dir: string, registry: string): Credentials | undefined {
  const auths = readAuthFile(authFile(dir)).auths ?? {};
  const wanted = DOCKER_HUB_KEYS.includes(registry) ? DOCKER_HUB_KEYS : [registry];
  for (const [key, entry] of Object.entries(auths)) {
    if (!wanted.includes(key) && !wanted.includes(keyHost(key))) continue;
    if (typeof entry?.auth !== "string") continue;
    const plain = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = plain.indexOf(":");
    if (colon <= 0) {
      throw new PodunitError(`The credentials for '${registry}' in '${authFile(dir)}' are not of the form user:password.`, {
        hint: `Log in again with 'podunit login ${registry}'.`,
      });
    }
    return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
  }
  return undefined;
}

function writeAuthFile(dir: string, doc: AuthFile): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const file = authFile(dir);
  const tmp = `${file}.${process.pid}.new`;
  // Created 0600 before a byte is written, so the password is never readable by others.
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, JSON.stringify(doc, null, 2) + "\n");
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    try {
      closeSync(fd);
    } catch {
      // closed above
    }
  }
  renameSync(tmp, file);
}

/** Stores credentials for a registry, keeping the file's other entries and keys. */
export function saveCredentials(dir: string, registry: string, c: Credentials): void {
  const doc = readAuthFile(authFile(dir));
  const auths = { ...(doc.auths ?? {}) };
  for (const k of Object.keys(auths)) if (keyHost(k) === registry) delete auths[k];
  auths[registry] = { auth: Buffer.from(`${c.username}:${c.password}`, "utf8").toString("base64") };
  writeAuthFile(dir, { ...doc, auths });
}

/** Removes a registry's credentials; false when there were none. */
export function removeCredentials(dir: string, registry: string): boolean {
  const doc = readAuthFile(authFile(dir));
  const auths = { ...(doc.auths ?? {}) };
  const keys = Object.keys(auths).filter((k) => k === registry || keyHost(k) === registry);
  if (keys.length === 0) return false;
  for (const k of keys) delete auths[k];
  writeAuthFile(dir, { ...doc, auths });
  return true;
}

/** One challenge of a `WWW-Authenticate` header: `Bearer realm="...",service="...",scope="..."`. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a `WWW-Authenticate` header (RFC 7235 auth-params, quoted or not). */
export function parseChallenges(header: string | null): Challenge[] {
  const out: Challenge[] = [];
  if (!header) return out;
  const re = /\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?:\s+|$)|\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)\s*,?/y;
  let pos = 0;
  let cur: Challenge | undefined;
  while (pos < header.length) {
    re.lastIndex = pos;
    const m = re.exec(header);
    if (!m || m[0] === "") break;
    pos = re.lastIndex;
    if (m[1] !== undefined) {
      cur = { scheme: m[1].toLowerCase(), params: {} };
      out.push(cur);
    } else if (cur && m[2] !== undefined) {
      cur.params[m[2].toLowerCase()] = m[4] !== undefined ? m[4].replace(/\\(.)/g, "$1") : m[3]!;
    }
    while (header[pos] === "," || header[pos] === " ") pos++;
  }
  return out;
}
