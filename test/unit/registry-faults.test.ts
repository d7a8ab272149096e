/**
 * A lying registry (a raw HTTP server here, so it can break connections at will):
 * a blob that does not match its digest, a connection dropped in the middle of a
 * layer, a pull interrupted with SIGINT, a rate limit. Each is refused with a
 * message that says so, and the store is as it was.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { openStore } from "../../src/image/index.ts";
import { pull, RegistryError } from "../../src/image/fetch.ts";
import { parseChallenges } from "../../src/image/registry/auth.ts";
import { buildImage, makeTar, snapshotStore, writeDir } from "./image-helpers.ts";
import { baseTar } from "./image-fixtures.ts";
import { randomBytes } from "node:crypto";

const work = mkdtempSync(`${tmpdir()}/podunit-pull-faults-`);
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Fault = "none" | "bad-digest" | "drop" | "trickle" | "rate-limit";

/** Serves one image at /v2/team/app; `fault` decides what happens to its last layer. */
async function liar(image: ReturnType<typeof buildImage>, fault: Fault): Promise<{ host: string; close(): void }> {
  const last = image.layerDigests.at(-1)!;
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    let buf = "";
    sock.on("data", (d) => {
      // A TLS hello (podunit first tries HTTPS on an insecure registry): this server speaks plain HTTP only.
      if (buf === "" && d[0] === 0x16) return void sock.destroy();
      buf += d.toString("latin1");
      while (buf.includes("\r\n\r\n")) {
        const head = buf.slice(0, buf.indexOf("\r\n\r\n"));
        buf = buf.slice(head.length + 4);
        answer(sock, head.split(" ")[1] ?? "");
      }
    });
  });
  const send = (sock: Socket, status: string, body: Uint8Array, headers: Record<string, string> = {}) => {
    const h = Object.entries({ "content-length": String(body.length), ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    sock.write(`HTTP/1.1 ${status}\r\n${h}\r\n`);
    return sock.write(body);
  };
  const answer = (sock: Socket, path: string) => {
    if (path === "/v2/") return send(sock, "200 OK", new Uint8Array());
    if (path.startsWith("/v2/team/app/manifests/")) {
      if (fault === "rate-limit") return send(sock, "429 Too Many Requests", Buffer.from('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}'), { "retry-after": "42" });
      return send(sock, "200 OK", image.manifest, { "content-type": "application/vnd.oci.image.manifest.v1+json" });
    }
    const m = /^\/v2\/team\/app\/blobs\/(sha256:[a-f0-9]{64})$/.exec(path);
    const blob = m && image.blobs.get(m[1]!);
    if (!blob) return send(sock, "404 Not Found", Buffer.from('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}'));
    if (m[1] !== last || fault === "none") return send(sock, "200 OK", blob);
    if (fault === "bad-digest") {
      // Valid gzip of a valid tar, the right size: only the digest tells.
      const other = Bun.gzipSync(makeTar([{ name: "evil", content: "x".repeat(100) }]) as Uint8Array<ArrayBuffer>);
      const fake = new Uint8Array(blob.length);
      fake.set(other.subarray(0, Math.min(other.length, fake.length)));
      return send(sock, "200 OK", fake);
    }
    sock.write(`HTTP/1.1 200 OK\r\ncontent-length: ${blob.length}\r\n\r\n`);
    if (fault === "drop") {
      sock.write(blob.subarray(0, blob.length >> 1));
      setTimeout(() => sock.destroy(), 20);
      return;
    }
    // trickle: a little at a time, so a pull can be interrupted in the middle.
    let off = 0;
    const tick = setInterval(() => {
      if (sock.destroyed || off >= blob.length) return clearInterval(tick);
      sock.write(blob.subarray(off, (off += 4096)));
    }, 50);
  };
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    host,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** A store with one image already, and the configuration that makes the liar an insecure registry. */
async function setup(name: string, host: string) {
  const store = openStore(`${work}/${name}`);
  await store.load(writeDir(`${work}/${name}-seed`, (await import("./image-helpers.ts")).ociLayoutFiles([{ image: buildImage([makeTar([{ name: "seed", content: "1" }])]), ref: "seed" }])));
  const cfg = writeDir(`${work}/${name}-etc`, new Map([["registries.toml", new TextEncoder().encode(`insecure = ["${host}"]\n`)]]));
  return { store, cfg, snap: snapshotStore(store.root) };
}

/** Runs `fn` against a liar with `fault`, with a seeded store; the liar is closed afterwards. */
async function withLiar(fault: Fault, name: string, fn: (ctx: Awaited<ReturnType<typeof setup>> & { host: string; ref: string }) => Promise<void>): Promise<void> {
  const reg = await liar(image, fault);
  try {
    const ctx = await setup(name, reg.host);
    await fn({ ...ctx, host: reg.host, ref: `${reg.host}/team/app:1` });
  } finally {
    reg.close();
  }
}

const image = buildImage([baseTar(), makeTar([{ name: "big", content: randomBytes(400_000) }])], { compression: "gzip" });

test("a blob that does not match its digest: refused, the store unchanged", () =>
  withLiar("bad-digest", "bad", async ({ store, cfg, snap, ref }) => {
    const e = await pull(store, ref, { configDir: cfg }).catch((x) => x);
    expect(e.message).toMatch(new RegExp(`layer '${image.layerDigests[1]}' (has digest|uncompressed has digest|is not valid gzip|is not a valid tar|is \\d+ bytes, but the manifest says \\d+)`));
    expect(snapshotStore(store.root)).toEqual(snap);
  }));

test("a connection dropped in the middle of a layer: refused, the store unchanged", () =>
  withLiar("drop", "drop", async ({ store, cfg, snap, ref, host }) => {
    const e = await pull(store, ref, { configDir: cfg }).catch((x) => x);
    expect(e).toBeInstanceOf(RegistryError);
    expect(e.message).toMatch(new RegExp(`The connection to registry '${host}' (broke|ended) .*blob '${image.layerDigests[1]}'`));
    expect(snapshotStore(store.root)).toEqual(snap);
  }));

test("rate-limited: the registry's retry time is in the message", () =>
  withLiar("rate-limit", "rate", async ({ store, cfg, ref }) => {
    const e = await pull(store, ref, { configDir: cfg }).catch((x) => x);
    expect(e.kind).toBe("rate-limited");
    expect(e.retryAfter).toBe(42);
    expect(e.message).toContain("is rate-limiting requests for image");
    expect(e.message).toContain("retry after 42 s");
  }));

test("a pull interrupted with SIGINT leaves nothing: the next command finds the store as it was", () =>
  withLiar("trickle", "sigint", async ({ store, cfg, snap, ref }) => {
    const p = Bun.spawn([process.execPath, "src/main.ts", "image", "pull", ref], {
      env: { ...process.env, PODUNIT_CONFIG_DIR: cfg, PODUNIT_IMAGE_DIR: store.root },
      stdout: "pipe",
      stderr: "pipe",
    });
    const reader = p.stdout.getReader();
    let seen = "";
    while (!seen.includes("Layer")) seen += new TextDecoder().decode((await reader.read()).value ?? new Uint8Array());
    await Bun.sleep(200);
    p.kill("SIGINT");
    expect(await p.exited).not.toBe(0);
    openStore(store.root);
    expect(snapshotStore(store.root)).toEqual(snap);
    expect(readdirSync(`${store.root}/tmp`)).toEqual([]);
  }));

test("the unpacked image is the one served when nothing lies", () =>
  withLiar("none", "honest", async ({ store, cfg, ref }) => {
    expect((await pull(store, ref, { configDir: cfg })).manifestDigest).toBe(image.manifestDigest);
  }));

test("WWW-Authenticate challenges: quoted and bare parameters, several schemes", () => {
  expect(parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"')).toEqual([
    { scheme: "bearer", params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:a/b:pull" } },
  ]);
  expect(parseChallenges('Basic realm="x, y", Bearer realm=https://t/token,service=s')).toEqual([
    { scheme: "basic", params: { realm: "x, y" } },
    { scheme: "bearer", params: { realm: "https://t/token", service: "s" } },
  ]);
  expect(parseChallenges(null)).toEqual([]);
});
