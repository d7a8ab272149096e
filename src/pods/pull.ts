/**
 * Pulling a pod's images before it starts. Each image member says when its image
 * is fetched (`pull = "missing" | "always" | "never"`); a reference named by several
 * members takes the strongest of their policies. `podunit start` pulls what it must
 * before anything of the pod starts, so a pull that fails refuses the start with
 * nothing to undo (a pull is all or nothing in the store). The registry client is
 * loaded with import() only when there is something to fetch: a start whose images
 * are all in the store does not evaluate it.
 */
import { NotFoundError, PodunitError } from "../errors.ts";
import { DEFAULT_CONFIG_DIR, openStore, type ImageStore, type OnPullEvent } from "../image/index.ts";
import type { RegistryClient } from "../image/registry/client.ts";
import type { PodSpec } from "../podspec/types.ts";
import { fromRegistry, imagesToPull, specImageList } from "../plan/pulls.ts";
import type { Env } from "./wiring.ts";
import { imageStoreDir, resolveImages } from "./images.ts";
import { hostFacts, loadPodSpec, withSystemd } from "./wiring.ts";
import { installedUnits, installUnits, SYSTEM_UNIT_DIR } from "../boot/install.ts";
import { podUnits } from "../boot/units.ts";
import type { PullArgs } from "../plan/pulls.ts";
import { podTargetName } from "../systemd/unitname.ts";

/** podunit's configuration directory (registries.toml, certs.d, auth.json): PODUNIT_CONFIG_DIR or /etc/podunit. */
export function configDirOf(env: Env): string {
  return env.PODUNIT_CONFIG_DIR || DEFAULT_CONFIG_DIR;
}

/** Whether the store has `ref` (by name or digest). */
export function storeHas(store: ImageStore, ref: string): boolean {
  try {
    store.resolve(ref);
    return true;
  } catch (e) {
    if (e instanceof NotFoundError) return false;
    throw e;
  }
}

export interface PulledImage {
  ref: string;
  manifestDigest: string;
}

/**
 * Fetches what `spec`'s start needs (see imagesToPull) into the store this
 * environment names, one image after the other (each downloads several layers at
 * once), with one registry client per registry so a token is asked for once.
 * Returns what was pulled; nothing when every image is there. A failure names the
 * pod, the image and the members that need it, and keeps the registry's reason and hint.
 */
export async function pullSpecImages(spec: PodSpec, env: Env, onEvent?: OnPullEvent): Promise<PulledImage[]> {
  if (!spec.members.some((m) => m.image !== undefined)) return [];
  const store = openStore(imageStoreDir(env));
  const todo = imagesToPull(spec, (ref) => storeHas(store, ref));
  if (todo.length === 0) return [];
  const { pull } = await import("../image/fetch.ts");
  const clients = new Map<string, RegistryClient>();
  const pulled: PulledImage[] = [];
  for (const i of todo) {
    try {
      const r = await pull(store, i.ref, { configDir: configDirOf(env), clients, ...(onEvent ? { onEvent } : {}) });
      pulled.push({ ref: i.ref, manifestDigest: r.manifestDigest });
    } catch (e) {
      if (!(e instanceof PodunitError)) throw e;
      const who = i.members.map((m) => `'${m}'`).join(", ");
      throw new PodunitError(`Pod '${spec.name}' cannot start: failed to pull image '${i.ref}' (pull = "${i.policy}") for member ${who}: ${e.message}`, {
        exitCode: e.exitCode,
        hint: `${e.hint ? `${e.hint} ` : ""}Nothing of the pod was started or changed.`,
        cause: e,
      });
    }
  }
  return pulled;
}

/**
 * For the generator: the store a boot-time pod's images are to be pulled into, when
 * some are not there and every one of those may be pulled (none is `pull = "never"`,
 * which stays an error naming it); undefined when the pod can be planned as it is.
 */
export function awaitsImages(spec: PodSpec, env: Env): string | undefined {
  if (!spec.members.some((m) => m.image !== undefined)) return undefined;
  const dir = imageStoreDir(env);
  const store = openStore(dir);
  const absent = specImageList(spec).filter((i) => !storeHas(store, i.ref));
  return absent.length > 0 && absent.every((i) => i.policy !== "never" && fromRegistry(i.ref)) ? dir : undefined;
}

export interface BootPullResult {
  pulled: PulledImage[];
  /** Whether an image now differs from the one the unit files name, so they were written again (or the generator asked to). */
  rewritten: boolean;
}

/**
 * `podunit internal pull`, a boot-time pod's pull unit: pulls what the spec's
 * policies ask, then, when an image is not the one the unit files were written
 * for (a new digest under an `always` tag, or units written without the images),
 * writes the pod's units again (those `podunit enable` installed) and reloads
 * systemd (its generator writes the others again). Start jobs already queued for
 * the pod run with the new units.
 */
export async function bootPull(req: PullArgs, env: Env, onEvent?: OnPullEvent): Promise<BootPullResult> {
  const spec = await loadPodSpec(req.specFile, undefined, env);
  const pullEnv = { ...env, PODUNIT_IMAGE_DIR: req.store };
  const pulled = await pullSpecImages(spec, pullEnv, onEvent);
  const store = openStore(req.store);
  const pinned = Object.keys(req.pins).length > 0;
  const changed = !pinned || specImageList(spec).some((i) => !storeHas(store, i.ref) || store.resolve(i.ref).manifestDigest !== req.pins[i.ref]);
  if (!changed) return { pulled, rewritten: false };
  await withSystemd(env, async (sd) => {
    if (installedUnits(SYSTEM_UNIT_DIR, spec.name).includes(podTargetName(spec.name))) {
      const units = podUnits(spec, await hostFacts(env, sd), { backend: req.backend, images: resolveImages(spec, req.store) });
      installUnits(SYSTEM_UNIT_DIR, units, { links: "absolute" });
    }
    await sd.reload();
  });
  return { pulled, rewritten: true };
}
