/**
 * An HTTP client for one registry (the OCI distribution API): finds how to reach
 * it (HTTPS with the system's and its own certificates; plain HTTP only when it
 * is listed as insecure), answers its `WWW-Authenticate` challenges (anonymous or
 * credentialed `Bearer` tokens per repository scope, reused while valid, or
 * `Basic`), follows redirects (without credentials to another host) and turns
 * what went wrong into a RegistryError that says what to do.
 */
import { credentialsFor, parseChallenges, type Challenge, type Credentials } from "./auth.ts";
import { tlsFor, type RegistryConfig, type TlsSettings } from "./config.ts";
import { RegistryError, tlsReason } from "./errors.ts";

/** The registry Docker Hub's API answers at (the name `docker.io` is not an API host). */
const DOCKER_HUB_API = "registry-1.docker.io";
const MAX_REDIRECTS = 5;
/** A token without `expires_in` is valid 60 s (the distribution spec's default); renewed a little early. */
const TOKEN_DEFAULT_S = 60;
const TOKEN_MARGIN_MS = 5_000;
const HTTPS_PROBE_MS = 2_000;

export interface ClientOptions {
  config: RegistryConfig;
  /** Credentials for a registry; by default those of `auth.json` in the configuration directory. */
  credentials?: (registry: string) => Credentials | undefined;
}

interface Token {
  value: string;
  expires: number;
}

/** The registry that serves `domain`: its mirror when one is configured. */
export function endpointOf(config: RegistryConfig, domain: string): string {
  const m = config.mirrors.get(domain);
  if (m !== undefined) return m;
  return domain === "docker.io" ? DOCKER_HUB_API : domain;
}

function retryAfterSeconds(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.round((t - Date.now()) / 1000));
}

/** The first error message of a registry's JSON error body (`{"errors": [{"code", "message"}]}`). */
async function errorText(res: Response): Promise<string> {
  try {
    const text = (await res.text()).slice(0, 4096);
    const v = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const e = v.errors?.[0];
    if (e) return [e.code, e.message].filter(Boolean).join(": ");
    return text.trim().slice(0, 200);
  } catch {
    return "";
  }
}

export class RegistryClient {
  /** HOST[:PORT] actually contacted (a mirror, or Docker Hub's API host). */
  readonly host: string;
  readonly insecure: boolean;
  private base?: string;
  private challenge?: Challenge;
  private readonly tokens = new Map<string, Token>();
  private readonly tls: TlsSettings;
  private readonly aborter = new AbortController();
  private creds?: Credentials | null;

  constructor(
    /** The registry named in the reference (`docker.io`). */
    readonly registry: string,
    private readonly opts: ClientOptions,
  ) {
    this.host = endpointOf(opts.config, registry);
    this.insecure = opts.config.insecure.has(this.host);
    this.tls = tlsFor(opts.config.dir, this.host);
  }

  /** Ends every request in progress. */
  abort(): void {
    this.aborter.abort(new RegistryError("connection", this.host, `The download from registry '${this.host}' was stopped.`));
  }

  /** Credentials for the registry as the user named it, or for its mirror. */
  private credentials(): Credentials | undefined {
    if (this.creds === undefined) {
      const find = this.opts.credentials ?? ((r: string) => credentialsFor(this.opts.config.dir, r));
      this.creds = find(this.host) ?? (this.host !== this.registry ? find(this.registry) : undefined) ?? null;
    }
    return this.creds ?? undefined;
  }

  /** Uses credentials given directly (login checks them before they are stored). */
  useCredentials(c: Credentials): void {
    this.creds = c;
    this.tokens.clear();
  }

