/**
 * Where a container runc starts for a unit lives in the cgroup tree, and how the
 * unit forgets it after it stopped; both depend on the host's cgroup layout.
 */
import type { ExecCommand } from "../systemd/properties.ts";
import { type Ctx, exec, IGNORE } from "./builder.ts";

/** runc's state directory for root: one directory per container, named by its id. */
export const RUNC_ROOT = "/run/runc";

/**
 * The container's cgroup. On cgroup v1 (legacy, hybrid): a child of the unit's
 * cgroup, so runc can set up the controllers systemd does not manage. On cgroup v2:
 * the unit's own cgroup. A child there would need the unit's root cgroup to hold no
 * processes once controllers are enabled for the child (cgroup v2 allows processes
 * only in leaves), but systemd 252 always places a unit's control processes
 * (ExecStartPost=, ExecStopPost=) in that root, and runc, finding it busy, turns the
 * child into a threaded cgroup that systemd can then no longer manage.
 */
export function containerCgroup(c: Ctx, unitCgroup: string, leaf: string): string {
  return c.host.cgroupMode === "unified" ? unitCgroup : `${unitCgroup}/${leaf}`;
}

/**
 * ExecStopPost= that makes runc forget a stopped container. On cgroup v1, `runc
 * delete -f`, which also removes the container's cgroups in every hierarchy. On
 * cgroup v2 the container's cgroup is the unit's, removed by systemd, and `runc
 * delete` run from inside it would signal (for a joined PID namespace: freeze) every
 * process of that cgroup, itself included; all that is left to do is to remove
 * runc's state directory for the container.
 */
export function forgetContainer(c: Ctx, id: string): ExecCommand {
  const { paths } = c.host;
  return c.host.cgroupMode === "unified"
    ? exec(paths.rm, ["-rf", `${RUNC_ROOT}/${id}`], IGNORE)
    : exec(paths.runc!, ["delete", "-f", id], IGNORE);
}
