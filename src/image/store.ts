/**
 * The local image store: an OCI image layout (`oci-layout`, `index.json`,
 * `blobs/sha256/<hex>`) that skopeo and umoci can read, plus each layer unpacked
 * once under `layers/sha256/<diff_id hex>/`, shared by every image that has it.
 *
 * Writes go to `tmp/` inside the store first and are renamed into place: blobs
 * after their digest was checked, layers once completely unpacked, `index.json`
 * last. A load that dies leaves only `tmp/` behind; the next writer removes it.
 * A lock file (flock) keeps two writers apart.
 */
import {
  closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync,
  writeSync,
} from "node:fs";
import { basename } from "node:path";
import { createReadStream, createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createGunzip, createZstdDecompress } from "node:zlib";
import { ExitCode, NotFoundError, PodunitError } from "../errors.ts";
import { hexOf, isDigest, shortId } from "./digest.ts";
import { ImageError, StoreBusyError } from "./errors.ts";
import { EWOULDBLOCK, flock, LOCK_EX, LOCK_NB } from "./libc.ts";
import { loadImages, type LoadedImage, type Staging } from "./load.ts";
import { checkIndex, checkManifest, MEDIA, parseJson, REF_NAME, hostPlatform, type Descriptor, type ImageConfig, type ImageIndex, type Manifest } from "./oci.ts";
import { formatReference, parseReference } from "./reference.ts";
import { fileHead, openArchive, openDirectory, sniffCompression, type ImageSource } from "./source.ts";

export const DEFAULT_IMAGE_DIR = "/var/lib/podunit/images";
const LOCK_WAIT_MS = 30_000;

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

interface Entry {
  desc: Descriptor;
  names: string[];
}

/** Unpacked layers, lowest first (the order of the manifest). */
export function unpackedLayerDirs(image: ResolvedImage): string[] {
  return image.layers.map((l) => l.path);
}

/** The value of overlayfs's `lowerdir=` option: the top layer first, as overlay wants it. */
export function overlayLowerdir(image: ResolvedImage): string {
  return unpackedLayerDirs(image).slice().reverse().join(":");
}

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

export class ImageStore {
  readonly privileged: boolean;
  constructor(
    readonly root: string,
    opts: { privileged?: boolean } = {},
  ) {
    this.privileged = opts.privileged ?? process.getuid?.() === 0;
  }

  blobPath(digest: string): string {
    return `${this.root}/blobs/sha256/${hexOf(digest)}`;
  }
  layerPath(diffId: string): string {
    return `${this.root}/layers/sha256/${hexOf(diffId)}`;
  }
  private get tmpDir(): string {
    return `${this.root}/tmp`;
  }

  // ---- reading ----------------------------------------------------------------

