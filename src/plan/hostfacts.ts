/**
 * Detects the host facts a plan depends on, cheaply: a few stat and readdir
 * calls, no child processes. The one module of src/plan that touches the disk.
 */
import { existsSync, readdirSync, readFileSync, statfsSync } from "node:fs";
import { DEFAULT_NETWORK, NETWORK_FILE, type NetworkConfig, parseNetworkConfig } from "../podspec/netconfig.ts";
import { DEFAULT_USERNS, parseUsernsConfig, type UsernsConfig, USERNS_FILE } from "../podspec/usernsconfig.ts";
import { basename } from "node:path";
import type { CgroupMode, HostFacts, HostPaths } from "./types.ts";
import { type Exists, findProgram, SEARCH_PATH } from "./programs.ts";

export { findProgram };


/** The PATH systemd gives services (and podunit its containers), used when a member's env sets none. */
export const SERVICE_PATH = SEARCH_PATH.join(":");

/** Extra places Debian and Podman put catatonit. */
const CATATONIT_DIRS = ["/usr/libexec/podman", "/usr/libexec/catatonit"];

/** systemd version assumed when it cannot be told from the file system (the caller asks systemd later). */
export const DEFAULT_SYSTEMD_VERSION = 252;

export const DEFAULT_RUN_DIR = "/run/podunit";

const CGROUP2_SUPER_MAGIC = 0x63677270;


/** Paths of the programs podunit runs; a missing one falls back to /usr/bin/<name> (the unit then fails to start, naming it). */
export function detectPaths(exists: Exists = existsSync, execPath: string = process.execPath): HostPaths {
  const need = (name: string, dirs: readonly string[] = SEARCH_PATH) => findProgram(name, dirs, exists) ?? `/usr/bin/${name}`;
  return {
    crun: findProgram("crun", SEARCH_PATH, exists),
    runc: findProgram("runc", SEARCH_PATH, exists),
    catatonit: need("catatonit", [...SEARCH_PATH, ...CATATONIT_DIRS]),
    unshare: need("unshare"),
    nsenter: need("nsenter"),
    rm: need("rm"),
    setpriv: need("setpriv"),
    sh: need("sh"),
    podunit: basename(execPath).startsWith("podunit") ? execPath : (findProgram("podunit", SEARCH_PATH, exists) ?? "/usr/local/bin/podunit"),
  };
}

/** cgroup v2 only (unified), v1 with a v2 tree beside it (hybrid), or v1 only (legacy). */
export function detectCgroupMode(root = "/sys/fs/cgroup"): CgroupMode {
  try {
    if (Number(statfsSync(root).type) === CGROUP2_SUPER_MAGIC) return "unified";
  } catch {
    // No statfs: tell the modes apart by the files each one has.
    if (existsSync(`${root}/cgroup.controllers`)) return "unified";
  }
  return existsSync(`${root}/unified/cgroup.controllers`) ? "hybrid" : "legacy";
}

/** systemd's version from the name of its shared library (libsystemd-shared-252.so), if found. */
export function detectSystemdVersion(): number | undefined {
  const dirs = ["/usr/lib/systemd", "/lib/systemd"];
  try {
    for (const d of readdirSync("/usr/lib")) if (d.endsWith("-linux-gnu")) dirs.push(`/usr/lib/${d}/systemd`);
  } catch {
    // No /usr/lib: only the fixed places are tried.
  }
  for (const d of dirs) {
    try {
      for (const f of readdirSync(d)) {
        const m = /^libsystemd-shared-(\d+)/.exec(f);
        if (m) return Number(m[1]);
      }
    } catch {
      // Directory missing: try the next.
    }
  }
  return undefined;
}

/**
 * Host facts for `plan()`. `systemdVersion`, when the caller knows it (the running
 * systemd's own answer), is taken as is instead of being looked for on disk.
 */
export function detectHostFacts(env: Record<string, string | undefined> = {}, systemdVersion?: number): HostFacts {
  return {
    systemdVersion: systemdVersion ?? detectSystemdVersion() ?? DEFAULT_SYSTEMD_VERSION,
    cgroupMode: detectCgroupMode(),
    paths: detectPaths(),
    runDir: env.PODUNIT_RUN_DIR || DEFAULT_RUN_DIR,
    network: networkConfigReader(env),
  };
}

/** The configuration directory: /etc/podunit, or PODUNIT_CONFIG_DIR (tests). */
export function configDir(env: Record<string, string | undefined>): string {
  return env.PODUNIT_CONFIG_DIR || "/etc/podunit";
}

/** Reads `<configDir>/<name>`: a missing file gives `defaults`, a bad one throws (its parser's error). */
function readConfigFile<T>(env: Record<string, string | undefined>, name: string, parse: (text: string, file: string) => T, defaults: T): T {
  const file = `${configDir(env)}/${name}`;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    return defaults;
  }
  return parse(text, file);
}

/** Reads `<configDir>/network.toml` once, when first asked; a missing file gives the defaults, a bad one throws. */
export function networkConfigReader(env: Record<string, string | undefined>): () => NetworkConfig {
  let cached: NetworkConfig | undefined;
  return () => (cached ??= readConfigFile(env, NETWORK_FILE, parseNetworkConfig, DEFAULT_NETWORK));
}

/** Reads `<configDir>/userns.toml`: podunit's block of host ids for userns pods; a missing file gives the defaults, a bad one throws. */
export function readUsernsConfig(env: Record<string, string | undefined>): UsernsConfig {
  return readConfigFile(env, USERNS_FILE, parseUsernsConfig, DEFAULT_USERNS);
}
