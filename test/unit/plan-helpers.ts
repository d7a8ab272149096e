/** Fixed host facts and small spec builders for plan and render tests. */
import type { MemberSpec, PodSpec } from "../../src/podspec/types.ts";
import type { HostFacts, Plan, PlannedUnit } from "../../src/plan/types.ts";
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
    podunit: "/usr/local/bin/podunit",
  },
};

/** The same host without runc. */
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
