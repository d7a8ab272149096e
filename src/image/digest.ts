/**
 * sha256 digests as the OCI image spec writes them: `sha256:` and 64 lower-case hex digits.
 * Bun's own hasher: node:crypto would cost every podunit command its set-up, since the
 * start path reaches this module.
 */

export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: unknown): s is string {
  return typeof s === "string" && DIGEST_RE.test(s);
}

/** The 64 hex digits of a digest. */
export function hexOf(digest: string): string {
  return digest.slice("sha256:".length);
}

export function sha256(data: Uint8Array | string): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(data).digest("hex")}`;
}

/** A running digest and byte count, fed chunk by chunk. */
export class Digester {
  private readonly h = new Bun.CryptoHasher("sha256");
  private done?: string;
  size = 0;
  update(chunk: Uint8Array): void {
    this.h.update(chunk);
    this.size += chunk.length;
  }
  /** The digest of everything so far; no more updates after the first call. */
  digest(): string {
    this.done ??= `sha256:${this.h.digest("hex")}`;
    return this.done;
  }
}

/** A short id for tables: the first 12 hex digits. */
export function shortId(digest: string): string {
  return hexOf(digest).slice(0, 12);
}
