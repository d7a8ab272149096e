/**
 * What the store removes: what a load that died left (its journal's paths that
 * the index does not refer to, and `tmp/`), and blobs and unpacked layers no
 * image refers to any more. Callers hold the store's lock.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import type { Entry, StoreFiles } from "./layout.ts";

/** The journal a load writes before it renames anything into the store. */
export function journalPath(files: StoreFiles): string {
  return `${files.tmpDir}/commit.json`;
}

/**
 * Undoes what a load that died left: the paths its journal lists that the index
 * does not refer to (it died before its index.json was in place), then `tmp/`.
 */
export function recover(files: StoreFiles): void {
  const journal = journalPath(files);
  if (existsSync(journal)) {
    let paths: string[] = [];
    try {
      paths = JSON.parse(readFileSync(journal, "utf8")) as string[];
    } catch {
      // A journal cut short was written before any rename: nothing to undo.
    }
    const { blobs, layers } = files.referenced(files.entries());
    for (const p of paths) {
      const m = /^(blobs|layers)\/sha256\/([a-f0-9]{64})$/.exec(p);
      if (!m) continue;
      const d = `sha256:${m[2]}`;
      if (!(m[1] === "blobs" ? blobs : layers).has(d)) discard(files, `${files.root}/${p}`);
    }
  }
  for (const n of readdirSync(files.tmpDir)) rmSync(`${files.tmpDir}/${n}`, { recursive: true, force: true });
}

/** Moves a path into tmp/ (one rename, so it is gone at once), then deletes it. */
export function discard(files: StoreFiles, path: string): void {
  if (!existsSync(path)) return;
  const to = mkdtempSync(`${files.tmpDir}/gc-`);
  renameSync(path, `${to}/x`);
  rmSync(to, { recursive: true, force: true });
}

/** Deletes blobs and unpacked layers that no entry refers to. */
export function collect(files: StoreFiles, entries: Entry[]): { blobs: number; layers: number; bytes: number } {
  const ref = files.referenced(entries);
  let blobs = 0;
  let layers = 0;
  let bytes = 0;
  for (const hex of readdirSync(`${files.root}/blobs/sha256`)) {
    if (ref.blobs.has(`sha256:${hex}`)) continue;
    const p = `${files.root}/blobs/sha256/${hex}`;
    bytes += statSync(p).size;
    rmSync(p, { force: true });
    blobs++;
  }
  for (const hex of readdirSync(`${files.root}/layers/sha256`)) {
    if (ref.layers.has(`sha256:${hex}`)) continue;
    discard(files, `${files.root}/layers/sha256/${hex}`);
    layers++;
  }
  return { blobs, layers, bytes };
}
