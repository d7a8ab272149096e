/**
 * Unpacks one layer (its tar entries) into a directory that overlayfs can use as
 * a lower layer: OCI whiteouts become overlay whiteouts (`.wh.NAME` a 0/0
 * character device `NAME`, `.wh..wh..opq` the xattr `trusted.overlay.opaque=y` on
 * its directory). Every entry stays inside the directory: parents are checked
 * with lstat and never followed when they are symbolic links, files are opened
 * with O_NOFOLLOW|O_EXCL, and anything that would reach outside is refused.
 */
import {
  chmodSync, closeSync, constants, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, rmSync,
  symlinkSync, writeSync, type Stats,
} from "node:fs";
import { ImageError, UnsafeLayerError } from "./errors.ts";
import { lsetxattr, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from "../host/libc.ts";
import { EPERM, errnoText } from "../host/errno.ts";
import type { TarEntry, TarItem } from "./tar.ts";

export const WHITEOUT_PREFIX = ".wh.";
export const OPAQUE_MARKER = ".wh..wh..opq";
export const OPAQUE_XATTR = "trusted.overlay.opaque";
const PATH_MAX = 4095;
const NAME_MAX = 255;

export interface UnpackOptions {
  /** The layer's digest, for messages. */
  layer: string;
  /** Whether to set owners and make device nodes and whiteouts (needs root). */
  privileged: boolean;
}

export interface UnpackStats {
  entries: number;
  /** Bytes of regular-file contents written. */
  bytes: number;
  /** Extended attributes not applied (only security.capability and user.* are). */
  skippedXattrs: string[];
}

/** Extended attributes taken from a layer: file capabilities and the user namespace. */
export function xattrWanted(name: string): boolean {
  return name === "security.capability" || name.startsWith("user.");
}

const enc = new TextEncoder();

/** Splits an entry name into checked components; `[]` is the layer's root. */
export function entryComponents(layer: string, name: string, what = "its name"): string[] {
  if (name.startsWith("/")) throw new UnsafeLayerError(layer, name, `has an absolute ${what} (outside the layer)`);
  if (name.includes("\0")) throw new UnsafeLayerError(layer, name, `has a NUL byte in ${what}`);
  if (enc.encode(name).length > PATH_MAX) {
    throw new UnsafeLayerError(layer, name, `has ${what} longer than ${PATH_MAX} bytes (PATH_MAX)`);
  }
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  for (const p of parts) {
    if (p === "..") throw new UnsafeLayerError(layer, name, `has a '..' component in ${what} (it would reach outside the layer)`);
    if (enc.encode(p).length > NAME_MAX) {
      throw new UnsafeLayerError(layer, name, `has a component longer than ${NAME_MAX} bytes in ${what} (NAME_MAX)`);
    }
  }
  return parts;
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

class Unpacker {
  readonly stats: UnpackStats = { entries: 0, bytes: 0, skippedXattrs: [] };
  /** Directories whose owner, mode, xattrs and time are set at the end (children change a directory's mtime). */
  private readonly dirs: { parts: string[]; entry: TarEntry }[] = [];

  constructor(
    private readonly root: string,
    private readonly opts: UnpackOptions,
  ) {}

  private refuse(entry: string, why: string): never {
    throw new UnsafeLayerError(this.opts.layer, entry, why);
  }

  private path(parts: string[]): string {
    return parts.length ? `${this.root}/${parts.join("/")}` : this.root;
  }

  /**
   * Walks to the parent of `parts` one component at a time with lstat. Missing
   * directories are made when `create`; a symbolic link or a non-directory on the
   * way is refused (or reported as `undefined` when not creating).
   */
  private parent(entry: string, parts: string[], create: boolean): string | undefined {
    let cur = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = `${cur}/${parts[i]}`;
      const st = lstatOrUndefined(next);
      if (st === undefined) {
        if (!create) return undefined;
        // A parent the layer has no entry for: 0755 whatever the umask, as other tools make it.
        mkdirSync(next, 0o755);
        chmodSync(next, 0o755);
      } else if (st.isSymbolicLink()) {
        if (!create) return undefined;
        this.refuse(entry, `would be written through the symbolic link '${parts.slice(0, i + 1).join("/")}' made by an earlier entry`);
      } else if (!st.isDirectory()) {
        if (!create) return undefined;
        this.refuse(entry, `needs '${parts.slice(0, i + 1).join("/")}' as a directory, but an earlier entry made it something else`);
      }
      cur = next;
    }
    return cur;
  }

  async entry(item: TarItem): Promise<void> {
    const e = item.entry;
    this.stats.entries++;
    const parts = entryComponents(this.opts.layer, e.name);
    const base = parts[parts.length - 1];
    if (base !== undefined && base.startsWith(WHITEOUT_PREFIX)) return this.whiteout(e, parts, base);
    if (parts.length === 0) {
      if (e.type !== "dir") this.refuse(e.name, "names the layer's root but is not a directory");
      this.dirs.push({ parts, entry: e });
      return;
    }
    this.parent(e.name, parts, true);
    const p = this.path(parts);
    const old = lstatOrUndefined(p);
    if (old) {
      if (old.isDirectory() && e.type === "dir") {
        this.dirs.push({ parts, entry: e });
        return;
      }
      rmSync(p, { recursive: true, force: true });
    }
    switch (e.type) {
      case "dir":
        mkdirSync(p, 0o700);
        this.dirs.push({ parts, entry: e });
        return;
      case "file":
        await this.file(p, item);
        break;
      case "symlink":
        if (e.linkname === "") this.refuse(e.name, "is a symbolic link with an empty target");
        symlinkSync(e.linkname, p);
        break;
      case "hardlink":
        this.hardlink(e, p);
        return;
      case "fifo":
        this.node(e, p, S_IFIFO);
        break;
      case "char":
      case "block":
        if (!this.opts.privileged) throw this.needsRoot(e, "is a device node");
        this.node(e, p, e.type === "char" ? S_IFCHR : S_IFBLK);
        break;
    }
    this.meta(p, e);
  }

  private needsRoot(e: TarEntry, what: string): ImageError {
    return new ImageError(`Cannot unpack layer '${this.opts.layer}': entry '${e.name}' ${what}, which only root can make.`, {
      blob: this.opts.layer,
      hint: "Load images as root.",
    });
  }

  private async file(p: string, item: TarItem): Promise<void> {
    const fd = openSync(p, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      for await (const c of item.body()) {
        let o = 0;
        while (o < c.length) o += writeSync(fd, c, o, c.length - o);
        this.stats.bytes += c.length;
      }
    } finally {
      closeSync(fd);
    }
  }

  private hardlink(e: TarEntry, p: string): void {
    const tparts = entryComponents(this.opts.layer, e.linkname, "its link target");
    if (tparts.length === 0) this.refuse(e.name, "is a hard link to the layer's root");
    const tparent = this.parent(e.name, tparts, false);
    const target = tparent === undefined ? undefined : `${tparent}/${tparts[tparts.length - 1]}`;
    const st = target === undefined ? undefined : lstatOrUndefined(target);
    if (target === undefined || st === undefined) {
      this.refuse(e.name, `is a hard link to '${e.linkname}', which no earlier entry of the layer made (or which lies behind a symbolic link)`);
    }
    if (st.isDirectory()) this.refuse(e.name, `is a hard link to the directory '${e.linkname}'`);
    linkSync(target, p);
  }

  private node(e: TarEntry, p: string, kind: number): void {
    const r = mknod(p, kind | (e.mode & 0o777), e.devmajor, e.devminor);
    if (r !== 0) throw new ImageError(`Cannot unpack layer '${this.opts.layer}': mknod of '${e.name}' failed: ${errnoText(r)}.`, { blob: this.opts.layer });
  }

  private whiteout(e: TarEntry, parts: string[], base: string): void {
    const dirParts = parts.slice(0, -1);
    if (base === OPAQUE_MARKER) {
      const dir = this.parentDir(e, dirParts);
      const r = lsetxattr(dir, OPAQUE_XATTR, enc.encode("y"));
      if (r !== 0) {
        throw new ImageError(`Cannot unpack layer '${this.opts.layer}': setting '${OPAQUE_XATTR}' on '${dirParts.join("/") || "/"}' failed: ${errnoText(r)}.`, {
          blob: this.opts.layer,
          hint: r === EPERM ? "Load images as root (trusted.* attributes need CAP_SYS_ADMIN)." : undefined,
        });
      }
      return;
    }
    if (base.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) return; // other .wh..wh. names are metadata of older tools
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === "" || name === "." || name === "..") this.refuse(e.name, `is a whiteout for '${name}', which is not a name in its directory`);
    const target = [...dirParts, name];
    const dir = this.parentDir(e, target.slice(0, -1));
    const p = `${dir}/${name}`;
    // A whiteout hides lower layers only; an entry of this layer with the same name already does.
    if (lstatOrUndefined(p)) return;
    if (!this.opts.privileged) throw this.needsRoot(e, "is a whiteout (an overlay whiteout is a 0/0 character device)");
    const r = mknod(p, S_IFCHR, 0, 0);
    if (r !== 0) throw new ImageError(`Cannot unpack layer '${this.opts.layer}': making the whiteout for '${e.name}' failed: ${errnoText(r)}.`, { blob: this.opts.layer });
  }

  /** The directory `dirParts`, made if missing; refused when it is not a real directory. */
  private parentDir(e: TarEntry, dirParts: string[]): string {
    if (dirParts.length === 0) return this.root;
    this.parent(e.name, [...dirParts, "x"], true);
    return this.path(dirParts);
  }

  private meta(p: string, e: TarEntry): void {
    const link = e.type === "symlink";
    if (this.opts.privileged) lchownSync(p, e.uid, e.gid);
    if (!link) chmodSync(p, e.mode);
    if (!link) {
      for (const [k, v] of e.xattrs) {
        if (!xattrWanted(k)) {
          this.stats.skippedXattrs.push(`${e.name}: ${k}`);
          continue;
        }
        const r = lsetxattr(p, k, v);
        if (r !== 0) throw new ImageError(`Cannot unpack layer '${this.opts.layer}': setting xattr '${k}' on '${e.name}' failed: ${errnoText(r)}.`, { blob: this.opts.layer });
      }
    }
    lutimesSync(p, e.mtime, e.mtime);
  }

  /** Owners, modes, xattrs and times of directories, deepest last-made first. */
  finish(): void {
    for (let i = this.dirs.length - 1; i >= 0; i--) {
      const { parts, entry } = this.dirs[i]!;
      if (parts.length && this.parent(entry.name, parts, false) === undefined) continue;
      const p = this.path(parts);
      const st = lstatOrUndefined(p);
      if (!st?.isDirectory()) continue;
      this.meta(p, entry);
    }
  }
}

/** Unpacks the entries into `dir` (an empty directory); refuses unsafe entries with UnsafeLayerError. */
export async function unpackLayer(entries: AsyncIterable<TarItem>, dir: string, opts: UnpackOptions): Promise<UnpackStats> {
  const u = new Unpacker(dir, opts);
  for await (const item of entries) {
    try {
      await u.entry(item);
    } catch (e) {
      if (e instanceof UnsafeLayerError || e instanceof ImageError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new ImageError(`Cannot unpack layer '${opts.layer}': entry '${item.entry.name.slice(0, 200)}' failed: ${code ?? ""} ${(e as Error).message}`, {
        blob: opts.layer,
        cause: e,
      });
    }
  }
  u.finish();
  return u.stats;
}
