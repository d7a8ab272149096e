/**
 * `pull`: an image from a registry into the store, as `load` puts one there
 * (every digest checked while it streams, layers unpacked once, all or nothing),
 * and `ensureImages`, what a pod's start calls for its images with the member's
 * pull policy.
 */
import { NotFoundError, UsageError } from "../errors.ts";
import { hostPlatform, type Platform } from "./oci.ts";
import { parseReference, type Reference } from "./reference.ts";
import { RegistryClient, type ClientOptions } from "./registry/client.ts";
import { loadRegistryConfig, DEFAULT_CONFIG_DIR, type RegistryConfig } from "./registry/config.ts";
import { RemoteImage, resolveManifest, parsePlatform, type OnPullEvent } from "./registry/remote.ts";
import type { ImageStore } from "./store.ts";

/** Layers downloaded at once: enough to overlap latency, few enough not to trip a registry's limits. */
const LAYERS_AT_ONCE = 3;

export interface PullOptions {
  /** podunit's configuration directory (registries.toml, certs.d, auth.json); /etc/podunit by default. */
  configDir?: string;
  /** `os/arch[/variant]` to choose from an index; the host's platform by default. */
  platform?: string;
  /** Progress, for the command layer to render. */
  onEvent?: OnPullEvent;
  /** Credentials instead of auth.json's (tests, or a caller with its own secret store). */
  credentials?: ClientOptions["credentials"];
  /** One client per registry, shared by several pulls so tokens are reused; made when absent. */
  clients?: Map<string, RegistryClient>;
}

export interface PullResult {
  /** The canonical reference pulled. */
  ref: string;
  manifestDigest: string;
  /** The name the image has in the store; none when pulled by digest only. */
  name?: string;
  /** Layers downloaded and unpacked; the store had the others. */
  newLayers: number;
  layers: number;
}

function clientFor(r: Reference, config: RegistryConfig, opts: PullOptions): RegistryClient {
  const clients = opts.clients ?? new Map<string, RegistryClient>();
  let c = clients.get(r.domain);
  if (!c) {
    c = new RegistryClient(r.domain, { config, credentials: opts.credentials });
    clients.set(r.domain, c);
  }
  return c;
}

/** Pulls `ref` (`busybox`, `registry.example:5000/team/app:1`, `NAME@sha256:...`) into the store. */
export async function pull(store: ImageStore, ref: string, opts: PullOptions = {}): Promise<PullResult> {
  const r = parseReference(ref);
  if (r.domain === "localhost") {
    throw new UsageError(`'${ref}' names an image of this host (localhost/...), not one of a registry.`, "Load it with 'podunit image load', or name the registry it is in.");
  }
  const platform: Platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const config = loadRegistryConfig(opts.configDir ?? DEFAULT_CONFIG_DIR);
  const client = clientFor(r, config, opts);
  const full = `${r.name}${r.tag !== undefined ? `:${r.tag}` : ""}${r.digest !== undefined ? `@${r.digest}` : ""}`;
  const label = `image '${full}'`;
  const manifest = await resolveManifest(client, r, platform, label);
  const name = r.tag !== undefined ? `${r.name}:${r.tag}` : undefined;
  const on = opts.onEvent ?? (() => {});
  const src = new RemoteImage(client, r.path, name, manifest, on, (d) => store.blobPath(d));
  const layers = src.layerDescriptors();
  on({ type: "resolved", ref: full, registry: client.host, digest: manifest.digest, layers });
  const res = await store.loadFrom(async () => src, { concurrency: LAYERS_AT_ONCE });
  for (const l of layers) if (!src.wasFetched(l.digest)) on({ type: "layer-done", digest: l.digest, size: l.size, cached: true });
  on({ type: "done", ref: full, digest: manifest.digest, newLayers: res.newLayers });
  return { ref: full, manifestDigest: manifest.digest, ...(name ? { name } : {}), newLayers: res.newLayers, layers: layers.length };
}

/** When a pod's start fetches an image: only when the store lacks it, every time, or never. */
export type PullPolicy = "missing" | "always" | "never";

export interface EnsuredImage {
  ref: string;
  manifestDigest: string;
  /** Whether it was pulled by this call. */
  pulled: boolean;
}

/**
 * Makes sure every reference is in the store, per `policy`; returns each one's
 * manifest digest in the order given. Pulls share one client per registry, so a
 * token is fetched once. `never` with a missing image is a NotFoundError that
 * names the images missing; nothing is pulled then.
 */
export async function ensureImages(store: ImageStore, refs: string[], policy: PullPolicy, opts: PullOptions = {}): Promise<EnsuredImage[]> {
  const local = (ref: string): string | undefined => {
    try {
      return store.resolve(ref).manifestDigest;
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
  };
  const unique = [...new Set(refs)];
  const have = new Map(unique.map((ref) => [ref, policy === "always" ? undefined : local(ref)]));
  if (policy === "never") {
    const missing = unique.filter((ref) => have.get(ref) === undefined);
    if (missing.length) {
      throw new NotFoundError(
        `The image${missing.length > 1 ? "s" : ""} ${missing.map((m) => `'${m}'`).join(", ")} ${missing.length > 1 ? "are" : "is"} not in the image store '${store.root}', and the pull policy is 'never'.`,
        "Load or pull it first ('podunit image load', 'podunit image pull'), or set pull = \"missing\".",
      );
    }
  }
  const clients = opts.clients ?? new Map<string, RegistryClient>();
  const pulled = new Map<string, string>();
  for (const ref of unique) {
    if (have.get(ref) !== undefined) continue;
    pulled.set(ref, (await pull(store, ref, { ...opts, clients })).manifestDigest);
  }
  return refs.map((ref) => ({ ref, manifestDigest: (pulled.get(ref) ?? have.get(ref))!, pulled: pulled.has(ref) }));
}
