/**
 * Test registries on 127.0.0.1: Debian's distribution registry (docker-registry)
 * with a configuration the test writes (no auth, htpasswd Basic over TLS, or
 * tokens from a small token server here), certificates made with openssl, and
 * images pushed into it with skopeo from OCI layouts the tests build.
 */
import { createPrivateKey, sign } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";

export const registryBin = Bun.which("docker-registry") ?? (Bun.which("registry") || undefined);
export const skopeoBin = Bun.which("skopeo");
export const opensslBin = Bun.which("openssl");
export const htpasswdBin = Bun.which("htpasswd");

function sh(argv: string[], input?: string): string {
  const r = Bun.spawnSync(argv, { stdin: input === undefined ? "ignore" : Buffer.from(input), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Certs {
  caCrt: string;
  crt: string;
  key: string;
}

/** A CA and a certificate for 127.0.0.1 signed by it (or a self-signed one: `selfSigned`). */
export function makeCerts(dir: string, name = "srv"): Certs {
  mkdirSync(dir, { recursive: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  sh([opensslBin!, "req", "-x509", ...ec, "-keyout", `${dir}/ca.key`, "-out", `${dir}/ca.crt`, "-days", "2", "-subj", "/CN=podunit test CA"]);
  sh([opensslBin!, "req", ...ec, "-keyout", `${dir}/${name}.key`, "-out", `${dir}/${name}.csr`, "-subj", "/CN=127.0.0.1"]);
  writeFileSync(`${dir}/ext.cnf`, "subjectAltName=IP:127.0.0.1\n");
  sh([opensslBin!, "x509", "-req", "-in", `${dir}/${name}.csr`, "-CA", `${dir}/ca.crt`, "-CAkey", `${dir}/ca.key`, "-CAcreateserial", "-out", `${dir}/${name}.crt`, "-days", "2", "-extfile", `${dir}/ext.cnf`]);
  return { caCrt: `${dir}/ca.crt`, crt: `${dir}/${name}.crt`, key: `${dir}/${name}.key` };
}

export interface Registry {
  host: string;
  logFile: string;
  /** Blob GETs the registry answered, by digest, in order. */
  blobGets(): string[];
  stop(): void;
}

export interface RegistryOptions {
  tls?: Certs;
  htpasswd?: { user: string; password: string };
  token?: { realm: string; service: string; issuer: string; bundle: string };
}

/** Starts docker-registry on 127.0.0.1 with its storage in `dir`. */
export async function startRegistry(dir: string, opts: RegistryOptions = {}): Promise<Registry> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const lines = ["version: 0.1", "log:", "  level: info", "storage:", "  filesystem:", `    rootdirectory: ${dir}/data`, "  delete:", "    enabled: true"];
  lines.push("http:", `  addr: 127.0.0.1:${port}`, "  secret: podunit-test");
  if (opts.tls) lines.push("  tls:", `    certificate: ${opts.tls.crt}`, `    key: ${opts.tls.key}`);
  if (opts.htpasswd) {
    writeFileSync(`${dir}/htpasswd`, sh([htpasswdBin!, "-Bbn", opts.htpasswd.user, opts.htpasswd.password]));
    lines.push("auth:", "  htpasswd:", "    realm: podunit-test", `    path: ${dir}/htpasswd`);
  }
  if (opts.token) {
    const t = opts.token;
    lines.push("auth:", "  token:", `    realm: ${t.realm}`, `    service: ${t.service}`, `    issuer: ${t.issuer}`, `    rootcertbundle: ${t.bundle}`);
  }
  writeFileSync(`${dir}/config.yml`, lines.join("\n") + "\n");
  const logFile = `${dir}/registry.log`;
  const log = Bun.file(logFile);
  const proc = Bun.spawn([registryBin!, "serve", `${dir}/config.yml`], { stdout: log, stderr: log });
  const host = `127.0.0.1:${port}`;
  const end = Date.now() + 10_000;
  while (!readText(logFile).includes("listening on")) {
    if (Date.now() > end || proc.exitCode !== null) throw new Error(`docker-registry did not start: ${readText(logFile)}`);
    await Bun.sleep(20);
  }
  return {
    host,
    logFile,
    blobGets: () =>
      readText(logFile)
        .split("\n")
        .filter((l) => l.includes('msg="response completed"') && l.includes("http.request.method=GET") && /http\.response\.status=(200|307)\b/.test(l))
        .flatMap((l) => /http\.request\.uri="?\/v2\/[^ "]+\/blobs\/(sha256:[a-f0-9]{64})/.exec(l)?.[1] ?? []),
    stop: () => proc.kill("SIGKILL"),
  };
}

function readText(p: string): string {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return "";
  }
}

/**
 * `skopeo copy` from an OCI layout into the registry (`--all` copies an index with
 * every platform). Asynchronous: the token server skopeo asks runs in this process.
 */
export async function push(layout: string, tag: string, dest: string, opts: { creds?: string; all?: boolean; certDir?: string } = {}): Promise<void> {
  const args = [skopeoBin!, "--insecure-policy", "copy", "-q"];
  if (opts.all) args.push("--all");
  if (opts.certDir) args.push("--dest-cert-dir", opts.certDir);
  else args.push("--dest-tls-verify=false");
  if (opts.creds) args.push("--dest-creds", opts.creds);
  const p = Bun.spawn([...args, `oci:${layout}:${tag}`, `docker://${dest}`], { stdout: "ignore", stderr: "pipe" });
  if ((await p.exited) !== 0) throw new Error(`skopeo copy to ${dest}: ${await new Response(p.stderr).text()}`);
}

const b64url = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");

export interface TokenServer {
  url: string;
  /** Requests the token server answered (scopes asked for, "" for none). */
  requests: { scope: string; user?: string }[];
  stop(): void;
}

/**
 * A token server for the registry's `auth.token` mode: ES256 JWTs carrying their
 * certificate in `x5c` (the registry trusts it through `rootcertbundle`). Grants
 * pull to `user:password`, and to anyone when `anonymous`.
 */
export function startTokenServer(certs: Certs, opts: { service: string; issuer: string; user: string; password: string; anonymous: boolean; expiresIn?: number }): TokenServer {
  const key = createPrivateKey(readFileSync(certs.key));
  const der = Buffer.from(readFileSync(certs.crt, "utf8").replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  const requests: TokenServer["requests"] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const u = new URL(req.url);
      const scope = u.searchParams.get("scope") ?? "";
      const auth = req.headers.get("authorization");
      let user: string | undefined;
      if (auth) {
        const plain = Buffer.from(auth.replace(/^Basic /, ""), "base64").toString();
        if (plain !== `${opts.user}:${opts.password}`) return new Response('{"details":"bad credentials"}', { status: 401 });
        user = opts.user;
      } else if (!opts.anonymous) return new Response('{"details":"login required"}', { status: 401 });
      requests.push({ scope, ...(user ? { user } : {}) });
      const now = Math.floor(Date.now() / 1000);
      const access = scope ? [{ type: scope.split(":")[0], name: scope.split(":")[1], actions: (scope.split(":")[2] ?? "").split(",") }] : [];
      const header = b64url(JSON.stringify({ typ: "JWT", alg: "ES256", x5c: [der.toString("base64")] }));
      const claims = b64url(JSON.stringify({ iss: opts.issuer, sub: user ?? "", aud: opts.service, exp: now + 300, nbf: now - 10, iat: now, jti: String(Math.random()), access }));
      const sig = sign("sha256", Buffer.from(`${header}.${claims}`), { key, dsaEncoding: "ieee-p1363" });
      return Response.json({ token: `${header}.${claims}.${b64url(sig)}`, expires_in: opts.expiresIn ?? 300 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/token`, requests, stop: () => server.stop(true) };
}
