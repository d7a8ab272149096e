/**
 * Pod volumes (`[volumes.NAME]`) and the members' `mounts`: what each volume
 * is, and which member sees which volume where. Pure; every problem is recorded
 * on the checker with the key it belongs to (so it gets its line).
 */
import { closest, oneOf, quote } from "./describe.ts";
import { type Checker, checkKeys, get, isTable, readChoice, readSize, readString, readStringArray, type Table } from "./fields.ts";
import { checkAbsolutePath, isValidName, NAME_EXPECTED, parseUser } from "./grammar.ts";
import type { Seg } from "./locate.ts";
import type { MemberSpec, MountSpec, VolumeSpec, VolumeType } from "./types.ts";

export const VOLUME_KEYS = ["type", "size", "path", "owner", "mode"] as const;
const VOLUME_TYPES: readonly VolumeType[] = ["persistent", "scratch", "tmpfs", "host"];
const VOLUME_ALIASES: Record<string, string> = { kind: "type", source: "path", host_path: "path", user: "owner", size_limit: "size", permissions: "mode" };

/** `[volumes.NAME]` tables, in file order; undefined when the spec has none. */
export function readVolumes(c: Checker, v: unknown): VolumeSpec[] | undefined {
  if (v === undefined) return undefined;
  if (!isTable(v)) {
    c.wrongType(["volumes"], `a table of volumes such as [volumes.data]`, v);
    return undefined;
  }
  const out: VolumeSpec[] = [];
  for (const name of Object.keys(v)) {
    const path: Seg[] = ["volumes", name];
    // The name is a directory below /var/lib/podunit/volumes/POD/: a DNS label cannot leave it.
    const nameOk = isValidName(name);
    if (!nameOk) c.add(path, `expected ${NAME_EXPECTED.replace('"web" or "my-app"', '"data" or "pg-data"')} as a volume's name, found ${quote(name)}`);
    const body = v[name];
    if (!isTable(body)) {
      c.wrongType(path, `a table such as [volumes.data] with type = "persistent"`, body);
      continue;
    }
    const vol = readVolume(c, name, body);
    if (vol && nameOk) out.push(vol);
  }
  return out;
}

function readVolume(c: Checker, name: string, t: Table): VolumeSpec | undefined {
  const p = (key: string): Seg[] => ["volumes", name, key];
  checkKeys(c, t, ["volumes", name], VOLUME_KEYS, {}, VOLUME_ALIASES);
  const type = get(t, "type") === undefined ? "persistent" : readChoice(c, get(t, "type"), p("type"), VOLUME_TYPES);
  if (type === undefined) return undefined;
  const vol: VolumeSpec = { name, type };

  const size = readSize(c, get(t, "size"), p("size"));
  if (type === "tmpfs") {
    if (get(t, "size") === undefined) c.add(["volumes", name], `expected size = "64M" for a tmpfs volume (its memory is capped), found none`);
    if (size) vol.size = size.value;
  } else if (get(t, "size") !== undefined) {
    c.add(p("size"), `expected size only on a tmpfs volume, found it on a ${quote(type)} volume`);
  }

  const rawPath = get(t, "path");
  if (type === "host") {
    if (rawPath === undefined) c.add(["volumes", name], `expected path = "/srv/data" for a host volume, found none`);
    const s = readString(c, rawPath, p("path"), `an absolute path such as "/srv/data"`);
    if (s !== undefined) {
      const r = c.parsed(p("path"), checkAbsolutePath(s, false));
      if (r !== undefined && r.includes(":")) c.add(p("path"), `expected a path without ":", found ${quote(r)}`);
      else if (r !== undefined) vol.path = r;
    }
  } else if (rawPath !== undefined) {
    c.add(p("path"), `expected path only on a host volume (podunit places ${quote(type)} volumes itself), found it on a ${quote(type)} volume`);
  }

  const rawOwner = get(t, "owner");
  const rawMode = get(t, "mode");
  if (type === "host") {
    if (rawOwner !== undefined) c.add(p("owner"), "expected no owner on a host volume (podunit does not change a host path), found one");
    if (rawMode !== undefined) c.add(p("mode"), "expected no mode on a host volume (podunit does not change a host path), found one");
    return vol;
  }
  const owner = readString(c, rawOwner, p("owner"), `an owner such as "1000:1000"`);
  if (owner !== undefined) {
    const u = c.parsed(p("owner"), parseUser(owner));
    if (u !== undefined && (u.name !== undefined || u.gid === undefined)) {
      c.add(p("owner"), `expected a numeric owner "UID:GID" such as "1000:1000", found ${quote(owner)}`);
    } else if (u?.uid !== undefined && u.gid !== undefined) {
      vol.owner = { uid: u.uid, gid: u.gid };
    }
  }
  const mode = readMode(c, rawMode, p("mode"));
  if (mode !== undefined) vol.mode = mode;
  return vol;
}

