/** The image store's public API, for the command layer and the runtime that mounts images; pulling and logging in are in fetch.ts, loaded when needed. */
export { openStore, ImageStore, DEFAULT_IMAGE_DIR } from "./store.ts";
export { unpackedLayerDirs, overlayLowerdir } from "./types.ts";
export type { ResolvedImage, LayerInfo, ImageSummary, LoadResult, RemoveResult, PruneResult, InUse } from "./types.ts";
export { parseReference, formatReference, normalizeReference, type Reference } from "./reference.ts";
export { shortId } from "./digest.ts";
export { ImageError, UnsafeLayerError, StoreBusyError } from "./errors.ts";
export { hostPlatform, type ImageConfig, type Manifest, type Descriptor, type Platform } from "./oci.ts";
export type { PullOptions, PullResult, PullPolicy, EnsuredImage } from "./pull.ts";
export type { PullEvent, OnPullEvent } from "./registry/remote.ts";
export { DEFAULT_CONFIG_DIR } from "./registry/config.ts";
export { imageEntry, readImageFile } from "./files.ts";
