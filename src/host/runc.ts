/** The real Containers: reads runc's state directory, deletes with runc itself. */
import { readdirSync } from "node:fs";
import { PodunitError } from "../errors.ts";
import { RUNC_ROOT } from "../plan/runc.ts";
import type { Containers } from "./ports.ts";

/** Containers as the runc at `runc` knows them; without runc there is nothing to delete. */
export function hostContainers(runc: string | undefined): Containers {
  return {
    list(prefix) {
      try {
        return readdirSync(RUNC_ROOT).filter((id) => id.startsWith(prefix));
      } catch {
        return [];
      }
    },
    async remove(id) {
      if (!runc) return;
      const proc = Bun.spawn([runc, "delete", "-f", id], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
      const [err, status] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      if (status !== 0) throw new PodunitError(`Failed to delete runc container '${id}': ${err.trim()}`);
    },
  };
}
