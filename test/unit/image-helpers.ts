/**
 * Test helpers for the image store: a small tar writer, image builders for every
 * format `podunit image load` reads, and snapshots of trees and of the store.
 */
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { lgetxattr, llistxattr } from "../../src/host/libc.ts";

export type Kind = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "x" | "g" | "L" | "K";

export interface TEntry {
  name: string;
  type?: Kind;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  content?: string | Uint8Array;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, Uint8Array | string>;
  /** How a name over 100 bytes is written: a PAX path record (default) or a GNU 'L' entry. */
  long?: "pax" | "gnu";
  /** Extra PAX records. */
  pax?: Record<string, string>;
}

const te = new TextEncoder();
const bytes = (x: string | Uint8Array) => (typeof x === "string" ? te.encode(x) : x);

function octal(n: number, len: number): string {
  return n.toString(8).padStart(len - 1, "0") + "\0";
}

function header(name: string, type: string, size: number, e: TEntry, linkname = ""): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string | Uint8Array, off: number, len: number) => h.set(bytes(s).subarray(0, len), off);
  put(name, 0, 100);
  put(octal(e.mode ?? (type === "5" ? 0o755 : 0o644), 8), 100, 8);
  put(octal(e.uid ?? 0, 8), 108, 8);
  put(octal(e.gid ?? 0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(e.mtime ?? 1_700_000_000, 12), 136, 12);
  put("        ", 148, 8);
  put(type, 156, 1);
  put(linkname, 157, 100);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  put(octal(e.devmajor ?? 0, 8), 329, 8);
  put(octal(e.devminor ?? 0, 8), 337, 8);
  let sum = 0;
  for (const c of h) sum += c;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  return h;
}

function pad(data: Uint8Array): Uint8Array[] {
  const r = data.length % 512;
  return r ? [data, new Uint8Array(512 - r)] : [data];
}