  private async send(url: string, init: { headers: Record<string, string>; method?: string; timeoutMs?: number }, verify: boolean): Promise<Response> {
    const u = new URL(url);
    const tls = u.host === this.host ? this.tls : tlsFor(this.opts.config.dir, u.host);
    try {
      return await fetch(url, {
        method: init.method ?? "GET",
        headers: init.headers,
        redirect: "manual",
        signal: init.timeoutMs ? AbortSignal.any([this.aborter.signal, AbortSignal.timeout(init.timeoutMs)]) : this.aborter.signal,
        tls: { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: verify },
      } as RequestInit);
    } catch (e) {
      if (e instanceof RegistryError) throw e;
      const why = tlsReason(e);
      if (why) {
        const trusted = tls.files.length ? ` (trusted besides the system's: ${tls.files.join(", ")})` : "";
        throw new RegistryError("tls", u.host, `TLS failure talking to '${u.host}': ${why}${trusted}.`, {
          hint: `If the registry uses its own certificate authority, put its certificate in '${this.opts.config.dir}/certs.d/${u.host}/ca.crt'.`,
          cause: e,
        });
      }
      const code = (e as { code?: string }).code;
      throw new RegistryError("connection", u.host, `Cannot reach registry '${u.host}': ${code === "ECONNREFUSED" ? "connection refused" : (e as Error).message}.`, {
        hint: "Check the registry's name and port and that it is running; a mirror is set in registries.toml.",
        cause: e,
      });
    }
  }

  /** The registry's base URL: HTTPS; an insecure one also without verification, then over plain HTTP. */
  private async baseUrl(): Promise<string> {
    if (this.base) return this.base;
    if (!this.insecure) return (this.base = `https://${this.host}`);
    try {
      // A server that speaks only HTTP may never answer a TLS hello: the probe is short.
      const r = await this.send(`https://${this.host}/v2/`, { headers: {}, timeoutMs: HTTPS_PROBE_MS }, false);
      await r.body?.cancel();
      this.base = `https://${this.host}`;
    } catch (e) {
      if (e instanceof RegistryError && e.kind === "connection" && (e.cause as { code?: string })?.code === "ECONNREFUSED") throw e;
      this.base = `http://${this.host}`;
    }
    return this.base;
  }

