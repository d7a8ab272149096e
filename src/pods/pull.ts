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
import type { PodSpec, PullPolicy } from "../podspec/types.ts";
import type { Env } from "./wiring.ts";
import { imageStoreDir } from "./images.ts";

/** One image of a spec: its reference as written, the members that run it and their strongest policy. */
export interface SpecImage {
  ref: string;
  policy: PullPolicy;
  members: string[];
}

const STRENGTH: Record<PullPolicy, number> = { never: 0, missing: 1, always: 2 };

/** The images of `spec`, each once, in the order members name them. Pure. */
export function specImageList(spec: PodSpec): SpecImage[] {
  const out = new Map<string, SpecImage>();
  for (const m of spec.members) {
    if (m.image === undefined) continue;
    const policy = m.pull ?? "missing";
    const seen = out.get(m.image);
    if (!seen) out.set(m.image, { ref: m.image, policy, members: [m.name] });
    else {
      seen.members.push(m.name);
      if (STRENGTH[policy] > STRENGTH[seen.policy]) seen.policy = policy;
    }
  }
  return [...out.values()];
}

/** The images a start must fetch: every `always` one, and each `missing` one the store lacks (`has`). Pure. */
export function imagesToPull(spec: PodSpec, has: (ref: string) => boolean): SpecImage[] {
  return specImageList(spec).filter((i) => i.policy === "always" || (i.policy === "missing" && !has(i.ref)));
}

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