export function paxRecord(key: string, value: Uint8Array | string): Uint8Array {
  const body = Buffer.concat([te.encode(` ${key}=`), bytes(value), te.encode("\n")]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([te.encode(String(len)), body]);
}

/** One entry (with its PAX or GNU long-name headers) as tar blocks. */
export function entryBlocks(e: TEntry): Uint8Array[] {
  const type = e.type ?? "0";
  const content = e.content === undefined ? new Uint8Array() : bytes(e.content);
  const out: Uint8Array[] = [];
  const pax: Uint8Array[] = [];
  let name = e.name;
  let link = e.linkname ?? "";
  if (te.encode(name).length > 100) {
    if (e.long === "gnu") {
      const n = te.encode(name + "\0");
      out.push(header("././@LongLink", "L", n.length, { name: "" }), ...pad(n));
    } else pax.push(paxRecord("path", name));
    name = name.slice(0, 99);
  }
  if (te.encode(link).length > 100) {
    if (e.long === "gnu") {
      const n = te.encode(link + "\0");
      out.push(header("././@LongLink", "K", n.length, { name: "" }), ...pad(n));
    } else pax.push(paxRecord("linkpath", link));
    link = link.slice(0, 99);
  }
  for (const [k, v] of Object.entries(e.xattrs ?? {})) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
  for (const [k, v] of Object.entries(e.pax ?? {})) pax.push(paxRecord(k, v));
  if (pax.length) {
    const p = Buffer.concat(pax);
    out.push(header("PaxHeaders/x", "x", p.length, { name: "" }), ...pad(p));
  }
  out.push(header(name, type, type === "0" ? content.length : 0, e, link));
  if (type === "0" && content.length) out.push(...pad(content));
  return out;
}

/** A tar archive of the entries, with its end marker. */
export function makeTar(entries: TEntry[]): Uint8Array {
  return Buffer.concat([...entries.flatMap(entryBlocks), new Uint8Array(1024)]);
}

export type Compression = "none" | "gzip" | "zstd";
export function compress(kind: Compression, data: Uint8Array): Uint8Array {
  if (kind === "gzip") return Bun.gzipSync(data as Uint8Array<ArrayBuffer>);
  if (kind === "zstd") return Bun.zstdCompressSync(data as Uint8Array<ArrayBuffer>);
  return data;
}

export const digestOf = (b: Uint8Array | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const hex = (d: string) => d.slice(7);

const LAYER_MEDIA: Record<Compression, string> = {
  none: "application/vnd.oci.image.layer.v1.tar",
  gzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  zstd: "application/vnd.oci.image.layer.v1.tar+zstd",
};

export interface BuiltImage {
  blobs: Map<string, Uint8Array>;
  manifest: Uint8Array;
  manifestDigest: string;
  config: Uint8Array;
  configDigest: string;
  layerDigests: string[];
  /** The uncompressed layers (docker-save's old form stores these). */
  tars: Uint8Array[];
  diffIds: string[];
}

/** An image of the given layers (uncompressed tars), each compressed as asked. */
export function buildImage(
  tars: Uint8Array[],
  opts: {
    compression?: Compression;
    architecture?: string;
    os?: string;
    diffIds?: string[];
    tweak?: (m: any) => void;
    cmd?: string[];
    /** Fields of the image's `config` (Entrypoint, Env, User, ...), over the default Cmd and Env. */
    config?: Record<string, unknown>;
  } = {},
): BuiltImage {
  const c = opts.compression ?? "none";
  const blobs = new Map<string, Uint8Array>();
  const diffIds = opts.diffIds ?? tars.map((t) => digestOf(t));
  const layers = tars.map((t) => {
    const b = compress(c, t);
    const d = digestOf(b);
    blobs.set(d, b);
    return { mediaType: LAYER_MEDIA[c], digest: d, size: b.length };
  });
  const config = te.encode(
    JSON.stringify({
      architecture: opts.architecture ?? "amd64",
      os: opts.os ?? "linux",
      created: "2026-01-02T03:04:05Z",
      config: { Cmd: opts.cmd ?? ["/bin/sh"], Env: ["PATH=/usr/bin:/bin"], ...opts.config },
      rootfs: { type: "layers", diff_ids: diffIds },
    }),
  );
  const configDigest = digestOf(config);
  blobs.set(configDigest, config);
  const m: any = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
    layers,
  };
  opts.tweak?.(m);
  const manifest = te.encode(JSON.stringify(m));
  const manifestDigest = digestOf(manifest);
  blobs.set(manifestDigest, manifest);
  return { blobs, manifest, manifestDigest, config, configDigest, layerDigests: layers.map((l) => l.digest), tars, diffIds };
}

/** Files of an OCI layout holding the images under the given ref.name annotations. */
export function ociLayoutFiles(images: { image: BuiltImage; ref?: string; annotations?: Record<string, string> }[]): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  files.set("oci-layout", te.encode(JSON.stringify({ imageLayoutVersion: "1.0.0" })));
  for (const { image } of images) for (const [d, b] of image.blobs) files.set(`blobs/sha256/${hex(d)}`, b);
  const manifests = images.map(({ image, ref, annotations }) => ({
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: image.manifestDigest,
    size: image.manifest.length,
    ...(ref || annotations ? { annotations: { ...(ref ? { "org.opencontainers.image.ref.name": ref } : {}), ...annotations } } : {}),
  }));
  files.set("index.json", te.encode(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests })));
  return files;
}

/** The current `docker save` form: an OCI layout plus manifest.json with RepoTags. */
export function dockerNewFiles(images: { image: BuiltImage; tags: string[] }[]): Map<string, Uint8Array> {
  const files = ociLayoutFiles(images.map(({ image, tags }) => ({ image, annotations: tags[0] ? { "io.containerd.image.name": tags[0], "org.opencontainers.image.ref.name": tags[0].split(":").pop()! } : undefined })));
  const mj = images.map(({ image, tags }) => ({
    Config: `blobs/sha256/${hex(image.configDigest)}`,
    RepoTags: tags,
    Layers: image.layerDigests.map((d) => `blobs/sha256/${hex(d)}`),
  }));
  files.set("manifest.json", te.encode(JSON.stringify(mj)));
  return files;
}