/** `mode`: an octal string ("0750", "750") or an integer written in octal (0o750). */
function readMode(c: Checker, v: unknown, path: Seg[]): number | undefined {
  if (v === undefined) return undefined;
  const expected = `a mode such as "0750" or 0o750`;
  if (typeof v === "string") {
    if (/^0?[0-7]{3,4}$/.test(v)) return parseInt(v, 8);
    c.add(path, `expected ${expected} (octal permission bits), found ${quote(v)}`);
    return undefined;
  }
  if (typeof v === "number" && Number.isInteger(v)) {
    const raw = c.index().raw(path) ?? String(v);
    if (raw.startsWith("0o") && v <= 0o7777) return v;
    c.add(path, `expected ${expected} (octal permission bits), found ${raw}${raw.startsWith("0o") ? "" : `; write "${raw}" or 0o${raw}`}`);
    return undefined;
  }
  c.wrongType(path, expected, v);
  return undefined;
}

/**
 * Each member's `mounts` (`"NAME:/path"` or `"NAME:/path:ro"`), checked against
 * the pod's volumes; sets `mounts` on the members that have any.
 */
export function readMounts(c: Checker, containers: unknown, members: MemberSpec[], volumes: VolumeSpec[] | undefined): void {
  if (!isTable(containers)) return;
  const names = (volumes ?? []).map((v) => v.name);
  for (const m of members) {
    const t = containers[m.name];
    if (!isTable(t)) continue;
    const base: Seg[] = ["containers", m.name, "mounts"];
    const items = readStringArray(c, get(t, "mounts"), base, `["data:/var/lib/app", "config:/etc/app:ro"]`);
    if (items === undefined) continue;
    const out: MountSpec[] = [];
    const seen = new Set<string>();
    for (const { value, index } of items) {
      const at: Seg[] = [...base, index];
      const mount = parseMount(c, at, value, names);
      if (mount === undefined) continue;
      if (seen.has(mount.path)) {
        c.add(at, `expected each path once in a member, found ${quote(mount.path)} mounted again`);
        continue;
      }
      seen.add(mount.path);
      out.push(mount);
    }
    if (out.length) m.mounts = out;
  }
}

function parseMount(c: Checker, at: Seg[], s: string, volumes: string[]): MountSpec | undefined {
  const parts = s.split(":");
  if (parts.length < 2 || parts.length > 3 || parts[0] === "") {
    c.add(at, `expected "NAME:/path" or "NAME:/path:ro", found ${quote(s)}`);
    return undefined;
  }
  const [volume, path, option] = parts as [string, string, string | undefined];
  let ok = true;
  if (!volumes.includes(volume)) {
    const near = closest(volume, volumes);
    const list = volumes.length === 0 ? "; declare it as [volumes." + (isValidName(volume) ? volume : "data") + "]" : near ? `; did you mean ${quote(near)}?` : volumes.length <= 8 ? ` (${oneOf(volumes)})` : "";
    c.add(at, `expected the name of a volume of the pod, found ${quote(volume)}${list}`);
    ok = false;
  }
  const checked = c.parsed(at, checkAbsolutePath(path, true));
  if (checked === "/") {
    c.add(at, `expected a path other than "/" (a volume cannot replace a member's whole file system), found ${quote(s)}`);
    ok = false;
  } else if (checked === undefined) ok = false;
  if (option !== undefined && option !== "ro" && option !== "rw") {
    c.add(at, `expected "ro" or "rw" after the path, found ${quote(option)}`);
    ok = false;
  }
  return ok ? { volume, path, readonly: option === "ro" } : undefined;
}
