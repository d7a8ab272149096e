/**
 * An image in a registry as a source `load` reads: the manifest (chosen from an
 * index or manifest list by platform, its digest checked) is held in memory, and
 * every other blob is fetched only when the load reads it, so a blob or layer the
 * store has is never downloaded. Bytes are counted while they stream; a body that
 * ends early or runs past its size is an error here, and the load checks every
 * digest before anything reaches the store.
 */
import { createReadStream, existsSync, statSync } from "node:fs";
import { UsageError } from "../../errors.ts";
import { sha256 } from "../digest.ts";
import { ImageError } from "../errors.ts";
import { CONTAINERD_NAME, isIndexType, MEDIA, parseJson, platformString, type Descriptor, type ImageIndex, type Platform } from "../oci.ts";
import type { Reference } from "../reference.ts";
import type { ImageSource, Member } from "../source.ts";
import type { RegistryClient } from "./client.ts";
import { RegistryError } from "./errors.ts";

/** What a pull reports while it runs; the command layer renders it. */
export type PullEvent =
  | { type: "resolved"; ref: string; registry: string; digest: string; layers: { digest: string; size: number }[] }
  | { type: "bytes"; digest: string; done: number; total: number }
  | { type: "layer-done"; digest: string; size: number; cached: boolean }
  | { type: "done"; ref: string; digest: string; newLayers: number };

export type OnPullEvent = (e: PullEvent) => void;

const MANIFEST_TYPES = [MEDIA.manifest, MEDIA.index, MEDIA.dockerManifest, MEDIA.dockerList];
const MAX_MANIFEST = 8 << 20;
const SCHEMA1 = /^application\/vnd\.docker\.distribution\.manifest\.v1\+(prettyjws|json)$/;

export interface ResolvedManifest {
  bytes: Uint8Array;
  digest: string;
  mediaType: string;
}

/** Parses `os/arch[/variant]`. */
export function parsePlatform(s: string): Platform {
  const [os, architecture, variant, extra] = s.split("/");
  if (!os || !architecture || extra !== undefined) {
    throw new UsageError(`Invalid platform '${s}': write it as OS/ARCH[/VARIANT], e.g. 'linux/amd64' or 'linux/arm/v7'.`);
  }
  return { os, architecture, ...(variant ? { variant } : {}) };
}

async function readLimited(res: Response, max: number, what: string, host: string): Promise<Uint8Array> {
  const len = Number(res.headers.get("content-length") ?? "0");
  if (len > max) throw new RegistryError("protocol", host, `Registry '${host}' sent a ${what} of ${len} bytes, more than the ${max} podunit accepts.`);
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
    n += c.length;
    if (n > max) throw new RegistryError("protocol", host, `Registry '${host}' sent a ${what} of more than ${max} bytes.`);
    parts.push(c);
  }
  return Buffer.concat(parts);
}

/** Fetches one manifest or index by tag or digest and checks its digest. */
async function fetchManifest(client: RegistryClient, repo: string, ref: string, expect: Descriptor | undefined, label: string): Promise<ResolvedManifest> {
  const res = await client.get(`${repo}/manifests/${ref}`, { scope: `repository:${repo}:pull`, accept: MANIFEST_TYPES, what: label });
  const bytes = await readLimited(res, MAX_MANIFEST, "manifest", client.host);
  const digest = sha256(bytes);
  const header = res.headers.get("docker-content-digest");
  const pinned = expect?.digest ?? (ref.startsWith("sha256:") ? ref : undefined);
  const bad = (claimed: string) =>
    new ImageError(`Registry '${client.host}' sent a manifest for ${label} whose digest is '${digest}', not '${claimed}'; it is damaged or was changed.`, {
      blob: claimed,
      hint: "Nothing was stored. Pull again; if it persists, the registry or something between it and this host alters data.",
    });
  if (pinned !== undefined && digest !== pinned) throw bad(pinned);
  if (header && header.startsWith("sha256:") && header !== digest) throw bad(header);
  if (expect && expect.size !== bytes.length) throw bad(expect.digest);
  const doc = parseJson(bytes, `the manifest of ${label}`) as { mediaType?: string; schemaVersion?: number };
  const mediaType = doc.mediaType ?? res.headers.get("content-type")?.split(";")[0]?.trim() ?? "";
  if (SCHEMA1.test(mediaType) || doc.schemaVersion === 1) {
    throw new ImageError(`${label} has a Docker schema 1 manifest, which podunit does not read.`, { hint: "Push the image again with a current tool (it writes schema 2 or OCI)." });
  }
  return { bytes, digest, mediaType };
}

