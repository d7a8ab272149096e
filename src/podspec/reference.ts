/**
 * Image references as Docker and Podman write them, normalised the same way:
 * `busybox` is `docker.io/library/busybox:latest`, `localhost/app:1` stays local,
 * `NAME@sha256:HEX` pins a manifest digest, and a first component with a dot, a
 * port or `localhost` is a registry host.
 */
import { UsageError } from "../errors.ts";

export interface Reference {
  /** Registry host, with its port if any: `docker.io`, `localhost`, `registry.example:5000`. */
  domain: string;
  /** Repository path below the host: `library/busybox`. */
  path: string;
  /** `domain/path`. */
  name: string;
  /** Tag; `latest` when neither a tag nor a digest was given. */
  tag?: string;
  /** Pinned manifest digest, `sha256:<64 hex>`. */
  digest?: string;
}

export const DEFAULT_DOMAIN = "docker.io";
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:localhost|(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*)(?::[0-9]+)?$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const MAX_NAME = 255;

/** A reference that is not one; `why` says what is wrong, for messages that quote it (a spec's). */
export class ReferenceError extends UsageError {
  constructor(
    readonly ref: string,
    readonly why: string,
  ) {
    super(
      `Invalid image reference '${ref}': ${why}.`,
      "Write it as NAME[:TAG][@sha256:DIGEST], e.g. 'busybox', 'localhost/app:1.0' or 'registry.example:5000/team/app@sha256:...'.",
    );
  }
}

function bad(ref: string, why: string): ReferenceError {
  return new ReferenceError(ref, why);
}

/** Parses and normalises a reference; throws a UsageError that says what is wrong with it. */
export function parseReference(ref: string): Reference {
  if (ref === "") throw bad(ref, "it is empty");
  if (/\s/.test(ref)) throw bad(ref, "it contains white space");
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digest.startsWith("sha256:")) throw bad(ref, "the digest after '@' must start with 'sha256:' (no other algorithm is supported)");
    if (!DIGEST.test(digest)) throw bad(ref, "the digest after '@' must be 'sha256:' and 64 lower-case hex digits");
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (tag === "") throw bad(ref, "the tag after ':' is empty");
    if (!TAG.test(tag)) throw bad(ref, `the tag '${tag}' must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'`);
  }
  if (rest === "") throw bad(ref, "the repository name is empty");
  const parts = rest.split("/");
  let domain = DEFAULT_DOMAIN;
  const first = parts[0]!;
  if (parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase())) {
    if (!DOMAIN.test(first)) throw bad(ref, `'${first}' is not a valid registry host[:port]`);
    domain = first === "index.docker.io" ? DEFAULT_DOMAIN : first;
    parts.shift();
  }
  for (const p of parts) {
    if (p === "") throw bad(ref, "the repository name has an empty component (a leading, trailing or doubled '/')");
    if (p !== p.toLowerCase()) throw bad(ref, `the repository name must be lower case ('${p}')`);
    if (!COMPONENT.test(p)) {
      throw bad(ref, `'${p}' is not a valid name component (lower-case letters and digits, separated by '.', '_', '__' or '-')`);
    }
  }
  if (domain === DEFAULT_DOMAIN && parts.length === 1) parts.unshift("library");
  const path = parts.join("/");
  const name = `${domain}/${path}`;
  if (name.length > MAX_NAME) throw bad(ref, `the repository name is longer than ${MAX_NAME} characters`);
  if (tag === undefined && digest === undefined) tag = "latest";
  return { domain, path, name, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The canonical string: `docker.io/library/busybox:latest`, `localhost/app@sha256:...`. */
export function formatReference(r: Reference): string {
  return `${r.name}${r.tag !== undefined ? `:${r.tag}` : ""}${r.digest !== undefined ? `@${r.digest}` : ""}`;
}

/** Parses and returns the canonical string in one step. */
export function normalizeReference(ref: string): string {
  return formatReference(parseReference(ref));
}
