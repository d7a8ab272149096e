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
import { closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename } from "node:path";
import { createReadStream, createWriteStream } from "node:fs";
import { ExitCode, NotFoundError, PodunitError } from "../errors.ts";
import { lockFile, tryLockFile } from "../host/lock.ts";
import { hexOf, isDigest, shortId } from "./digest.ts";
import { ImageError, StoreBusyError } from "./errors.ts";
import { collect, journalPath, recover } from "./gc.ts";
import { errCode, StoreFiles, type Entry } from "./layout.ts";
import { loadImages, type LoadedImage, type Staging } from "./load.ts";
import { hostPlatform } from "./oci.ts";
import { formatReference, parseReference } from "./reference.ts";
import { fileHead, openArchive, openDirectory, sniffCompression, type ImageSource } from "./source.ts";
import type { ImageSummary, InUse, LoadResult, PruneResult, RemoveResult, ResolvedImage } from "./types.ts";

export const DEFAULT_IMAGE_DIR = "/var/lib/podunit/images";
const LOCK_WAIT_MS = 30_000;

export class ImageStore {
  readonly privileged: boolean;
  constructor(
    readonly root: string,
    opts: { privileged?: boolean } = {},
  ) {
    this.privileged = opts.privileged ?? process.getuid?.() === 0;
    this.files = new StoreFiles(root);
  }

  private readonly files: StoreFiles;

  blobPath(digest: string): string {
    return this.files.blobPath(digest);
  }
  layerPath(diffId: string): string {
    return this.files.layerPath(diffId);
  }

  private findEntry(ref: string, entries = this.files.entries()): Entry {
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
    const manifest = this.files.manifestOf(e.desc.digest);
    const config = this.files.configOf(manifest);
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
    for (const e of this.files.entries()) {
      const m = this.files.manifestOf(e.desc.digest);
      const c = this.files.configOf(m);
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

  /** Runs `fn` holding the store's lock; makes the layout and clears the temporary area first. */
  async withLock<T>(fn: () => Promise<T> | T): Promise<T> {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const lock = await lockFile(this.files.lockPath, `the image store '${this.root}'`, LOCK_WAIT_MS, () => new StoreBusyError(this.root));
    try {
      this.files.ensureLayout();
      recover(this.files);
      return await fn();
    } finally {
      lock.release();
    }
  }

  /** Clears what a dead load left when no other podunit holds the lock (a reader without write access skips it). */
  recoverIfIdle(): void {
    if (!existsSync(this.files.tmpDir)) return;
    try {
      const lock = tryLockFile(this.files.lockPath, `the image store '${this.root}'`);
      try {
        if (lock) recover(this.files);
      } finally {
        lock?.release();
      }
    } catch {
      // left to the next writer
    }
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
      // Loaded here: every podunit command would pay for node:zlib and node:stream's set-up otherwise.
      const [{ pipeline }, { createGunzip, createZstdDecompress }] = await Promise.all([import("node:stream/promises"), import("node:zlib")]);
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
      const tmp = mkdtempSync(`${this.files.tmpDir}/load-`);
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
    const journal = journalPath(this.files);
    const fd = openSync(`${journal}.new`, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(moves.map((m) => m[1])));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(`${journal}.new`, journal);
    for (const [from, to] of moves) renameSync(from, `${this.root}/${to}`);
    const entries = this.files.entries();
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
    this.files.writeIndex(entries);
    rmSync(journal, { force: true });
  }

  /**
   * Removes a name, or the image when `ref` is its only name, a digest or an id.
   * An image in use (per `inUse`) is refused, or with `force` only loses its names
   * and stays until it is no longer used (then `prune` removes it).
   */
  async remove(ref: string, opts: { force?: boolean; inUse?: InUse } = {}): Promise<RemoveResult> {
    return this.withLock(() => {
      const entries = this.files.entries();
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
      this.files.writeIndex(keep);
      const gc = removed ? collect(this.files, keep) : { blobs: 0, layers: 0, bytes: 0 };
      return { manifestDigest: e.desc.digest, untagged, removed, inUseBy: users, blobs: gc.blobs, layers: gc.layers };
    });
  }

  /** Removes unnamed images no pod uses, then every blob and layer no image refers to. */
  async prune(opts: { inUse?: InUse } = {}): Promise<PruneResult> {
    return this.withLock(() => {
      const entries = this.files.entries();
      const drop = entries.filter((e) => e.names.length === 0 && (opts.inUse?.(e.desc.digest) ?? []).length === 0);
      const keep = entries.filter((e) => !drop.includes(e));
      if (drop.length) this.files.writeIndex(keep);
      const gc = collect(this.files, keep);
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
