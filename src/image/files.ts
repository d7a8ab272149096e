/**
 * Reading a file of an image without mounting it: its unpacked layers are looked
 * at top first, as overlayfs would merge them. A whiteout (a 0/0 character device)
 * of the file or of a directory above it hides it and everything below; an opaque
 * directory (`trusted.overlay.opaque=y`) hides what lower layers have in it.
 */
import { lstatSync, readFileSync, type Stats } from "node:fs";
import { lgetxattr } from "../host/libc.ts";
import type { ResolvedImage } from "./types.ts";

const OPAQUE = "trusted.overlay.opaque";

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

function isOpaque(dir: string): boolean {
  const v = lgetxattr(dir, OPAQUE);
  return v instanceof Uint8Array && new TextDecoder().decode(v) === "y";
}

/**
 * The contents of the regular file `path` (such as `etc/passwd`) in the image, or
 * undefined when the image does not have it (or has something else there, such as
 * a symbolic link, which podunit does not follow out of a layer).
 */
export function readImageFile(image: Pick<ResolvedImage, "layers">, path: string): string | undefined {
  const e = imageEntry(image.layers.map((l) => l.path).reverse(), path);
  return e?.stat.isFile() ? readFileSync(e.path, "utf8") : undefined;
}

/**
 * What stands at `path` in the merged view of `layers` (top first), not following
 * a symbolic link at its end: the layer file that provides it and its lstat.
 * Undefined when no layer has it or a whiteout hides it. Symbolic links in
 * directories above are not followed either (the caller resolves them).
 */
export function imageEntry(layers: readonly string[], path: string): { path: string; stat: Stats } | undefined {
  const parts = path.split("/").filter(Boolean);
  if (parts.length === 0) return undefined;
  for (const layer of layers) {
    let dir = layer;
    let hidden = false;
    for (const part of parts.slice(0, -1)) {
      const st = lstatOrUndefined(`${dir}/${part}`);
      if (st === undefined) {
        dir = "";
        break;
      }
      // A whiteout or a non-directory here hides the path in every lower layer.
      if (!st.isDirectory()) return undefined;
      dir = `${dir}/${part}`;
      if (isOpaque(dir)) hidden = true;
    }
    if (dir !== "") {
      const file = `${dir}/${parts[parts.length - 1]}`;
      const st = lstatOrUndefined(file);
      // A whiteout (a 0/0 character device) hides lower layers' file.
      if (st !== undefined) return st.isCharacterDevice() && st.rdev === 0 ? undefined : { path: file, stat: st };
    }
    if (hidden) return undefined;
  }
  return undefined;
}
