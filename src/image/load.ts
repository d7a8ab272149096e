/**
 * Reading the images out of a source into a load's temporary area: finds them
 * (OCI index.json, `docker save`'s manifest.json), checks every blob against its
 * digest and size and every uncompressed layer against the config's diff_ids,
 * and unpacks each layer the store does not have yet. The store commits what
 * this returns; nothing here touches the store outside `Staging.tmp`.
 */
import { chmodSync, closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { UsageError } from "../errors.ts";
import { Digester, hexOf, sha256 } from "./digest.ts";
import { ImageError, shorten } from "./errors.ts";
import {
  checkConfig, checkIndex, checkManifest, checkPlatform, CONTAINERD_NAME, hostPlatform, isIndexType, layerMediaType, MEDIA,
  parseJson, platformString, REF_NAME, type Descriptor, type Manifest,
} from "./oci.ts";
import { normalizeReference, parseReference } from "./reference.ts";
import { StreamSource } from "./reader.ts";
import { cleanMemberName, readMember, sniffCompression, type Compression, type ImageSource, type Member } from "./source.ts";
import { readTar, TarFormatError } from "./tar.ts";
import { unpackLayer } from "./unpack.ts";

/** What the store offers a load: its temporary directory and what it holds already. */
export interface Staging {
  /** This load's own directory in the store's temporary area. */
  tmp: string;
  hasBlob(digest: string): boolean;
  hasLayer(diffId: string): boolean;
  /** A verified blob written to `path` (in `tmp`). */
  stageBlob(digest: string, path: string): void;
  /** A layer unpacked completely into `dir` (in `tmp`). */
  stageLayer(diffId: string, dir: string): void;
}

export interface LoadOptions {
  /** Names the one image of the source (replaces the names the source gives it). */
  name?: string;
  /** Whether owners, devices and whiteouts can be made (root). */
  privileged: boolean;
  /** Source base name for images whose only name in the source is a tag. */
  fallbackRepository?: string;
  /** How many layers of an image are read at once (a registry's downloads overlap); 1 by default. */
  concurrency?: number;
}

export interface LoadedImage {
  manifestDigest: string;
  manifestSize: number;
  manifestMediaType: string;
  names: string[];
  /** Extended attributes in layers that were not applied. */
  skippedXattrs: string[];
}

interface LayerPlan {
  member: Member;
  /** What the manifest says; absent in the old docker-save form, which has no manifest. */
  expected?: Descriptor;
  diffId: string;
}

interface Candidate {
  names: string[];
  /** OCI: the manifest's bytes and descriptor. */
  manifest?: { bytes: Uint8Array; desc: Descriptor; doc: Manifest };
  /** Old docker-save: the config's and the layers' member names. */
  docker?: { config: string; layers: string[] };
}

function blobName(digest: string): string {
  return `blobs/sha256/${hexOf(digest)}`;
}

function missing(src: ImageSource, what: string, name: string, digest?: string): ImageError {
  return new ImageError(`Cannot load ${src.label}: ${what} '${shorten(name)}' is not in it.`, {
    blob: digest ?? name,
    hint: "The image is incomplete; save or copy it again.",
  });
}

/** Reads a blob by digest and checks its size and digest. */
async function readBlob(src: ImageSource, d: Descriptor, what: string): Promise<Uint8Array> {
  const m = src.member(blobName(d.digest));
  if (!m) throw missing(src, what, d.digest, d.digest);
  const bytes = await readMember(m);
  if (bytes.length !== d.size) {
    throw new ImageError(`Cannot load ${src.label}: ${what} '${d.digest}' is ${bytes.length} bytes, but its descriptor says ${d.size}.`, { blob: d.digest });
  }
  const got = sha256(bytes);
  if (got !== d.digest) throw new ImageError(`Cannot load ${src.label}: ${what} '${d.digest}' has digest '${got}'; it is damaged or was changed.`, { blob: d.digest });
  return bytes;
}

/** A name from an annotation or a RepoTag; a tag-only ref.name becomes `localhost/<source name>:<tag>`. */
function nameFrom(value: string, fallbackRepo: string | undefined, tagOnly: boolean): string | undefined {
  try {
    if (tagOnly && !/[/:@]/.test(value)) {
      return fallbackRepo ? normalizeReference(`localhost/${fallbackRepo}:${value}`) : undefined;
    }
    const r = parseReference(value);
    return r.digest === undefined ? normalizeReference(value) : undefined;
  } catch {
    return undefined;
  }
}

/** Follows an index to the host platform's manifest. */
async function descend(src: ImageSource, d: Descriptor, depth = 0): Promise<{ bytes: Uint8Array; desc: Descriptor; doc: Manifest }> {
  const bytes = await readBlob(src, d, isIndexType(d.mediaType) ? "index" : "manifest");
  const doc = parseJson(bytes, `blob '${d.digest}'`) as { mediaType?: string; manifests?: unknown };
  if (isIndexType(d.mediaType) || isIndexType(doc.mediaType) || Array.isArray(doc.manifests)) {
    if (depth > 4) throw new ImageError(`Cannot load ${src.label}: indexes nest too deep at '${d.digest}'.`, { blob: d.digest });
    const idx = checkIndex(doc, `index '${d.digest}'`);
    const host = hostPlatform();
    const pick = idx.manifests.find((m) => m.platform?.architecture === host.architecture && m.platform?.os === host.os);
    if (!pick) {
      const have = idx.manifests.map((m) => (m.platform ? platformString(m.platform) : "unknown")).join(", ");
      throw new ImageError(`Cannot load ${src.label}: index '${d.digest}' has no image for this host's platform ${platformString(host)} (it has: ${have || "none"}).`, {
        blob: d.digest,
        hint: `Get the ${platformString(host)} variant of the image.`,
      });
    }
    return descend(src, pick, depth + 1);
  }
  return { bytes, desc: { ...d, mediaType: doc.mediaType ?? d.mediaType }, doc: checkManifest(doc, `manifest '${d.digest}'`) };
}

interface DockerEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function dockerManifest(src: ImageSource, m: Member): Promise<DockerEntry[]> {
  const v = parseJson(await readMember(m), `'manifest.json' of ${src.label}`);
  const ok = Array.isArray(v) && v.every((e) => typeof e?.Config === "string" && Array.isArray(e?.Layers) && e.Layers.every((l: unknown) => typeof l === "string"));
  if (!ok) throw new ImageError(`Cannot load ${src.label}: 'manifest.json' is not a docker-save manifest (a list of {Config, RepoTags, Layers}).`);
  return v as DockerEntry[];
}

/** Finds the images of a source. */
async function candidates(src: ImageSource, opts: LoadOptions): Promise<Candidate[]> {
  const idxMember = src.member("index.json");
  const mjMember = src.member("manifest.json");
  const docker = mjMember ? await dockerManifest(src, mjMember) : undefined;
  const tagsOf = (e: DockerEntry) => (e.RepoTags ?? []).flatMap((t) => nameFrom(t, undefined, false) ?? []);
  if (idxMember) {
    const idx = checkIndex(parseJson(await readMember(idxMember), `'index.json' of ${src.label}`), `'index.json' of ${src.label}`);
    // docker save (25 and later) writes an OCI layout and a manifest.json with the RepoTags.
    const byConfig = new Map<string, string[]>();
    for (const e of docker ?? []) {
      const c = cleanMemberName(e.Config)?.match(/^blobs\/sha256\/([a-f0-9]{64})$/);
      if (c) byConfig.set(`sha256:${c[1]}`, tagsOf(e));
    }
    const out = new Map<string, Candidate>();
    for (const d of idx.manifests) {
      const man = await descend(src, d);
      const names = [
        ...(d.annotations?.[CONTAINERD_NAME] ? [nameFrom(d.annotations[CONTAINERD_NAME], undefined, false)] : []),
        ...(d.annotations?.[REF_NAME] && !d.annotations?.[CONTAINERD_NAME] ? [nameFrom(d.annotations[REF_NAME], opts.fallbackRepository, true)] : []),
        ...(byConfig.get(man.doc.config.digest) ?? []),
      ].filter((n): n is string => n !== undefined);
      const prev = out.get(man.desc.digest);
      if (prev) prev.names.push(...names);
      else out.set(man.desc.digest, { names, manifest: man });
    }
    return [...out.values()];
  }
  if (docker) return docker.map((e) => ({ names: tagsOf(e), docker: { config: e.Config, layers: e.Layers } }));
  throw new ImageError(`Cannot load ${src.label}: it has neither 'index.json' (an OCI image layout) nor 'manifest.json' (a 'docker save' archive).`, {
    hint: "podunit image load reads an OCI image layout (a directory or a tar of one) or a 'docker save' archive.",
  });
}

/**
 * Decompresses a stream; errors (a truncated gzip) surface when it is read. node:zlib and
 * node:stream are loaded here, when a layer is read, not by every podunit command.
 */
async function* decompress(kind: Compression, input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (kind === "none") return yield* input;
  const [{ createGunzip, createZstdDecompress }, { Readable, pipeline }] = await Promise.all([import("node:zlib"), import("node:stream")]);
  const z = kind === "gzip" ? createGunzip({ chunkSize: 1 << 18 }) : createZstdDecompress({ chunkSize: 1 << 18 });
  pipeline(Readable.from(input, { objectMode: false }), z, () => {});
  yield* z as AsyncIterable<Uint8Array>;
}

/** Puts back a chunk already read at the head of an iterator. */
async function* prepend(first: Uint8Array | undefined, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (first) yield first;
  for (;;) {
    const r = await rest.next();
    if (r.done) return;
    yield r.value;
  }
}

let seq = 0;

/**
 * Runs `fn` on every item, at most `limit` at once. After the first failure no
 * item is started, `stop` is called (so running ones end early) and every running
 * one is waited for, so nothing writes into the staging area once this returns.
 */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>, stop: () => void): Promise<void> {
  let next = 0;
  let failure: { e: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        if (!failure) {
          failure = { e };
          stop();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.e;
}

class Loader {
  readonly skippedXattrs: string[] = [];
  constructor(
    private readonly src: ImageSource,
    private readonly st: Staging,
    private readonly opts: LoadOptions,
  ) {}

  private stageBytes(digest: string, bytes: Uint8Array): void {
    if (this.st.hasBlob(digest)) return;
    const p = `${this.st.tmp}/blob-${++seq}`;
    writeFileSync(p, bytes, { mode: 0o644 });
    this.st.stageBlob(digest, p);
  }

  /** Streams one layer blob once: digest and copy of the blob, decompression, diff_id, unpacking. */
  private async layer(l: LayerPlan): Promise<Descriptor> {
    const label = l.expected?.digest ?? l.member.name;
    if (l.expected && this.st.hasBlob(l.expected.digest) && this.st.hasLayer(l.diffId)) return l.expected;
    const blobDigest = new Digester();
    const diffDigest = new Digester();
    const keepBlob = !(l.expected && this.st.hasBlob(l.expected.digest));
    const blobPath = `${this.st.tmp}/blob-${++seq}`;
    const fd = keepBlob ? openSync(blobPath, "wx", 0o644) : -1;
    let kind: Compression = "none";
    try {
      const it = l.member.stream()[Symbol.asyncIterator]();
      const head = await it.next();
      const first = head.done ? undefined : head.value;
      kind = sniffCompression(first ?? new Uint8Array());
      const raw = (async function* () {
        for await (const c of prepend(first, it)) {
          blobDigest.update(c);
          if (fd >= 0) for (let o = 0; o < c.length; ) o += writeSync(fd, c, o, c.length - o);
          yield c;
        }
      })();
      const src = this.src;
      const plain = (async function* () {
        try {
          for await (const c of decompress(kind, raw)) {
            diffDigest.update(c);
            yield c;
          }
        } catch (e) {
          if (kind === "none" || (e as { exitCode?: number }).exitCode !== undefined) throw e;
          throw new ImageError(`Cannot load ${src.label}: layer '${label}' is not valid ${kind} data: ${(e as Error).message}.`, { blob: label, cause: e });
        }
      })();
      const bytes = new StreamSource(plain);
      if (!this.st.hasLayer(l.diffId)) {
        const dir = `${this.st.tmp}/layer-${++seq}`;
        // 0755 whatever the umask: the layer's root is the member's `/` unless the layer has an entry for it.
        mkdirSync(dir, 0o755);
        chmodSync(dir, 0o755);
        const stats = await unpackLayer(readTar(bytes), dir, { layer: label, privileged: this.opts.privileged });
        this.skippedXattrs.push(...stats.skippedXattrs.map((s) => `${label}: ${s}`));
        await bytes.drain();
        this.check(l, label, blobDigest, diffDigest);
        this.st.stageLayer(l.diffId, dir);
      } else {
        await bytes.drain();
        this.check(l, label, blobDigest, diffDigest);
      }
    } catch (e) {
      if (e instanceof TarFormatError) {
        throw new ImageError(`Cannot load ${this.src.label}: layer '${label}' is not a valid tar archive: ${shorten(e.message)}.`, { blob: label });
      }
      throw e;
    } finally {
      if (fd >= 0) closeSync(fd);
    }
    const digest = blobDigest.digest();
    if (keepBlob) this.st.stageBlob(digest, blobPath);
    return { mediaType: l.expected?.mediaType ?? layerMediaType(kind), digest, size: blobDigest.size };
  }

  private check(l: LayerPlan, label: string, blob: Digester, diff: Digester): void {
    if (l.expected) {
      if (blob.size !== l.expected.size) {
        throw new ImageError(`Cannot load ${this.src.label}: layer '${label}' is ${blob.size} bytes, but the manifest says ${l.expected.size}.`, { blob: label });
      }
      const got = blob.digest();
      if (got !== l.expected.digest) throw new ImageError(`Cannot load ${this.src.label}: layer '${label}' has digest '${got}'; it is damaged or was changed.`, { blob: label });
    }
    const d = diff.digest();
    if (d !== l.diffId) {
      throw new ImageError(`Cannot load ${this.src.label}: layer '${label}' uncompressed has digest '${d}', but the config's diff_id says '${l.diffId}'.`, {
        blob: label,
        hint: "The layer and the config do not belong together; the image is damaged or was changed.",
      });
    }
  }

  async image(c: Candidate, names: string[]): Promise<LoadedImage> {
    const what = names[0] ? `'${names[0]}'` : c.manifest ? `'${c.manifest.desc.digest}'` : "";
    if (c.manifest) {
      const m = c.manifest.doc;
      const cfgBytes = await readBlob(this.src, m.config, "config");
      const cfg = checkConfig(parseJson(cfgBytes, `config '${m.config.digest}'`), `'${m.config.digest}'`, m.layers.length);
      checkPlatform(cfg, what);
      const plans = m.layers.map((d, i) => {
        const member = this.src.member(blobName(d.digest));
        if (!member) throw missing(this.src, "layer", d.digest, d.digest);
        return { member, expected: d, diffId: cfg.rootfs.diff_ids[i]! };
      });
      await eachLimited(plans, this.opts.concurrency ?? 1, (p) => this.layer(p), () => this.src.abort?.());
      this.stageBytes(m.config.digest, cfgBytes);
      this.stageBytes(c.manifest.desc.digest, c.manifest.bytes);
      return { manifestDigest: c.manifest.desc.digest, manifestSize: c.manifest.bytes.length, manifestMediaType: c.manifest.desc.mediaType, names, skippedXattrs: this.skippedXattrs };
    }
    const dk = c.docker!;
    const cm = this.src.member(dk.config);
    if (!cm) throw missing(this.src, "config", dk.config);
    const cfgBytes = await readMember(cm);
    const cfgDigest = sha256(cfgBytes);
    const named = /([a-f0-9]{64})(\.json)?$/.exec(dk.config);
    if (named && `sha256:${named[1]}` !== cfgDigest) {
      throw new ImageError(`Cannot load ${this.src.label}: config '${dk.config}' has digest '${cfgDigest}', not the one its name says.`, { blob: dk.config });
    }
    const cfg = checkConfig(parseJson(cfgBytes, `config '${dk.config}'`), `'${dk.config}'`, dk.layers.length);
    checkPlatform(cfg, what);
    const layers: Descriptor[] = [];
    for (const [i, name] of dk.layers.entries()) {
      const member = this.src.member(name);
      if (!member) throw missing(this.src, "layer", name);
      const expectedFromName = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(cleanMemberName(name) ?? "");
      const expected = expectedFromName ? { mediaType: MEDIA.layer, digest: `sha256:${expectedFromName[1]}`, size: member.size } : undefined;
      layers.push(await this.layer({ member, expected, diffId: cfg.rootfs.diff_ids[i]! }));
    }
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: MEDIA.config, digest: cfgDigest, size: cfgBytes.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    };
    const bytes = new TextEncoder().encode(JSON.stringify(manifest));
    const digest = sha256(bytes);
    this.stageBytes(cfgDigest, cfgBytes);
    this.stageBytes(digest, bytes);
    return { manifestDigest: digest, manifestSize: bytes.length, manifestMediaType: MEDIA.manifest, names, skippedXattrs: this.skippedXattrs };
  }
}

/** Reads, checks and stages every image of the source; throws before anything is committed. */
export async function loadImages(src: ImageSource, st: Staging, opts: LoadOptions): Promise<LoadedImage[]> {
  const found = await candidates(src, opts);
  if (found.length === 0) throw new ImageError(`Cannot load ${src.label}: it holds no image.`);
  let forced: string | undefined;
  if (opts.name !== undefined) {
    const r = parseReference(opts.name);
    if (r.digest !== undefined) throw new UsageError(`--name '${opts.name}' pins a digest; a name for a loaded image is NAME[:TAG].`);
    if (found.length !== 1) {
      throw new UsageError(`--name names one image, but ${src.label} holds ${found.length}.`, "Load it without --name; the images keep the names they have in it.");
    }
    forced = normalizeReference(opts.name);
  }
  const loader = new Loader(src, st, opts);
  const out: LoadedImage[] = [];
  for (const c of found) out.push(await loader.image(c, forced !== undefined ? [forced] : [...new Set(c.names)]));
  return out;
}