/** Resolves a reference to one image manifest, choosing from an index by platform. */
export async function resolveManifest(client: RegistryClient, r: Reference, platform: Platform, label: string): Promise<ResolvedManifest> {
  let m = await fetchManifest(client, r.path, r.digest ?? r.tag!, undefined, label);
  for (let depth = 0; isIndexType(m.mediaType) || Array.isArray((parseJson(m.bytes, label) as { manifests?: unknown }).manifests); depth++) {
    if (depth > 3) throw new ImageError(`${label}: indexes nest too deep.`);
    const idx = parseJson(m.bytes, label) as ImageIndex;
    const fits = (p?: Platform) => p?.os === platform.os && p?.architecture === platform.architecture && (!platform.variant || p?.variant === platform.variant);
    const pick = idx.manifests.find((d) => fits(d.platform));
    if (!pick) {
      const have = idx.manifests.map((d) => (d.platform ? platformString(d.platform) : "unknown")).join(", ");
      throw new ImageError(`${label} has no image for ${platformString(platform)} (it has: ${have || "none"}).`, {
        hint: "Choose one of those with --platform, if this host can run it.",
      });
    }
    m = await fetchManifest(client, r.path, pick.digest, pick, label);
  }
  return m;
}

/** A registry image as a load source. */
export class RemoteImage implements ImageSource {
  readonly label: string;
  private readonly sizes = new Map<string, number>();
  private readonly layers: { digest: string; size: number }[];
  private readonly fetched = new Set<string>();

  constructor(
    private readonly client: RegistryClient,
    private readonly repo: string,
    /** The name the image gets in the store (none when pulled by digest only). */
    private readonly name: string | undefined,
    private readonly manifest: ResolvedManifest,
    private readonly onEvent: OnPullEvent = () => {},
    /** Where the store keeps a blob; one it has is read from there (the load checks its digest again). */
    private readonly localBlob: (digest: string) => string = () => "",
  ) {
    this.label = `image '${name ?? `${repo}@${manifest.digest}`}' from registry '${client.host}'`;
    const doc = parseJson(manifest.bytes, this.label) as { config?: Descriptor; layers?: Descriptor[] };
    for (const d of [doc.config, ...(doc.layers ?? [])]) if (d && typeof d.digest === "string") this.sizes.set(d.digest, d.size);
    this.layers = (doc.layers ?? []).map((d) => ({ digest: d.digest, size: d.size }));
  }

  /** The manifest's layers, lowest first. */
  layerDescriptors(): { digest: string; size: number }[] {
    return this.layers;
  }

  /** Whether the load read a blob (it skips those the store has). */
  wasFetched(digest: string): boolean {
    return this.fetched.has(digest);
  }

  member(name: string): Member | undefined {
    if (name === "index.json") {
      const desc = { mediaType: this.manifest.mediaType, digest: this.manifest.digest, size: this.manifest.bytes.length, ...(this.name ? { annotations: { [CONTAINERD_NAME]: this.name } } : {}) };
      const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, manifests: [desc] }));
      return { name, size: bytes.length, stream: async function* () { yield bytes; } };
    }
    const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
    if (!m) return undefined;
    const digest = `sha256:${m[1]}`;
    if (digest === this.manifest.digest) {
      const bytes = this.manifest.bytes;
      return { name: digest, size: bytes.length, stream: async function* () { yield bytes; } };
    }
    const size = this.sizes.get(digest);
    if (size === undefined) return undefined;
    const local = this.localBlob(digest);
    if (local && existsSync(local) && statSync(local).size === size) return { name: digest, size, stream: () => createReadStream(local) };
    return { name: digest, size, stream: () => this.blob(digest, size) };
  }

  private async *blob(digest: string, size: number): AsyncGenerator<Uint8Array> {
    this.fetched.add(digest);
    const host = this.client.host;
    const res = await this.client.get(`${this.repo}/blobs/${digest}`, { scope: `repository:${this.repo}:pull`, what: `blob '${digest}' of ${this.label}` });
    let done = 0;
    try {
      for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
        done += c.length;
        if (done > size) throw new ImageError(`Registry '${host}' sent more than the ${size} bytes of blob '${digest}'; it is damaged or was changed.`, { blob: digest });
        this.onEvent({ type: "bytes", digest, done, total: size });
        yield c;
      }
    } catch (e) {
      if (e instanceof ImageError || e instanceof RegistryError) throw e;
      throw new RegistryError("connection", host, `The connection to registry '${host}' broke while downloading blob '${digest}' (${done} of ${size} bytes): ${(e as Error).message}.`, {
        hint: "Nothing was stored; pull again.",
        cause: e,
      });
    }
    if (done < size) {
      throw new RegistryError("connection", host, `The connection to registry '${host}' ended after ${done} of the ${size} bytes of blob '${digest}'.`, {
        hint: "Nothing was stored; pull again.",
      });
    }
    this.onEvent({ type: "layer-done", digest, size, cached: false });
  }

  abort(): void {
    this.client.abort();
  }

  close(): void {}
}
