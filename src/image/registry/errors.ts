/**
 * What went wrong talking to a registry. An ImageError, so a load that meets one
 * in the middle of a layer passes it on as it is instead of wrapping it.
 */
import { ExitCode, type ExitCodeValue } from "../../errors.ts";
import { ImageError } from "../errors.ts";

export type RegistryFailure = "unauthorized" | "denied" | "not-found" | "rate-limited" | "tls" | "connection" | "protocol" | "insecure";

export class RegistryError extends ImageError {
  readonly kind: RegistryFailure;
  readonly registry: string;
  /** Seconds the registry asked to wait (rate limits), when it said. */
  readonly retryAfter?: number;
  constructor(kind: RegistryFailure, registry: string, message: string, opts: { hint?: string; retryAfter?: number; cause?: unknown } = {}) {
    const exitCode: ExitCodeValue = kind === "not-found" ? ExitCode.NOT_FOUND : kind === "unauthorized" || kind === "denied" ? ExitCode.PERMISSION : ExitCode.FAILURE;
    super(message, { exitCode, hint: opts.hint, cause: opts.cause });
    this.kind = kind;
    this.registry = registry;
    this.retryAfter = opts.retryAfter;
  }
}

/** What a TLS error code means, in words. */
const TLS_REASONS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its certificate is not signed by an authority this host trusts",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "its certificate is not signed by an authority this host trusts",
  UNABLE_TO_GET_ISSUER_CERT: "the issuer of its certificate is unknown",
  SELF_SIGNED_CERT_IN_CHAIN: "its certificate chain ends in a self-signed certificate this host does not trust",
  DEPTH_ZERO_SELF_SIGNED_CERT: "its certificate is self-signed and not trusted here",
  CERT_HAS_EXPIRED: "its certificate has expired",
  CERT_NOT_YET_VALID: "its certificate is not valid yet",
  ERR_TLS_CERT_ALTNAME_INVALID: "its certificate is not issued for this host name or address",
  CERT_SIGNATURE_FAILURE: "its certificate's signature does not verify",
  CERT_REVOKED: "its certificate was revoked",
};

/** Whether a fetch error is a certificate problem; returns the reason in words. */
export function tlsReason(e: unknown): string | undefined {
  const code = (e as { code?: string })?.code;
  if (code && TLS_REASONS[code]) return `${TLS_REASONS[code]} (${code})`;
  if (code && /CERT|TLS|SSL/.test(code)) return code;
  return undefined;
}
