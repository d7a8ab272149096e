/**
 * The store's files as an OCI image layout: paths of blobs and unpacked layers,
 * reading and writing `index.json` (one entry per name), reading JSON blobs, and
 * which blobs and layers the index refers to. Writes go through `tmp/` and a
 * rename, so a reader never sees half a file.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { hexOf } from "./digest.ts";
import { ImageError } from "./errors.ts";
import { checkIndex, checkManifest, MEDIA, parseJson, REF_NAME, type Descriptor, type ImageConfig, type ImageIndex, type Manifest } from "./oci.ts";

/** One image of the index with all its names. */
export interface Entry {
  desc: Descriptor;
  names: string[];
}

export function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

export class StoreFiles {
  constructor(readonly root: string) {}

  blobPath(digest: string): string {
    return `${this.root}/blobs/sha256/${hexOf(digest)}`;
  }
  layerPath(diffId: string): string {
    return `${this.root}/layers/sha256/${hexOf(diffId)}`;
  }
  get tmpDir(): string {
    return `${this.root}/tmp`;
  }
  get lockPath(): string {
    return `${this.root}/lock`;
  }

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
  entries(): Entry[] {
    const by = new Map<string, Entry>();
    for (const d of this.readIndex().manifests) {
      const e = by.get(d.digest) ?? { desc: { mediaType: d.mediaType, digest: d.digest, size: d.size, ...(d.platform ? { platform: d.platform } : {}) }, names: [] };
      by.set(d.digest, e);
      const n = d.annotations?.[REF_NAME];
      if (n !== undefined && !e.names.includes(n)) e.names.push(n);
    }
    return [...by.values()];
  }

  readJsonBlob(digest: string, what: string): unknown {
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

  manifestOf(digest: string): Manifest {
    return checkManifest(this.readJsonBlob(digest, "manifest"), `manifest '${digest}'`);
  }

  configOf(m: Manifest): ImageConfig {
    return this.readJsonBlob(m.config.digest, "config") as ImageConfig;
  }

  /** Makes the layout if missing. */
  ensureLayout(): void {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    for (const d of ["blobs/sha256", "layers/sha256", "tmp"]) mkdirSync(`${this.root}/${d}`, { recursive: true, mode: 0o700 });
    if (!existsSync(`${this.root}/oci-layout`)) this.writeAtomic("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    if (!existsSync(`${this.root}/index.json`)) this.writeIndex([]);
  }

  /** Writes `tmp/.NAME` with fsync, then renames it to `NAME`. */
  writeAtomic(name: string, text: string): void {
    const tmp = `${this.tmpDir}/.${name.replaceAll("/", "_")}.${process.pid}`;
    const fd = openSync(tmp, "w", 0o644);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, `${this.root}/${name}`);
  }

  writeIndex(entries: Entry[]): void {
    const manifests: Descriptor[] = [];
    for (const e of entries) {
      const base = { mediaType: e.desc.mediaType, digest: e.desc.digest, size: e.desc.size, ...(e.desc.platform ? { platform: e.desc.platform } : {}) };
      if (e.names.length === 0) manifests.push(base);
      for (const n of e.names) manifests.push({ ...base, annotations: { [REF_NAME]: n } });
    }
    this.writeAtomic("index.json", JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.index, manifests }, null, 2) + "\n");
  }

  /** The blobs and unpacked layers `entries` refer to; a damaged image keeps what could be read. */
  referenced(entries: Entry[]): { blobs: Set<string>; layers: Set<string> } {
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
        for (const d of this.configOf(m).rootfs?.diff_ids ?? []) layers.add(d);
      } catch {
        // A missing config leaves its layers unreferenced.
      }
    }
    return { blobs, layers };
  }
}
