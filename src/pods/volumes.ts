/**
 * The volume use cases: list and inspect the persistent volumes on this host,
 * and remove one while its pod does not run. Scratch and tmpfs volumes live
 * and die with their pod and are not listed here; `podunit stop` never
 * removes a persistent volume, only `podunit volume rm` does.
 */
import { NotFoundError, PodunitError, UsageError } from "../errors.ts";
import { listVolumes, removeVolume, type VolumeOnDisk } from "../host/volumes.ts";
import { VOLUME_ROOT } from "../plan/volumes.ts";
import { isValidName } from "../podspec/grammar.ts";
import { podUnitPatterns } from "../systemd/unitname.ts";
import { isLive } from "../systemd/state.ts";
import { type Env, withPodLock, withSystemd } from "./wiring.ts";

export type { VolumeOnDisk } from "../host/volumes.ts";

/** `POD/NAME` → its parts; both must be names, so the path stays below the volume directory. */
export function parseVolumeRef(ref: string): { pod: string; name: string } {
  const [pod, name, ...rest] = ref.split("/");
  if (pod === undefined || name === undefined || rest.length || !isValidName(pod) || !isValidName(name)) {
    throw new UsageError(`'${ref}' is not a volume: expected POD/NAME, such as 'web/data' (both names of a-z, 0-9 and "-").`, "Run 'podunit volume list' to see the volumes.");
  }
  return { pod, name };
}

/** Every persistent volume on this host. */
export function volumeList(root = VOLUME_ROOT): VolumeOnDisk[] {
  return listVolumes(root);
}

/** One persistent volume; a NotFoundError when there is none of that name. */
export function volumeInspect(ref: string, root = VOLUME_ROOT): VolumeOnDisk {
  const { pod, name } = parseVolumeRef(ref);
  const v = listVolumes(root).find((x) => x.pod === pod && x.name === name);
  if (!v) throw new NotFoundError(`Volume '${pod}/${name}' does not exist (no directory '${root}/${pod}/${name}').`, "Run 'podunit volume list' to see the volumes.");
  return v;
}

/** Removes a persistent volume and its data; refused while any unit of its pod is loaded and live. */
export async function volumeRemove(ref: string, env: Env, root = VOLUME_ROOT): Promise<VolumeOnDisk> {
  const v = volumeInspect(ref, root);
  // Under the pod's lock, so no start of the pod makes or mounts it meanwhile.
  return withPodLock(env, v.pod, async () => {
    const live = await withSystemd(env, async (sd) => (await sd.listUnits(podUnitPatterns(v.pod))).filter((u) => isLive(u.activeState)));
    if (live.length) {
      throw new PodunitError(`Failed to remove volume '${v.pod}/${v.name}': pod '${v.pod}' is running (${live.map((u) => u.name).join(", ")}).`, {
        hint: `Stop the pod first ('podunit stop ${v.pod}'); stopping it keeps the volume.`,
      });
    }
    removeVolume(root, v.pod, v.name);
    return v;
  });
}
