/** The real Containers: reads the OCI runtimes' state directories, deletes with the runtime that knows the container. */
import { existsSync, readdirSync } from "node:fs";
import { PodunitError } from "../errors.ts";
import type { OciRuntime } from "../podspec/types.ts";
import { RUNTIME_PREFERENCE, RUNTIME_ROOT, type Runtime } from "../plan/runtime.ts";
import type { HostPaths } from "../plan/types.ts";
import type { Containers } from "./ports.ts";

/** The installed runtime whose state directory holds container `id`, or undefined when none does. */
export function containerRuntime(paths: Pick<HostPaths, OciRuntime>, id: string): Runtime | undefined {
  for (const name of RUNTIME_PREFERENCE) {
    const path = paths[name];
    if (path !== undefined && existsSync(`${RUNTIME_ROOT[name]}/${id}`)) return { name, path };
  }
  return undefined;
}

/** Containers as the installed runtimes know them; a container of a runtime that is not installed cannot be deleted, and is not listed. */
export function hostContainers(paths: Pick<HostPaths, OciRuntime>): Containers {
  return {
    list(prefix) {
      const ids: string[] = [];
      for (const name of RUNTIME_PREFERENCE) {
        if (paths[name] === undefined) continue;
        try {
          ids.push(...readdirSync(RUNTIME_ROOT[name]).filter((id) => id.startsWith(prefix) && !ids.includes(id)));
        } catch {
          // No state directory: that runtime has no containers.
        }
      }
      return ids;
    },
    async remove(id) {
      const rt = containerRuntime(paths, id);
      if (!rt) return;
      const proc = Bun.spawn([rt.path, "delete", "-f", id], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
      const [err, status] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      if (status !== 0) throw new PodunitError(`Failed to delete ${rt.name} container '${id}': ${err.trim()}`);
    },
  };
}
