/**
 * The OCI image spec's JSON documents as the store reads and writes them
 * (descriptor, index, manifest, config), with the checks `load` makes before it
 * trusts one, and the host's platform in OCI terms.
 */
import { ImageError } from "./errors.ts";
import { isDigest } from "./digest.ts";

export const MEDIA = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar",
  layerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  layerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
} as const;

export const REF_NAME = "org.opencontainers.image.ref.name";
/** The full name containerd and Docker 25+ put next to a tag-only ref.name. */
export const CONTAINERD_NAME = "io.containerd.image.name";

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** The parts of an image config podunit uses; the rest is kept as it is. */
export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    StopSignal?: string;
    ExposedPorts?: Record<string, object>;
    Volumes?: Record<string, object>;
  };
  rootfs: { type: "layers"; diff_ids: string[] };
  history?: unknown[];
  [k: string]: unknown;
}

const GOARCH: Record<string, string> = {
  x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64", loong64: "loong64",
};

/** The host's platform as OCI names it (Go's GOOS/GOARCH). */
export function hostPlatform(): Platform {
  return { architecture: GOARCH[process.arch] ?? process.arch, os: process.platform };
}

export function platformString(p: { architecture?: string; os?: string; variant?: string }): string {
  return `${p.os ?? "?"}/${p.architecture ?? "?"}${p.variant ? `/${p.variant}` : ""}`;
}

export function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ImageError(`${what} is not valid JSON: ${(e as Error).message}.`, { blob: what });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Checks a descriptor's digest and size; only sha256 is supported. */
export function checkDescriptor(d: unknown, where: string): Descriptor {
  if (!isObject(d)) throw new ImageError(`${where}: a descriptor is not an object.`);
  if (typeof d.digest === "string" && !d.digest.startsWith("sha256:")) {
    throw new ImageError(`${where}: digest '${d.digest}' uses an algorithm other than sha256, which podunit does not support.`, { blob: d.digest });
  }
  if (!isDigest(d.digest)) throw new ImageError(`${where}: '${String(d.digest)}' is not a digest of the form 'sha256:<64 hex digits>'.`);
  if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw new ImageError(`${where}: descriptor '${d.digest}' has no valid size.`, { blob: d.digest });
  }
  if (typeof d.mediaType !== "string") throw new ImageError(`${where}: descriptor '${d.digest}' has no media type.`, { blob: d.digest });
  return d as unknown as Descriptor;
}

export function checkIndex(v: unknown, where: string): ImageIndex {
  if (!isObject(v) || v.schemaVersion !== 2 || !Array.isArray(v.manifests)) {
    throw new ImageError(`${where} is not an OCI image index (schemaVersion 2 with a 'manifests' list).`);
  }
  v.manifests.forEach((d) => checkDescriptor(d, where));
  return v as unknown as ImageIndex;
}

export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA.index || mediaType === MEDIA.dockerList;
}

export function checkManifest(v: unknown, where: string): Manifest {
  if (!isObject(v) || v.schemaVersion !== 2 || !Array.isArray(v.layers) || !isObject(v.config)) {
    throw new ImageError(`${where} is not an image manifest (schemaVersion 2 with 'config' and 'layers').`, { blob: where });
  }
  checkDescriptor(v.config, where);
  v.layers.forEach((d) => checkDescriptor(d, where));
  return v as unknown as Manifest;
}

export function checkConfig(v: unknown, where: string, layers: number): ImageConfig {
  if (!isObject(v)) throw new ImageError(`Config ${where} is not a JSON object.`, { blob: where });
  const rootfs = v.rootfs;
  if (!isObject(rootfs) || rootfs.type !== "layers" || !Array.isArray(rootfs.diff_ids) || !rootfs.diff_ids.every(isDigest)) {
    throw new ImageError(`Config ${where} has no valid 'rootfs' (type 'layers' and a list of sha256 'diff_ids').`, { blob: where });
  }
  if (rootfs.diff_ids.length !== layers) {
    throw new ImageError(`Config ${where} lists ${rootfs.diff_ids.length} diff_ids, but the image has ${layers} layers.`, { blob: where });
  }
  if (typeof v.architecture !== "string" || typeof v.os !== "string") {
    throw new ImageError(`Config ${where} does not say its 'architecture' and 'os'.`, { blob: where });
  }
  return v as unknown as ImageConfig;
}

/** Refuses an image made for another platform than this host's. */
export function checkPlatform(c: ImageConfig, what: string): void {
  const host = hostPlatform();
  if (c.architecture !== host.architecture || c.os !== host.os) {
    throw new ImageError(`Image ${what} is for ${platformString(c)}, but this host is ${platformString(host)}.`, {
      hint: `Get the ${platformString(host)} variant of the image (e.g. 'skopeo copy --override-arch ${host.architecture} ...').`,
    });
  }
}

/** The layer media type for a compression. */
export function layerMediaType(c: "none" | "gzip" | "zstd"): string {
  return c === "gzip" ? MEDIA.layerGzip : c === "zstd" ? MEDIA.layerZstd : MEDIA.layer;
}
