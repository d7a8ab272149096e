/**
 * Checks made before anything is started: every host member's program exists
 * and every rootfs exists. A member whose program is missing would otherwise
 * "start" (systemd only sees its nsenter wrapper exec) and die right after.
 */
import { NotFoundError, PermissionError } from "../errors.ts";
import type { HostLookup } from "../host/ports.ts";
import { SERVICE_PATH } from "../plan/hostfacts.ts";
import type { PodSpec } from "../podspec/types.ts";

export type { HostLookup } from "../host/ports.ts";

/**
 * Resolves `path` inside the directory tree `root` as if `root` were `/`:
 * symbolic links, absolute ones included, never lead out of it. Returns the
 * host path, or undefined after too many links.
 */
export function resolveInRoot(root: string, path: string, host: HostLookup): string | undefined {
  const todo = path.split("/").filter(Boolean);
  const done: string[] = [];
  for (let hops = 0; todo.length > 0; ) {
    const part = todo.shift()!;
    if (part === ".") continue;
    if (part === "..") {
      done.pop();
      continue;
    }
    const target = host.readLink(`${root}/${[...done, part].join("/")}`);
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++hops > 40) return undefined;
    if (target.startsWith("/")) done.length = 0;
    todo.unshift(...target.split("/").filter(Boolean));
  }
  return `${root}/${done.join("/")}`;
}

/** Whether `cmd` is an executable file in the tree `root` (as `/`): at its path from `workdir`, or along `path`. */
export function findInRoot(root: string, cmd: string, path: string, workdir: string, host: HostLookup): boolean {
  const inRoot = (p: string) => {
    const real = resolveInRoot(root, p, host);
    return real !== undefined && host.isExecutableFile(real);
  };
  return cmd.includes("/") ? inRoot(cmd.startsWith("/") ? cmd : `${workdir}/${cmd}`) : path.split(":").some((d) => d !== "" && inRoot(`${d}/${cmd}`));
}

/** Where a host member's program is found, or undefined. */
export function findCommand(cmd: string, path: string, host: HostLookup): string | undefined {
  if (cmd.includes("/")) return host.isExecutableFile(cmd) ? cmd : undefined;
  for (const dir of path.split(":")) {
    if (dir && host.isExecutableFile(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  }
  return undefined;
}

/**
 * Throws one error listing every member that cannot start on this host: a
 * PermissionError when a rootfs is the host's own root directory (a member would
 * get the whole host as its file system), a NotFoundError otherwise.
 */
export function preflight(spec: PodSpec, host: HostLookup): void {
  const problems: string[] = [];
  let refused = false;
  for (const m of spec.members) {
    // An image member is checked against its image (pods/images.ts), whose config may give its command.
    if (m.image !== undefined) continue;
    const path = m.env.PATH ?? SERVICE_PATH;
    if (m.rootfs !== undefined) {
      if (!host.isDirectory(m.rootfs)) {
        problems.push(`member '${m.name}': rootfs '${m.rootfs}' is not a directory`);
        continue;
      }
      if (host.isHostRoot(m.rootfs)) {
        problems.push(`member '${m.name}': rootfs '${m.rootfs}' is the host's root directory '/' (a link or bind mount to it)`);
        refused = true;
        continue;
      }
      const cmd = m.command[0]!;
      if (!findInRoot(m.rootfs, cmd, path, m.workdir ?? "/", host)) problems.push(`member '${m.name}': program '${cmd}' is not in its rootfs '${m.rootfs}'`);
      continue;
    }
    if (!findCommand(m.command[0]!, path, host)) {
      problems.push(
        m.command[0]!.includes("/")
          ? `member '${m.name}': program '${m.command[0]}' does not exist or is not executable`
          : `member '${m.name}': program '${m.command[0]}' is not in PATH (${path})`,
      );
    }
  }
  if (problems.length && refused) {
    throw new PermissionError(
      `Failed to start pod '${spec.name}': ${problems.join("; ")}.`,
      `Give the member a root file system of its own, or leave rootfs out to run it on the host's file system. Fix ${spec.file}.`,
    );
  }
  if (problems.length) {
    throw new NotFoundError(`Failed to start pod '${spec.name}': ${problems.join("; ")}.`, `Fix ${spec.file}, or install what is missing.`);
  }
}
