/** Fixed host facts and small spec builders for plan and render tests. */
import type { MemberSpec, PodSpec } from "../../src/podspec/types.ts";
import type { HostFacts, ImageFacts, Plan, PlannedUnit } from "../../src/plan/types.ts";
import type { PropertyKey, PropertyValues } from "../../src/systemd/properties.ts";

export const HOST: HostFacts = {
  systemdVersion: 252,
  cgroupMode: "hybrid",
  runDir: "/run/podunit",
  paths: {
    runc: "/usr/bin/runc",
    catatonit: "/usr/bin/catatonit",
    unshare: "/usr/bin/unshare",
    nsenter: "/usr/bin/nsenter",
    rm: "/usr/bin/rm",
    setpriv: "/usr/bin/setpriv",
    sh: "/usr/bin/sh",
    podunit: "/usr/local/bin/podunit",
  },
};

/** The same host with crun installed beside runc (crun is then the default runtime). */
export const HOST_CRUN: HostFacts = { ...HOST, paths: { ...HOST.paths, crun: "/usr/bin/crun" } };

/** The same host without runc (and without crun). */
export const HOST_NO_RUNC: HostFacts = { ...HOST, paths: { ...HOST.paths, runc: undefined } };

export function member(name: string, over: Partial<MemberSpec> = {}): MemberSpec {
  return {
    name,
    kind: "service",
    command: ["/usr/bin/sleep", "infinity"],
    env: {},
    readonlyRootfs: false,
    limits: {},
    restart: over.kind === "init" ? "no" : "on-failure",
    after: [],
    ...over,
  };
}

export function pod(over: Partial<PodSpec> = {}): PodSpec {
  const name = over.name ?? "web";
  return {
    name,
    file: `/etc/podunit/pods/${name}.toml`,
    hostname: name,
    share: ["ipc", "net", "uts"],
    hostNetwork: false,
    hostIpc: false,
    hostPid: false,
    limits: {},
    members: [member("db")],
    ...over,
  };
}

/** The value of one property of a unit, or undefined. */
export function val<K extends PropertyKey>(u: Pick<PlannedUnit, "properties">, key: K): PropertyValues[K] | undefined {
  return u.properties.find((p) => p.key === key)?.value as PropertyValues[K] | undefined;
}

/** argv of each command of an Exec property. */
export function argvs(u: PlannedUnit, key: "ExecStartPreEx" | "ExecStartEx" | "ExecStartPostEx" | "ExecStopPostEx"): string[][] {
  return (val(u, key) ?? []).map((c) => c.argv);
}

export function memberUnit(p: Plan, name: string): PlannedUnit {
  const u = p.members.find((m) => m.member === name);
  if (!u) throw new Error(`no member ${name}`);
  return u;
}

/** The parsed config.json written for a path suffix. */
export function configAt(p: Plan, suffix: string): any {
  const f = p.files.find((x) => x.path.endsWith(suffix));
  if (!f) throw new Error(`no file ${suffix}`);
  return JSON.parse(f.content);
}

/** Image facts for plan tests: what the pods layer would have found in a store at /var/lib/podunit/images. */
export const APP_DIGEST = `sha256:${"a".repeat(64)}`;
export const TOOL_DIGEST = `sha256:${"b".repeat(64)}`;
const layer = (c: string) => `/var/lib/podunit/images/layers/sha256/${c.repeat(64)}`;

export const TEST_IMAGES: ReadonlyMap<string, ImageFacts> = new Map<string, ImageFacts>([
  [
    "localhost/app:1",
    {
      manifestDigest: APP_DIGEST,
      store: "/var/lib/podunit/images",
      layers: [layer("1"), layer("2")],
      config: {
        entrypoint: ["/app/server"],
        cmd: ["--port", "8080"],
        env: ["PATH=/app:/bin", "MODE=image", "LANG=C.UTF-8"],
        workingDir: "/app",
        user: "app",
        stopSignal: "SIGQUIT",
      },
      passwd: { root: { uid: 0, gid: 0 }, app: { uid: 1000, gid: 1000 } },
      groups: { root: 0, app: 1000, staff: 50 },
    },
  ],
  [
    "busybox",
    {
      manifestDigest: TOOL_DIGEST,
      store: "/var/lib/podunit/images",
      layers: [layer("3")],
      config: { cmd: ["sh"] },
      passwd: { root: { uid: 0, gid: 0 }, nobody: { uid: 65534, gid: 65534 } },
      groups: { root: 0, nogroup: 65534 },
    },
  ],
]);
