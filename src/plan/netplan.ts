/**
 * What a bridged pod's network adds to the rest of the plan, kept here so the
 * unit builders stay as they are: the sandbox's ExecStopPost that tears the
 * network down whenever the sandbox stops, the planned network's copy in the
 * run directory (unit files read it back), the hosts file bound into rootfs
 * members as /etc/hosts, and the unit-file lines. Pure.
 */
import type { ExecCommand, UnitProperty } from "../systemd/properties.ts";
import { sortProperties } from "../systemd/properties.ts";
import { type Ctx, exec, prop } from "./builder.ts";
import { NetworkLayout, networkDownCommand, networkFile, networkUpArgv, planNetwork, type PlannedNetwork } from "./network.ts";
import { configJson } from "./oci.ts";
import type { HostPaths, PlannedFile, PlannedUnit } from "./types.ts";

export interface NetworkParts {
  planned?: PlannedNetwork;
  /** The sandbox's properties with the network's tear-down added. */
  sandbox(props: UnitProperty[]): UnitProperty[];
  /** Adds the network's file and the hosts mount of rootfs members to the plan's files. */
  files(files: PlannedFile[]): void;
}

function appendCommand(props: UnitProperty[], key: "ExecStopPostEx" | "ExecStartPostEx", cmd: ExecCommand): UnitProperty[] {
  const old = props.find((p) => p.key === key)?.value as ExecCommand[] | undefined;
  return [...props.filter((p) => p.key !== key), prop(key, [...(old ?? []), cmd])];
}

export function networkParts(c: Ctx): NetworkParts {
  const planned = planNetwork(c.spec, c.spec.network === "bridge" ? c.host.network?.() : undefined, c.host.runDir, c.layout.pin("net"));
  if (!planned) return { sandbox: (p) => p, files: () => {} };
  const hosts = new NetworkLayout(c.host.runDir).hostsFile;
  return {
    planned,
    sandbox: (props) => appendCommand(props, "ExecStopPostEx", networkDownCommand(c.host.paths.podunit, c.host.runDir, c.spec.name)),
    files(files) {
      files.push({ path: networkFile(c.layout.dir), mode: 0o600, content: `${JSON.stringify(planned)}\n` });
      // Rootfs members see the pods' hosts file as /etc/hosts: they have a mount namespace of their own anyway.
      for (const f of files) {
        if (!f.path.startsWith(`${c.layout.bundlesDir}/`) || !f.path.endsWith("/config.json")) continue;
        const config = JSON.parse(f.content) as { mounts?: object[] };
        config.mounts = [...(config.mounts ?? []), { destination: "/etc/hosts", type: "bind", source: hosts, options: ["rbind", "ro", "nosuid", "nodev", "noexec"] }];
        f.content = configJson(config);
      }
    },
  };
}

/**
 * The unit-file form of the network step: after `internal ready` (an earlier
 * ExecStartPost line, so the pin exists), `internal network-up` reads the planned
 * network from the run directory. A pod that publishes ports starts after the
 * host's network is online, so its ports are reachable when it is reported up.
 */
export function networkUnitFile(sandbox: PlannedUnit, n: PlannedNetwork | undefined, podRunDir: string, paths: Pick<HostPaths, "podunit">): PlannedUnit {
  if (!n) return sandbox;
  let props = appendCommand(sandbox.properties, "ExecStartPostEx", exec(paths.podunit, networkUpArgv(podRunDir)));
  if (n.ports.length) {
    const names = (key: "After" | "Wants") => (props.find((p) => p.key === key)?.value as string[] | undefined) ?? [];
    props = [
      ...props.filter((p) => p.key !== "After" && p.key !== "Wants"),
      prop("After", [...names("After"), "network-online.target"]),
      prop("Wants", [...names("Wants"), "network-online.target"]),
    ];
  }
  return { ...sandbox, properties: sortProperties(props) };
}
