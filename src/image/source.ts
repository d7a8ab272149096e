/**
 * Where `load` reads an image from: a directory (an OCI image layout, or an
 * unpacked `docker save`) or a tar archive of one. An archive is indexed once
 * (headers only) and its members are then read in place by offset.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync, statSync } from "node:fs";
import { ImageError, shorten } from "./errors.ts";
import { FileSource } from "./reader.ts";
import { readTar, TarFormatError } from "./tar.ts";

export interface Member {
  /** The member's name in its source, for messages. */
  name: string;
  size: number;
  /** The contents as a stream of chunks. */
  stream(): AsyncIterable<Uint8Array>;
}

export interface ImageSource {
  /** `directory '/x'` or `archive '/x.tar'`, for messages. */
  readonly label: string;
  member(name: string): Member | undefined;
  /** Ends the reads in progress early (a load that failed elsewhere); sources read from disk need not. */
  abort?(): void;
  close(): void;
}

/** Member names as archives write them: without `./`, without a trailing `/`. */
export function cleanMemberName(name: string): string | undefined {
  const out: string[] = [];
  for (const p of name.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") {
      if (!out.length) return undefined;
      out.pop();
    } else out.push(p);
  }
  return name.startsWith("/") ? undefined : out.join("/");
}

/** Reads a member completely (a manifest, a config); refuses members larger than `max`. */
export async function readMember(m: Member, max = 8 << 20): Promise<Uint8Array> {
  if (m.size > max) throw new ImageError(`'${m.name}' is ${m.size} bytes, more than the ${max} a manifest or config may have.`, { blob: m.name });
  const parts: Uint8Array[] = [];
  for await (const c of m.stream()) parts.push(c);
  return Buffer.concat(parts);
}

export type Compression = "none" | "gzip" | "zstd";

/** Compression by magic number. */
export function sniffCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

/** The first bytes of a file. */
export function fileHead(path: string, n = 512): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const b = new Uint8Array(n);
    return b.subarray(0, readSync(fd, b, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

class DirSource implements ImageSource {
  readonly label: string;
  constructor(private readonly root: string) {
    this.label = `directory '${root}'`;
  }
  member(name: string): Member | undefined {
    const clean = cleanMemberName(name);
    if (clean === undefined || clean === "") return undefined;
    const path = `${this.root}/${clean}`;
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) return undefined;
      size = st.size;
    } catch {
      return undefined;
    }
    return { name: clean, size, stream: () => createReadStream(path, { highWaterMark: 1 << 20 }) };
  }
  close(): void {}
}

interface Indexed {
  offset: number;
  size: number;
  /** A symbolic or hard link to another member. */
  link?: string;
}

class ArchiveSource implements ImageSource {
  constructor(
    readonly label: string,
    private readonly path: string,
    private readonly fd: number,
    private readonly index: Map<string, Indexed>,
  ) {}

  member(name: string): Member | undefined {
    let clean = cleanMemberName(name);
    for (let hops = 0; clean !== undefined && hops < 16; hops++) {
      const m = this.index.get(clean);
      if (!m) return undefined;
      if (m.link === undefined) {
        const { offset, size } = m;
        const path = this.path;
        return {
          name: clean,
          size,
          stream: () => (size === 0 ? (async function* () {})() : createReadStream(path, { start: offset, end: offset + size - 1, highWaterMark: 1 << 20 })),
        };
      }
      clean = m.link;
    }
    return undefined;
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** Indexes an uncompressed tar archive. */
export async function openArchive(path: string, label = `archive '${path}'`): Promise<ImageSource> {
  const fd = openSync(path, "r");
  try {
    const index = new Map<string, Indexed>();
    for await (const { entry } of readTar(new FileSource(fd, fstatSync(fd).size))) {
      const name = cleanMemberName(entry.name);
      if (name === undefined || name === "") continue;
      if (entry.type === "file") index.set(name, { offset: entry.offset, size: entry.size });
      else if (entry.type === "hardlink") {
        const t = cleanMemberName(entry.linkname);
        if (t !== undefined) index.set(name, { offset: 0, size: 0, link: t });
      } else if (entry.type === "symlink") {
        const dir = name.split("/").slice(0, -1).join("/");
        const t = cleanMemberName(entry.linkname.startsWith("/") ? entry.linkname.slice(1) : `${dir}/${entry.linkname}`);
        if (t !== undefined) index.set(name, { offset: 0, size: 0, link: t });
      }
    }
    return new ArchiveSource(label, path, fd, index);
  } catch (e) {
    closeSync(fd);
    if (e instanceof TarFormatError) {
      throw new ImageError(`Cannot load ${label}: ${shorten(e.message)}.`, {
        hint: "podunit image load reads an OCI image layout (a directory or a tar of one) or a 'docker save' archive, uncompressed, gzip or zstd.",
      });
    }
    throw e;
  }
}

/** A directory source. */
export function openDirectory(path: string): ImageSource {
  return new DirSource(path);
}
