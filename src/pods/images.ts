/**
 * Images before planning: every image a spec names is found in the store, checked
 * (in the store at all, for this host's platform) and turned into ImageFacts, the
 * plan's input, with the image's /etc/passwd and /etc/group read from its layers.
 * Also the hook `podunit image rm` and `prune` ask which pods use an image.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { NotFoundError, PodunitError } from "../errors.ts";
import { DEFAULT_IMAGE_DIR, hostPlatform, imageEntry, type InUse, openStore, readImageFile, type ResolvedImage } from "../image/index.ts";
import type { HostLookup } from "../host/ports.ts";
import { SERVICE_PATH } from "../plan/hostfacts.ts";
import type { Plan, PlannedImage } from "../plan/types.ts";
import { findInRoot } from "./preflight.ts";
import { PodLayout } from "../plan/layout.ts";
import type { ImageFacts } from "../plan/types.ts";
import { specDir } from "../podspec/load.ts";
import { parseSpec, stemOf } from "../podspec/parse.ts";
import type { PodSpec } from "../podspec/types.ts";
import { runDir, type Env } from "./wiring.ts";

/** The image store: PODUNIT_IMAGE_DIR or /var/lib/podunit/images. */
export function imageStoreDir(env: Env): string {
  return env.PODUNIT_IMAGE_DIR || DEFAULT_IMAGE_DIR;
}

/** `name:x:uid:gid:...` lines → name → ids (lines that do not parse are skipped, as libc does). */
export function parsePasswd(text: string | undefined): ImageFacts["passwd"] {
  const out: ImageFacts["passwd"] = {};
  for (const line of (text ?? "").split("\n")) {
    const [name, , uid, gid] = line.split(":");
    if (name && /^\d+$/.test(uid ?? "") && /^\d+$/.test(gid ?? "") && !(name in out)) out[name] = { uid: Number(uid), gid: Number(gid) };
  }
  return out;
}

/** `name:x:gid:members` lines → name → gid. */
export function parseGroup(text: string | undefined): ImageFacts["groups"] {
  const out: ImageFacts["groups"] = {};
  for (const line of (text ?? "").split("\n")) {
    const [name, , gid] = line.split(":");
    if (name && /^\d+$/.test(gid ?? "") && !(name in out)) out[name] = Number(gid);
  }
  return out;
}

/** A resolved image as the plan takes it. */
export function imageFacts(img: ResolvedImage, store: string): ImageFacts {
  const c = img.config.config ?? {};
  const config: ImageFacts["config"] = {};
  if (c.Entrypoint?.length) config.entrypoint = c.Entrypoint;
  if (c.Cmd?.length) config.cmd = c.Cmd;
  if (c.Env?.length) config.env = c.Env;
  if (c.WorkingDir) config.workingDir = c.WorkingDir;
  if (c.User) config.user = c.User;
  if (c.StopSignal) config.stopSignal = c.StopSignal;
  return {
    manifestDigest: img.manifestDigest,
    store,
    layers: img.layers.map((l) => l.path),
    config,
    passwd: parsePasswd(readImageFile(img, "etc/passwd")),
    groups: parseGroup(readImageFile(img, "etc/group")),
  };
}

/**
 * Finds every image of `spec` in the store at `store` (`pins`: reference →
 * manifest digest, to find exactly the image unit files were written for) and
 * refuses, in one error naming each, images that are not there or not for this
 * host's platform. Before anything of the pod starts.
 */
export function resolveImages(spec: PodSpec, store: string, pins: Record<string, string> = {}): Map<string, ImageFacts> {
  const refs = [...new Set(spec.members.flatMap((m) => (m.image !== undefined ? [m.image] : [])))];
  const facts = new Map<string, ImageFacts>();
  if (refs.length === 0) return facts;
  const s = openStore(store);
  const missing: string[] = [];
  const foreign: string[] = [];
  const users = (ref: string) => spec.members.filter((m) => m.image === ref).map((m) => `'${m.name}'`).join(", ");
  const host = hostPlatform();
  for (const ref of refs) {
    const pin = pins[ref];
    let img: ResolvedImage;
    try {
      img = s.resolve(pin ?? ref);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      const never = spec.members.some((m) => m.image === ref && m.pull === "never") ? ` (pull = "never": podunit does not fetch it)` : "";
      missing.push(`'${ref}'${pin ? ` (${pin})` : ""} for member ${users(ref)}${never}`);
      continue;
    }
    const { architecture, os } = img.config;
    if (architecture !== host.architecture || os !== host.os) {
      foreign.push(`'${ref}' is for ${os}/${architecture}, this host is ${host.os}/${host.architecture}`);
      continue;
    }
    facts.set(ref, imageFacts(img, store));
  }
  if (missing.length) {
    throw new NotFoundError(
      `Pod '${spec.name}' cannot run: ${missing.length === 1 ? "image" : "images"} ${missing.join("; ")} ${missing.length === 1 ? "is" : "are"} not in the image store '${store}'.`,
      `Load ${missing.length === 1 ? "it" : "them"} with 'podunit image load FILE' or fetch ${missing.length === 1 ? "it" : "them"} with 'podunit image pull REF'; 'podunit image list' shows the images there are.`,
    );
  }
  if (foreign.length) {
    throw new PodunitError(`Pod '${spec.name}' cannot run: ${foreign.join("; ")}.`, { hint: `Load the image built for ${host.os}/${host.architecture}.` });
  }
  return facts;
}