/** The old `docker save` form: `<id>/layer.tar`, `<config hex>.json`, manifest.json; layers as they are given (usually uncompressed). */
export function dockerOldFiles(images: { image: BuiltImage; tags: string[]; compression?: Compression }[]): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const mj = images.map(({ image, tags, compression }) => {
    files.set(`${hex(image.configDigest)}.json`, image.config);
    const layers = image.tars.map((t, i) => {
      const id = hex(digestOf(`${image.configDigest}/${i}`));
      files.set(`${id}/layer.tar`, compress(compression ?? "none", t));
      files.set(`${id}/VERSION`, te.encode("1.0"));
      return `${id}/layer.tar`;
    });
    return { Config: `${hex(image.configDigest)}.json`, RepoTags: tags, Layers: layers };
  });
  files.set("manifest.json", te.encode(JSON.stringify(mj)));
  files.set("repositories", te.encode("{}"));
  return files;
}

export function writeDir(dir: string, files: Map<string, Uint8Array>): string {
  for (const [n, b] of files) {
    mkdirSync(`${dir}/${n.split("/").slice(0, -1).join("/")}`, { recursive: true });
    writeFileSync(`${dir}/${n}`, b);
  }
  return dir;
}

export function writeArchive(path: string, files: Map<string, Uint8Array>): string {
  const dirs = new Set<string>();
  for (const n of files.keys()) {
    const p = n.split("/");
    for (let i = 1; i < p.length; i++) dirs.add(p.slice(0, i).join("/") + "/");
  }
  const entries: TEntry[] = [...[...dirs].sort().map((d) => ({ name: d, type: "5" as const })), ...[...files].map(([n, b]) => ({ name: n, content: b }))];
  writeFileSync(path, makeTar(entries));
  return path;
}

export interface Node {
  type: "file" | "dir" | "symlink" | "char" | "block" | "fifo";
  mode: number;
  uid: number;
  gid: number;
  content?: string;
  link?: string;
  rdev?: number;
  xattrs: Record<string, string>;
  mtime?: number;
}

/** Every entry below `root`: type, mode, owner, content, link target, device, xattrs (hex). */
export function snapshotTree(root: string): Record<string, Node> {
  const out: Record<string, Node> = {};
  const walk = (rel: string) => {
    const p = rel ? `${root}/${rel}` : root;
    const st = lstatSync(p);
    const type = st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : st.isCharacterDevice() ? "char" : st.isBlockDevice() ? "block" : st.isFIFO() ? "fifo" : "file";
    const xattrs: Record<string, string> = {};
    if (type !== "symlink") {
      const names = llistxattr(p);
      if (typeof names === "number") throw new Error(`llistxattr '${p}': errno ${names}`);
      for (const k of names) {
        const v = lgetxattr(p, k);
        if (typeof v === "number" || v === undefined) throw new Error(`lgetxattr '${p}' '${k}': ${v}`);
        xattrs[k] = Buffer.from(v).toString("hex");
      }
    }
    const n: Node = { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, xattrs };
    if (type === "file") n.content = readFileSync(p, "utf8");
    if (type === "symlink") n.link = readlinkSync(p);
    if (type === "char" || type === "block") n.rdev = st.rdev;
    if (type === "symlink") n.mode = 0o777;
    else n.mtime = Math.floor(st.mtimeMs / 1000);
    out[rel || "."] = n;
    if (type === "dir") for (const c of readdirSync(p).sort()) walk(rel ? `${rel}/${c}` : c);
  };
  walk("");
  return out;
}

/** Path and sha256 (or type) of everything in a store except its lock file and tmp/. */
export function snapshotStore(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const p = rel ? `${root}/${rel}` : root;
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      out.push(`${rel}/ ${(st.mode & 0o7777).toString(8)}`);
      for (const c of readdirSync(p).sort()) if (!(rel === "" && (c === "tmp" || c === "lock"))) walk(rel ? `${rel}/${c}` : c);
    } else if (st.isFile()) out.push(`${rel} ${digestOf(readFileSync(p))}`);
    else out.push(`${rel} ${st.mode.toString(8)}`);
  };
  walk("");
  return out;
}

export const isRoot = process.getuid?.() === 0;
