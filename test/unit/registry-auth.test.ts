/**
 * Authenticated pulls against the real registry: htpasswd Basic auth over TLS
 * (a CA made here, trusted through certs.d), and Bearer tokens from a token
 * server here (anonymous and credentialed, reused while valid). `podunit login`
 * and `logout` through the command layer; the password never shows up in
 * output, errors, the store or `ps`.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { main } from "../../src/main.ts";
import { openStore } from "../../src/image/index.ts";
import { pull, RegistryError } from "../../src/image/fetch.ts";
import { buildImage, ociLayoutFiles, snapshotStore, writeDir } from "./image-helpers.ts";
import { baseTar, upperTar } from "./image-fixtures.ts";
import { htpasswdBin, makeCerts, opensslBin, push, registryBin, skopeoBin, startRegistry, startTokenServer, type Registry, type TokenServer } from "./registry-helpers.ts";

const ready = registryBin && skopeoBin && opensslBin && htpasswdBin;
if (!ready) console.warn("registry-auth: docker-registry, skopeo, openssl or htpasswd is missing (contrib/setup-debian.sh installs them); skipped");
const run = ready ? test : test.skip;
const work = mkdtempSync(`${tmpdir()}/podunit-pull-auth-`);
const PASSWORD = "s3cret-Pa55-word-podunit";
const USER = "alice";
const image = buildImage([baseTar(), upperTar()], { compression: "gzip" });
let basicReg: Registry;
let tokenReg: Registry;
let tokens: TokenServer;
const tlsCfg = `${work}/etc-tls`;
const tokenCfg = `${work}/etc-token`;

beforeAll(async () => {
  if (!ready) return;
  const layout = writeDir(`${work}/layout`, ociLayoutFiles([{ image, ref: "app" }]));
  const certs = makeCerts(`${work}/certs`);
  basicReg = await startRegistry(`${work}/basic`, { tls: certs, htpasswd: { user: USER, password: PASSWORD } });
  const skopeoCerts = `${work}/skopeo-certs`;
  mkdirSync(skopeoCerts);
  copyFileSync(certs.caCrt, `${skopeoCerts}/ca.crt`);
  await push(layout, "app", `${basicReg.host}/team/app:1`, { creds: `${USER}:${PASSWORD}`, certDir: skopeoCerts });
  mkdirSync(`${tlsCfg}/certs.d/${basicReg.host}`, { recursive: true });
  copyFileSync(certs.caCrt, `${tlsCfg}/certs.d/${basicReg.host}/ca.crt`);

  const signer = makeCerts(`${work}/signer`, "signer");
  tokens = startTokenServer(signer, { service: "podunit-test", issuer: "podunit-test-issuer", user: USER, password: PASSWORD, anonymous: false });
  const tokenHost = new URL(tokens.url).host;
  tokenReg = await startRegistry(`${work}/token`, { token: { realm: tokens.url, service: "podunit-test", issuer: "podunit-test-issuer", bundle: signer.crt } });
  await push(layout, "app", `${tokenReg.host}/team/app:1`, { creds: `${USER}:${PASSWORD}` });
  writeFileSync(`${work}/etc-token.toml`, "");
  mkdirSync(tokenCfg, { recursive: true });
  writeFileSync(`${tokenCfg}/registries.toml`, `insecure = ["${tokenReg.host}", "${tokenHost}"]\n`);
}, 60_000);
afterAll(() => {
  basicReg?.stop();
  tokenReg?.stop();
  tokens?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Runs a podunit command in this process with captured output. */
async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (t) => void (out += t), err: (t) => void (err += t), env });
  return { code, out, err };
}

/** Runs the podunit source in a child (stdin given), and what `ps` showed while it ran. */
async function child(args: string[], env: Record<string, string>, stdin?: string): Promise<{ code: number; out: string; ps: string }> {
  const p = Bun.spawn([process.execPath, "src/main.ts", ...args], { env: { ...process.env, ...env }, stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stdout: "pipe", stderr: "pipe" });
  let ps = "";
  while (p.exitCode === null) {
    ps += Bun.spawnSync(["ps", "-eo", "args"]).stdout.toString();
    await Bun.sleep(10);
  }
  const out = (await new Response(p.stdout).text()) + (await new Response(p.stderr).text());
  return { code: await p.exited, out, ps };
}