/**
 * The hook of `podunit image rm` and `prune`: the pods that use an image (their
 * names), by manifest digest. A running pod counts by what it recorded when it started
 * (`images.json` in its run directory), a spec in the spec directory by what
 * its references resolve to now. Read once, on the first question.
 */
export function imageUsers(env: Env): InUse {
  let users: Map<string, string[]> | undefined;
  return (digest) => {
    users ??= collectUsers(env);
    return users.get(digest) ?? [];
  };
}

function collectUsers(env: Env): Map<string, string[]> {
  const users = new Map<string, string[]>();
  const add = (digest: string, who: string) => {
    const list = users.get(digest) ?? [];
    if (!list.includes(who)) list.push(who);
    users.set(digest, list);
  };
  const run = runDir(env);
  let pods: string[] = [];
  try {
    pods = readdirSync(run);
  } catch {
    // No run directory: nothing runs.
  }
  for (const pod of pods) {
    try {
      const { members } = JSON.parse(readFileSync(new PodLayout(run, pod).imagesFile, "utf8")) as { members: Record<string, { manifestDigest: string }> };
      for (const m of Object.values(members)) add(m.manifestDigest, pod);
    } catch {
      // Not a pod with images (or the locks directory).
    }
  }
  const dir = specDir({ env });
  const s = openStore(imageStoreDir(env));
  for (const name of listSpecsSync(dir)) {
    const file = join(dir, `${name}.toml`);
    let spec: PodSpec;
    try {
      spec = parseSpec(readFileSync(file, "utf8"), file, { defaultName: stemOf(file) });
    } catch {
      continue; // A spec that does not parse cannot start either.
    }
    for (const m of spec.members) {
      if (m.image === undefined) continue;
      try {
        add(s.resolve(m.image).manifestDigest, spec.name);
      } catch {
        // Names an image the store does not have.
      }
    }
  }
  return users;
}

function listSpecsSync(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith(".toml")).map((n) => n.slice(0, -".toml".length));
  } catch {
    return [];
  }
}


/** The file system questions of preflight, asked of an image's merged layers (top first) instead of the host's. */
function layersLookup(lowerdirs: readonly string[]): HostLookup {
  return {
    isExecutableFile: (p) => {
      const e = imageEntry(lowerdirs, p);
      return e !== undefined && e.stat.isFile() && (e.stat.mode & 0o111) !== 0;
    },
    isDirectory: (p) => imageEntry(lowerdirs, p)?.stat.isDirectory() === true,
    readLink: (p) => {
      const e = imageEntry(lowerdirs, p);
      return e?.stat.isSymbolicLink() ? readlinkSync(e.path) : undefined;
    },
    isHostRoot: () => false,
  };
}

/**
 * Refuses, before anything starts, image members whose program is not in their
 * image (found along the resolved PATH, or at its path from the working
 * directory), as preflight does for rootfs members.
 */
export function checkImagePrograms(p: Plan): void {
  const problems = (p.images ?? []).flatMap((i: PlannedImage) => {
    const cmd = i.config.command.value[0]!;
    const path = i.config.env.find((e) => e.name === "PATH")?.value ?? SERVICE_PATH;
    if (findInRoot("", cmd, path, i.config.workdir.value, layersLookup(i.lowerdirs))) return [];
    return [`member '${i.member}': program '${cmd}' is not in its image '${i.image}'${cmd.includes("/") ? "" : ` (PATH ${path})`}`];
  });
  if (problems.length) throw new NotFoundError(`Pod '${p.pod}' cannot run: ${problems.join("; ")}.`, `Fix the command in ${p.file}, or use an image that has the program.`);
}

/** How a command finds the images of a spec; tests pass their own facts. */
export type SpecImages = (spec: PodSpec, env: Env) => Map<string, ImageFacts>;

/** The images of `spec`, from the store this environment names. */
export const specImages: SpecImages = (spec, env) => resolveImages(spec, imageStoreDir(env));