  private async token(scope: string | undefined, force: boolean): Promise<string> {
    const key = scope ?? "";
    const have = this.tokens.get(key);
    if (have && !force && have.expires > Date.now()) return have.value;
    const p = this.challenge!.params;
    if (!p.realm) throw new RegistryError("protocol", this.host, `Registry '${this.host}' asked for a token but named no token server (realm).`);
    const realm = new URL(p.realm);
    if (realm.protocol !== "https:" && !this.opts.config.insecure.has(realm.host)) {
      throw new RegistryError("insecure", this.host, `Registry '${this.host}' sends podunit to the token server '${realm.origin}' over plain HTTP.`, {
        hint: `podunit uses plain HTTP only for hosts listed as insecure in registries.toml; add '${realm.host}' there if you trust the network.`,
      });
    }
    if (p.service) realm.searchParams.set("service", p.service);
    if (scope) realm.searchParams.set("scope", scope);
    const creds = this.credentials();
    const headers: Record<string, string> = creds ? { authorization: basic(creds) } : {};
    const res = await this.send(realm.toString(), { headers }, realm.protocol !== "https:" || !this.opts.config.insecure.has(realm.host));
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw this.unauthorized(creds, scope);
    }
    if (res.status === 429) throw await this.failure(res, realm.host, "the token server");
    if (!res.ok) throw new RegistryError("protocol", this.host, `The token server '${realm.origin}' of registry '${this.host}' answered ${res.status}: ${await errorText(res)}.`);
    let body: { token?: string; access_token?: string; expires_in?: number };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new RegistryError("protocol", this.host, `The token server '${realm.origin}' answered something that is not JSON.`);
    }
    const value = body.token ?? body.access_token;
    if (typeof value !== "string" || !value) throw new RegistryError("protocol", this.host, `The token server '${realm.origin}' answered without a token.`);
    const life = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : TOKEN_DEFAULT_S;
    this.tokens.set(key, { value, expires: Date.now() + life * 1000 - TOKEN_MARGIN_MS });
    return value;
  }

  private unauthorized(creds: Credentials | undefined, scope: string | undefined): RegistryError {
    const what = scope ? ` for '${scope.split(":")[1]}'` : "";
    return creds
      ? new RegistryError("unauthorized", this.host, `Registry '${this.host}' refused the credentials of user '${creds.username}'${what}: unauthorized.`, {
          hint: `Check the user name and password, and log in again with 'podunit login ${this.registry}'.`,
        })
      : new RegistryError("unauthorized", this.host, `Registry '${this.host}' requires authentication${what}: unauthorized.`, {
          hint: `Log in with 'podunit login ${this.registry}'.`,
        });
  }

  /** The headers that authenticate a request, as far as is known before the registry asks. */
  private async authHeader(scope: string | undefined, force: boolean): Promise<Record<string, string>> {
    if (!this.challenge) return {};
    if (this.challenge.scheme === "bearer") return { authorization: `Bearer ${await this.token(scope, force)}` };
    const creds = this.credentials();
    if (this.challenge.scheme === "basic" && creds) return { authorization: basic(creds) };
    return {};
  }

  /**
   * GET (or HEAD) a path below `/v2/`, authenticated for `scope`
   * (`repository:team/app:pull`); throws a RegistryError for any answer but 2xx.
   */
  async get(path: string, opts: { scope?: string; accept?: string[]; method?: "GET" | "HEAD"; what?: string } = {}): Promise<Response> {
    const base = await this.baseUrl();
    let url = `${base}/v2/${path}`;
    let retried = false;
    for (let hops = 0; ; ) {
      const sameHost = new URL(url).host === this.host;
      const headers: Record<string, string> = {
        ...(opts.accept ? { accept: opts.accept.join(", ") } : {}),
        ...(sameHost ? await this.authHeader(opts.scope, false) : {}),
      };
      const res = await this.send(url, { headers, method: opts.method }, !this.insecure || !sameHost);
      if (res.status >= 300 && res.status < 400 && res.headers.get("location")) {
        await res.body?.cancel();
        if (++hops > MAX_REDIRECTS) throw new RegistryError("protocol", this.host, `Registry '${this.host}' redirected more than ${MAX_REDIRECTS} times for '${path}'.`);
        url = new URL(res.headers.get("location")!, url).toString();
        continue;
      }
      if (res.status === 401 && sameHost && !retried) {
        await res.body?.cancel();
        const ch = parseChallenges(res.headers.get("www-authenticate"));
        const pick = ch.find((c) => c.scheme === "bearer") ?? ch.find((c) => c.scheme === "basic");
        if (!pick) throw new RegistryError("protocol", this.host, `Registry '${this.host}' answered 401 without a challenge podunit knows (Bearer or Basic).`);
        if (pick.scheme === "basic" && !this.credentials()) throw this.unauthorized(undefined, opts.scope);
        this.challenge = pick;
        if (pick.scheme === "bearer") await this.token(opts.scope ?? pick.params.scope, true);
        retried = true;
        continue;
      }
      if (res.ok) return res;
      throw await this.failure(res, this.host, opts.what ?? `'${path}'`);
    }
  }

  private async failure(res: Response, host: string, what: string): Promise<RegistryError> {
    const detail = await errorText(res);
    const says = detail ? ` (${detail})` : "";
    switch (res.status) {
      case 401:
        return this.unauthorized(this.credentials(), undefined);
      case 403:
        return new RegistryError("denied", host, `Registry '${host}' denied access to ${what}${says}.`, {
          hint: "The account has no right to it; check the name, or log in as another user.",
        });
      case 404:
        return new RegistryError("not-found", host, `Registry '${host}' has no ${what}${says}.`, { hint: "Check the name and the tag." });
      case 429: {
        const after = retryAfterSeconds(res.headers.get("retry-after"));
        return new RegistryError("rate-limited", host, `Registry '${host}' is rate-limiting requests for ${what}${after !== undefined ? `; it asks to retry after ${after} s` : ""}.`, {
          hint: "Wait and pull again, log in (registries allow authenticated users more), or use a mirror.",
          retryAfter: after,
        });
      }
      default:
        return new RegistryError("protocol", host, `Registry '${host}' answered ${res.status} ${res.statusText} for ${what}${says}.`);
    }
  }
}

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, "utf8").toString("base64")}`;
}