run("TLS with the registry's CA in certs.d and htpasswd Basic auth: refused without, with wrong and with no CA; pulled after login", async () => {
  const store = openStore(`${work}/store-basic`);
  const env = { PODUNIT_CONFIG_DIR: tlsCfg, PODUNIT_IMAGE_DIR: store.root };
  const ref = `${basicReg.host}/team/app:1`;
  const anon = await cli(["image", "pull", ref], env);
  expect(anon.code).toBe(6);
  expect(anon.err).toContain(`Registry '${basicReg.host}' requires authentication for 'team/app': unauthorized.`);
  expect(anon.err).toContain(`podunit login ${basicReg.host}`);

  const bad = await child(["login", basicReg.host, "--username", USER, "--password-stdin"], env, "wrong-password\n");
  expect(bad.code).toBe(6);
  expect(bad.out).toContain(`refused the credentials of user '${USER}'`);
  expect(bad.out).not.toContain("wrong-password");

  const noCa = await pull(store, ref, { configDir: `${work}/empty`, credentials: () => ({ username: USER, password: PASSWORD }) }).catch((e) => e);
  expect(noCa).toBeInstanceOf(RegistryError);
  expect(noCa.message).toContain(`TLS failure talking to '${basicReg.host}': its certificate is not signed by an authority this host trusts`);
  expect(noCa.hint).toContain(`certs.d/${basicReg.host}/ca.crt`);
  expect(snapshotStore(store.root)).toEqual([]);

  const ok = await child(["login", basicReg.host, "-u", USER, "--password-stdin"], env, `${PASSWORD}\n`);
  expect(ok.out).toContain(`Logged in to ${basicReg.host} as ${USER}.`);
  expect(ok.code).toBe(0);
  expect(statSync(`${tlsCfg}/auth.json`).mode & 0o777).toBe(0o600);
  const auths = JSON.parse(readFileSync(`${tlsCfg}/auth.json`, "utf8")).auths;
  expect(Buffer.from(auths[basicReg.host].auth, "base64").toString()).toBe(`${USER}:${PASSWORD}`);

  const pulled = await child(["image", "pull", ref], env);
  expect(pulled.code).toBe(0);
  expect(pulled.out).toContain(`Pulled ${ref} (`);
  for (const r of [anon.out, anon.err, bad.out, bad.ps, ok.out, ok.ps, pulled.out, pulled.ps]) expect(r).not.toContain(PASSWORD);
  expect(store.resolve(ref).manifestDigest).toBe(image.manifestDigest);
  for (const f of snapshotStore(store.root)) expect(f).not.toContain(PASSWORD);

  const out = await cli(["logout", basicReg.host], env);
  expect(out.out).toBe(`Logged out of ${basicReg.host}.\n`);
  expect(JSON.parse(readFileSync(`${tlsCfg}/auth.json`, "utf8")).auths).toEqual({});
  expect((await cli(["logout", basicReg.host], env)).out).toBe(`Not logged in to ${basicReg.host}.\n`);
});

run("Bearer tokens: anonymous refused by the token server, wrong credentials refused, right ones pull with one token per scope", async () => {
  const store = openStore(`${work}/store-token`);
  const ref = `${tokenReg.host}/team/app:1`;
  const anon = await pull(store, ref, { configDir: tokenCfg }).catch((e) => e);
  expect(anon.message).toContain(`Registry '${tokenReg.host}' requires authentication for 'team/app': unauthorized.`);
  const wrong = await pull(store, ref, { configDir: tokenCfg, credentials: () => ({ username: USER, password: "nope" }) }).catch((e) => e);
  expect(wrong.kind).toBe("unauthorized");
  expect(wrong.message).toContain(`refused the credentials of user '${USER}'`);
  expect(snapshotStore(store.root)).toEqual([]);

  const before = tokens.requests.length;
  const r = await pull(store, ref, { configDir: tokenCfg, credentials: () => ({ username: USER, password: PASSWORD }) });
  expect(r.newLayers).toBe(2);
  // Manifest, config and two layers with one token (fetched on the first 401, reused after).
  expect(tokens.requests.slice(before)).toEqual([{ scope: "repository:team/app:pull", user: USER }]);
  expect(store.resolve(ref).manifestDigest).toBe(image.manifestDigest);
});

run("Bearer tokens for anonymous pulls when the token server allows them", async () => {
  const signer = makeCerts(`${work}/signer-anon`, "signer");
  const anonTokens = startTokenServer(signer, { service: "anon", issuer: "anon-issuer", user: USER, password: PASSWORD, anonymous: true });
  const reg = await startRegistry(`${work}/anon`, { token: { realm: anonTokens.url, service: "anon", issuer: "anon-issuer", bundle: signer.crt } });
  try {
    const layout = `${work}/layout`;
    await push(layout, "app", `${reg.host}/pub/app:1`);
    const cfg = `${work}/etc-anon`;
    mkdirSync(cfg);
    writeFileSync(`${cfg}/registries.toml`, `insecure = ["${reg.host}", "${new URL(anonTokens.url).host}"]\n`);
    const store = openStore(`${work}/store-anon`);
    const before = anonTokens.requests.length;
    await pull(store, `${reg.host}/pub/app:1`, { configDir: cfg });
    expect(anonTokens.requests.slice(before)).toEqual([{ scope: "repository:pub/app:pull" }]);
  } finally {
    reg.stop();
    anonTokens.stop();
  }
});

run("login with a password from a terminal only: without one and without --password-stdin it is a usage error", async () => {
  const r = await child(["login", basicReg.host, "-u", USER], { PODUNIT_CONFIG_DIR: `${work}/etc-none` });
  expect(r.code).toBe(2);
});