  private readIndex(): ImageIndex {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(`${this.root}/index.json`);
    } catch (e) {
      if (errCode(e) === "ENOENT") return { schemaVersion: 2, mediaType: MEDIA.index, manifests: [] };
      throw e;
    }
    return checkIndex(parseJson(bytes, `'${this.root}/index.json'`), `'${this.root}/index.json'`);
  }

  /** Index entries grouped by manifest, in the order of first appearance. */
  private entries(): Entry[] {
    const by = new Map<string, Entry>();
    for (const d of this.readIndex().manifests) {
      const e = by.get(d.digest) ?? { desc: { mediaType: d.mediaType, digest: d.digest, size: d.size, ...(d.platform ? { platform: d.platform } : {}) }, names: [] };
      by.set(d.digest, e);
      const n = d.annotations?.[REF_NAME];
      if (n !== undefined && !e.names.includes(n)) e.names.push(n);
    }
    return [...by.values()];
  }

  private readJsonBlob(digest: string, what: string): unknown {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(this.blobPath(digest));
    } catch (e) {
      throw new ImageError(`The image store '${this.root}' is damaged: ${what} blob '${digest}' is missing (${errCode(e) ?? e}).`, {
        blob: digest,
        hint: "Remove the image with 'podunit image rm --force' and load it again.",
      });
    }
    return parseJson(bytes, `blob '${digest}'`);
  }

  private manifestOf(digest: string): Manifest {
    return checkManifest(this.readJsonBlob(digest, "manifest"), `manifest '${digest}'`);
  }

  private findEntry(ref: string, entries = this.entries()): Entry {
    const notFound = () =>
      new NotFoundError(
        `No image '${ref}' in the image store '${this.root}'.`,
        "Load it with 'podunit image load FILE' or fetch it with 'podunit image pull REF'; 'podunit image list' shows the images there are.",
      );
    if (isDigest(ref)) return entries.find((e) => e.desc.digest === ref) ?? (() => { throw notFound(); })();
    const hex = /^(?:sha256:)?([a-f0-9]{4,64})$/.exec(ref);
    let parsed: ReturnType<typeof parseReference> | undefined;
    try {
      parsed = parseReference(ref);
    } catch (e) {
      if (!hex) throw e;
    }
    if (parsed) {
      if (parsed.digest !== undefined) {
        const e = entries.find((x) => x.desc.digest === parsed!.digest);
        if (e) return e;
      } else {
        const full = formatReference(parsed);
        const e = entries.find((x) => x.names.includes(full));
        if (e) return e;
      }
    }
    if (hex) {
      const hits = entries.filter((e) => hexOf(e.desc.digest).startsWith(hex[1]!));
      if (hits.length > 1) {
        throw new PodunitError(`Image id '${ref}' is ambiguous: ${hits.length} images have a digest starting with it.`, {
          exitCode: ExitCode.USAGE,
          hint: "Give more digits, or the name.",
        });
      }
      if (hits.length === 1) return hits[0]!;
    }
    throw notFound();
  }

  /** Finds an image by name (`busybox`, `localhost/app:1`), `NAME@sha256:...`, `sha256:...` or an id prefix. */
  resolve(ref: string): ResolvedImage {
    const e = this.findEntry(ref);
    const manifest = this.manifestOf(e.desc.digest);
    const config = this.readJsonBlob(manifest.config.digest, "config") as ImageConfig;
    const diffIds = config.rootfs?.diff_ids ?? [];
    const layers = manifest.layers.map((l, i) => {
      const diffId = diffIds[i]!;
      const path = this.layerPath(diffId);
      if (!existsSync(path)) {
        throw new ImageError(`The image store '${this.root}' is damaged: the unpacked layer '${diffId}' of image '${ref}' is missing.`, {
          blob: l.digest,
          hint: "Remove the image with 'podunit image rm --force' and load it again.",
        });
      }
      return { digest: l.digest, diffId, size: l.size, mediaType: l.mediaType, path };
    });
    return { manifestDigest: e.desc.digest, names: e.names, manifest, configDigest: manifest.config.digest, config, layers };
  }

  /** Every image, named ones sorted by name first. */
  list(): ImageSummary[] {
    const out: ImageSummary[] = [];
    for (const e of this.entries()) {
      const m = this.manifestOf(e.desc.digest);
      const c = this.readJsonBlob(m.config.digest, "config") as ImageConfig;
      out.push({
        manifestDigest: e.desc.digest,
        names: [...e.names].sort(),
        configDigest: m.config.digest,
        architecture: c.architecture,
        os: c.os,
        ...(c.created ? { created: c.created } : {}),
        size: e.desc.size + m.config.size + m.layers.reduce((s, l) => s + l.size, 0),
        layers: m.layers.length,
      });
    }
    return out.sort((a, b) => (a.names[0] ?? "\uffff").localeCompare(b.names[0] ?? "\uffff") || a.manifestDigest.localeCompare(b.manifestDigest));
  }

  // ---- writing ----------------------------------------------------------------

  /** Makes the layout if missing. */
  private ensureLayout(): void {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    for (const d of ["blobs/sha256", "layers/sha256", "tmp"]) mkdirSync(`${this.root}/${d}`, { recursive: true, mode: 0o700 });
    if (!existsSync(`${this.root}/oci-layout`)) this.writeAtomic("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    if (!existsSync(`${this.root}/index.json`)) this.writeIndex([]);
  }

  private writeAtomic(name: string, text: string): void {
    const tmp = `${this.tmpDir}/.${name}.${process.pid}`;
    const fd = openSync(tmp, "w", 0o644);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, `${this.root}/${name}`);
  }

  private writeIndex(entries: Entry[]): void {
    const manifests: Descriptor[] = [];
    for (const e of entries) {
      const base = { mediaType: e.desc.mediaType, digest: e.desc.digest, size: e.desc.size, ...(e.desc.platform ? { platform: e.desc.platform } : {}) };
      if (e.names.length === 0) manifests.push(base);
      for (const n of e.names) manifests.push({ ...base, annotations: { [REF_NAME]: n } });
    }
    this.writeAtomic("index.json", JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.index, manifests }, null, 2) + "\n");
  }

  /** Runs `fn` holding the store's lock; makes the layout and clears the temporary area first. */
  async withLock<T>(fn: () => Promise<T> | T): Promise<T> {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const fd = openSync(`${this.root}/lock`, "a", 0o600);
    try {
      const t0 = Date.now();
      for (;;) {
        const r = flock(fd, LOCK_EX | LOCK_NB);
        if (r === 0) break;
        if (r !== EWOULDBLOCK) throw new PodunitError(`Failed to lock the image store '${this.root}': errno ${r}.`);
        if (Date.now() - t0 > LOCK_WAIT_MS) throw new StoreBusyError(this.root);
        await Bun.sleep(50);
      }
      this.ensureLayout();
      this.recover();
      return await fn();
    } finally {
      closeSync(fd);
    }
  }

  /** Runs the recovery below when no other podunit holds the lock (a reader without write access skips it). */
  recoverIfIdle(): void {
    if (!existsSync(this.tmpDir)) return;
    try {
      const fd = openSync(`${this.root}/lock`, "a", 0o600);
      try {
        if (flock(fd, LOCK_EX | LOCK_NB) === 0 && readdirSync(this.tmpDir).length) this.recover();
      } finally {
        closeSync(fd);
      }
    } catch {
      // left to the next writer
    }
  }

  /**
   * Undoes what a load that died left: the paths its journal lists that the index
   * does not refer to (it died before its index.json was in place), then `tmp/`.
   */
  private recover(): void {
    const journal = `${this.tmpDir}/commit.json`;
    if (existsSync(journal)) {
      let paths: string[] = [];
      try {
        paths = JSON.parse(readFileSync(journal, "utf8")) as string[];
      } catch {
        // A journal cut short was written before any rename: nothing to undo.
      }
      const { blobs, layers } = this.referenced(this.entries());
      for (const p of paths) {
        const m = /^(blobs|layers)\/sha256\/([a-f0-9]{64})$/.exec(p);
        if (!m) continue;
        const d = `sha256:${m[2]}`;
        if (!(m[1] === "blobs" ? blobs : layers).has(d)) this.discard(`${this.root}/${p}`);
      }
    }
    for (const n of readdirSync(this.tmpDir)) rmSync(`${this.tmpDir}/${n}`, { recursive: true, force: true });
  }

  /** Moves a path into tmp/ (one rename, so it is gone at once), then deletes it. */
  private discard(path: string): void {
    if (!existsSync(path)) return;
    const to = mkdtempSync(`${this.tmpDir}/gc-`);
    renameSync(path, `${to}/x`);
    rmSync(to, { recursive: true, force: true });
  }

  private referenced(entries: Entry[]): { blobs: Set<string>; layers: Set<string> } {
    const blobs = new Set<string>();
    const layers = new Set<string>();
    for (const e of entries) {
      blobs.add(e.desc.digest);
      let m: Manifest;
      try {
        m = this.manifestOf(e.desc.digest);
      } catch {
        continue;
      }
      blobs.add(m.config.digest);
      for (const l of m.layers) blobs.add(l.digest);
      try {
        const c = this.readJsonBlob(m.config.digest, "config") as ImageConfig;
        for (const d of c.rootfs?.diff_ids ?? []) layers.add(d);
      } catch {
        // A missing config leaves its layers unreferenced.
      }
    }
    return { blobs, layers };
  }

  /** Opens the source of a load: a directory, or an archive (decompressed into the load's temporary directory first if need be). */
  private async openSource(path: string, tmp: string): Promise<ImageSource> {
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      throw new NotFoundError(`Cannot load '${path}': ${errCode(e) === "ENOENT" ? "no such file or directory" : (e as Error).message}.`);
    }
    if (st.isDirectory()) return openDirectory(path);
    const kind = sniffCompression(fileHead(path, 4));
    if (kind === "none") return openArchive(path);
    const plain = `${tmp}/archive.tar`;
    try {
      await pipeline(createReadStream(path), kind === "gzip" ? createGunzip() : createZstdDecompress(), createWriteStream(plain));
    } catch (e) {
      throw new ImageError(`Cannot load archive '${path}': it is not valid ${kind} data: ${(e as Error).message}.`, { blob: path });
    }
    return openArchive(plain, `archive '${path}'`);
  }

  /** Loads every image of an OCI layout, OCI archive or docker-save archive; all or nothing. */
  async load(path: string, opts: { name?: string } = {}): Promise<LoadResult> {
    const fallback = basename(path).replace(/(\.tar)?(\.(gz|tgz|zst|zstd))?$/, "").toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
    return this.loadFrom((tmp) => this.openSource(path, tmp), { name: opts.name, fallbackRepository: fallback || undefined });
  }

  /**
   * Loads the images of any source (a file, a registry) under the lock, staging
   * into a temporary directory of its own that `open` may use too; all or nothing.
   */
  async loadFrom(
    open: (tmp: string) => Promise<ImageSource>,
    opts: { name?: string; fallbackRepository?: string; concurrency?: number } = {},
  ): Promise<LoadResult> {
    return this.withLock(async () => {
      const tmp = mkdtempSync(`${this.tmpDir}/load-`);
      const blobs = new Map<string, string>();
      const layers = new Map<string, string>();
      let src: ImageSource | undefined;
      try {
        src = await open(tmp);
        const staging: Staging = {
          tmp,
          hasBlob: (d) => blobs.has(d) || existsSync(this.blobPath(d)),
          hasLayer: (d) => layers.has(d) || existsSync(this.layerPath(d)),
          stageBlob: (d, p) => void blobs.set(d, p),
          stageLayer: (d, p) => void layers.set(d, p),
        };
        const images = await loadImages(src, staging, { ...opts, privileged: this.privileged });
        this.commit(images, blobs, layers);
        return {
          images: images.map((i) => ({ manifestDigest: i.manifestDigest, names: i.names })),
          newLayers: layers.size,
          skippedXattrs: [...new Set(images.flatMap((i) => i.skippedXattrs))],
        };
      } finally {
        src?.close();
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  }

  private commit(images: LoadedImage[], blobs: Map<string, string>, layers: Map<string, string>): void {
    const moves: [string, string][] = [];
    for (const [d, p] of blobs) if (!existsSync(this.blobPath(d))) moves.push([p, `blobs/sha256/${hexOf(d)}`]);
    for (const [d, p] of layers) if (!existsSync(this.layerPath(d))) moves.push([p, `layers/sha256/${hexOf(d)}`]);
    const journal = `${this.tmpDir}/commit.json`;
    const fd = openSync(`${journal}.new`, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(moves.map((m) => m[1])));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(`${journal}.new`, journal);
    for (const [from, to] of moves) renameSync(from, `${this.root}/${to}`);
    const entries = this.entries();
    const platform = hostPlatform();
    for (const img of images) {
      for (const e of entries) e.names = e.names.filter((n) => !img.names.includes(n));
      const have = entries.find((e) => e.desc.digest === img.manifestDigest);
      if (have) have.names.push(...img.names.filter((n) => !have.names.includes(n)));
      else {
        entries.push({
          desc: { mediaType: img.manifestMediaType, digest: img.manifestDigest, size: img.manifestSize, platform: { architecture: platform.architecture, os: platform.os } },
          names: [...img.names],
        });
      }
    }
    this.writeIndex(entries);
    rmSync(journal, { force: true });
  }

  /**
   * Removes a name, or the image when `ref` is its only name, a digest or an id.
   * An image in use (per `inUse`) is refused, or with `force` only loses its names
   * and stays until it is no longer used (then `prune` removes it).
   */
  async remove(ref: string, opts: { force?: boolean; inUse?: InUse } = {}): Promise<RemoveResult> {
    return this.withLock(() => {
      const entries = this.entries();
      const e = this.findEntry(ref, entries);
      const users = opts.inUse?.(e.desc.digest) ?? [];
      let byName: string | undefined;
      try {
        const r = parseReference(ref);
        if (r.digest === undefined && e.names.includes(formatReference(r))) byName = formatReference(r);
      } catch {
        // an id or a digest
      }
      const untagOnly = byName !== undefined && e.names.length > 1;
      if (users.length && !opts.force && !untagOnly) {
        throw new PodunitError(`Image '${ref}' (${shortId(e.desc.digest)}) is in use by ${users.map((u) => `'${u}'`).join(", ")}.`, {
          hint: "Stop those pods (or change their specs) first, or remove it with --force: it then loses its names and goes with 'podunit image prune' once unused.",
        });
      }
      const untagged = untagOnly ? [byName!] : [...e.names];
      e.names = e.names.filter((n) => !untagged.includes(n));
      const removed = !untagOnly && users.length === 0;
      const keep = removed ? entries.filter((x) => x !== e) : entries;
      this.writeIndex(keep);
      const gc = removed ? this.collect(keep) : { blobs: 0, layers: 0, bytes: 0 };
      return { manifestDigest: e.desc.digest, untagged, removed, inUseBy: users, blobs: gc.blobs, layers: gc.layers };
    });
  }

  /** Deletes blobs and unpacked layers that no entry refers to. */
  private collect(entries: Entry[]): { blobs: number; layers: number; bytes: number } {
    const ref = this.referenced(entries);
    let blobs = 0;
    let layers = 0;
    let bytes = 0;
    for (const hex of readdirSync(`${this.root}/blobs/sha256`)) {
      if (ref.blobs.has(`sha256:${hex}`)) continue;
      const p = `${this.root}/blobs/sha256/${hex}`;
      bytes += statSync(p).size;
      rmSync(p, { force: true });
      blobs++;
    }
    for (const hex of readdirSync(`${this.root}/layers/sha256`)) {
      if (ref.layers.has(`sha256:${hex}`)) continue;
      this.discard(`${this.root}/layers/sha256/${hex}`);
      layers++;
    }
    return { blobs, layers, bytes };
  }

  /** Removes unnamed images no pod uses, then every blob and layer no image refers to. */
  async prune(opts: { inUse?: InUse } = {}): Promise<PruneResult> {
    return this.withLock(() => {
      const entries = this.entries();
      const drop = entries.filter((e) => e.names.length === 0 && (opts.inUse?.(e.desc.digest) ?? []).length === 0);
      const keep = entries.filter((e) => !drop.includes(e));
      if (drop.length) this.writeIndex(keep);
      const gc = this.collect(keep);
      return { images: drop.map((e) => e.desc.digest), ...gc };
    });
  }
}

/**
 * Opens the store at `root` (made on the first write). When no other podunit
 * holds its lock, what a load that died left in its temporary area is removed.
 */
export function openStore(root: string, opts: { privileged?: boolean } = {}): ImageStore {
  const s = new ImageStore(root, opts);
  s.recoverIfIdle();
  return s;
}
