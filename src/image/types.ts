/** What the image store gives out: resolved images, rows of `image list`, results of load, rm and prune. */
import type { ImageConfig, Manifest } from "./oci.ts";

/** One layer of a resolved image. */
export interface LayerInfo {
  /** Digest of the blob as stored (compressed or not). */
  digest: string;
  /** Digest of the uncompressed tar (the config's diff_id); names the unpacked directory. */
  diffId: string;
  /** Size of the blob in bytes. */
  size: number;
  mediaType: string;
  /** The unpacked layer directory, usable as an overlay lower directory. */
  path: string;
}

/** An image found in the store by name or digest. */
export interface ResolvedImage {
  manifestDigest: string;
  /** Its names (canonical references), none for an image kept by digest only. */
  names: string[];
  manifest: Manifest;
  configDigest: string;
  config: ImageConfig;
  /** Lowest (base) layer first. */
  layers: LayerInfo[];
}

/** A row of `image list`. */
export interface ImageSummary {
  manifestDigest: string;
  names: string[];
  configDigest: string;
  architecture: string;
  os: string;
  created?: string;
  /** Bytes of the manifest, config and layer blobs. */
  size: number;
  layers: number;
}

export interface LoadResult {
  images: { manifestDigest: string; names: string[] }[];
  /** Layers unpacked by this load; the others were in the store already. */
  newLayers: number;
  /** Extended attributes in layers that were not applied (only security.capability and user.* are). */
  skippedXattrs: string[];
}

export interface RemoveResult {
  manifestDigest: string;
  /** Names taken off the image. */
  untagged: string[];
  /** Whether the image itself is gone (no name left and not in use). */
  removed: boolean;
  /** Pods that use it (when removed with force, it stays without names). */
  inUseBy: string[];
  blobs: number;
  layers: number;
}

export interface PruneResult {
  /** Unnamed images removed. */
  images: string[];
  blobs: number;
  layers: number;
  /** Bytes of the blobs removed (unpacked layers not counted). */
  bytes: number;
}

/** Which pods use an image (by manifest digest); empty when none. */
export type InUse = (manifestDigest: string) => string[];

/** Unpacked layers, lowest first (the order of the manifest). */
export function unpackedLayerDirs(image: ResolvedImage): string[] {
  return image.layers.map((l) => l.path);
}

/** The value of overlayfs's `lowerdir=` option: the top layer first, as overlay wants it. */
export function overlayLowerdir(image: ResolvedImage): string {
  return unpackedLayerDirs(image).slice().reverse().join(":");
}
