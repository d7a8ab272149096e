/**
 * Unit names and cgroup paths of a pod, escaped by systemd's rules
 * (`unit_name_escape()`: `/` becomes `-`; `-`, `\` and every byte outside
 * `[A-Za-z0-9:_.]` becomes `\xNN`; a leading `.` is escaped too).
 */

const PLAIN = /^[A-Za-z0-9:_.]$/;
const NOTHING_TO_ESCAPE = /^[A-Za-z0-9:_][A-Za-z0-9:_.]*$/;
const utf8 = new TextEncoder();

function hexByte(b: number): string {
  return `\\x${b.toString(16).padStart(2, "0")}`;
}

/** Escapes one string into a unit-name component, byte by byte over its UTF-8 form. */
export function escapeUnitName(s: string): string {
  // Most names need nothing escaped; `list` escapes a few names per pod.
  if (NOTHING_TO_ESCAPE.test(s)) return s;
  const bytes = utf8.encode(s);
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const c = String.fromCharCode(b);
    if (i === 0 && c === ".") out += hexByte(b);
    else if (c === "/") out += "-";
    else if (b < 0x80 && PLAIN.test(c)) out += c;
    else out += hexByte(b);
  }
  return out;
}

/** Reverses escapeUnitName (`-` back to `/`, `\xNN` back to its byte). */
export function unescapeUnitName(s: string): string {
  // Most names have nothing escaped ('list' unescapes one name per unit, 4,000 with 1,000 pods).
  if (!s.includes("\\") && !s.includes("-")) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "-") bytes.push(0x2f);
    else if (c === "\\" && s[i + 1] === "x" && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      bytes.push(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else bytes.push(...utf8.encode(c));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** The slice that holds every pod (a static unit shipped in units/). */
export const ROOT_SLICE = "podunit.slice";

/** `podunit-<pod>`: how every unit name of the pod begins. */
export function podUnitPrefix(pod: string): string {
  return `podunit-${escapeUnitName(pod)}`;
}

/** `podunit-<pod>.slice`: the pod's cgroup parent, nested below podunit.slice. */
export function podSliceName(pod: string): string {
  return `${podUnitPrefix(pod)}.slice`;
}

/**
 * Glob patterns (for ListUnitsByPatterns) that match the units of one pod and
 * nothing of another pod. Pod names are escaped in unit names ('-' becomes
 * '\x2d'), so "podunit-<pod>-" cannot begin another pod's units; systemd matches
 * with FNM_NOESCAPE ('\' is an ordinary character), and escaped names hold no
 * '*', '?' or '['.
 */
export function podUnitPatterns(pod: string): string[] {
  return [podSliceName(pod), `${podUnitPrefix(pod)}-*`];
}

/** Member name of a service unit of `pod` (null for the slice, the target and other pods' units). */
export function memberOfUnit(pod: string, unit: string): string | null {
  const prefix = `${podUnitPrefix(pod)}-`;
  if (!unit.startsWith(prefix) || !unit.endsWith(".service")) return null;
  const rest = unit.slice(prefix.length, -".service".length);
  return rest === SANDBOX_PART || isMemberPart(rest) ? unescapeUnitName(rest) : null;
}

/** What follows the pod's name in its sandbox's service name. */
export const SANDBOX_PART = "sandbox";

/** Whether what follows the pod's name in a service's name (see `podUnitParts`) is a member's escaped name. */
export function isMemberPart(rest: string): boolean {
  // A member's escaped name holds no raw '-' (member names hold no '/'): such units are the pod's own (the health check).
  return rest !== SANDBOX_PART && !rest.includes("-");
}

/** The pod a slice or service of podunit belongs to (null for any other unit). */
export function podOfUnit(unit: string): string | null {
  const p = podUnitParts(unit);
  return p ? unescapeUnitName(p.pod) : null;
}

/**
 * A slice or service of podunit's, split by its name alone: `pod` the pod's escaped
 * name, `rest` what follows it in a service's name (`sandbox`, a member's escaped
 * name, or a pod's own unit with a raw '-' such as `health-check`), null for the
 * slice. Null for any other unit. Reads a name with a few string searches: `list`
 * splits one per unit, 4,000 with 1,000 pods.
 */
export function podUnitParts(unit: string): { pod: string; rest: string | null } | null {
  if (!unit.startsWith(UNIT_PREFIX)) return null;
  // Escaped pod names contain no '-' and no '.': the first of either after "podunit-" ends the pod's name.
  const dash = unit.indexOf("-", UNIT_PREFIX.length);
  const dot = unit.indexOf(".", UNIT_PREFIX.length);
  const end = dash < 0 ? dot : dot < 0 ? dash : Math.min(dash, dot);
  if (end <= UNIT_PREFIX.length) return null;
  const pod = unit.slice(UNIT_PREFIX.length, end);
  if (end === dot) return unit.length === end + SLICE.length && unit.endsWith(SLICE) ? { pod, rest: null } : null;
  if (unit.length <= end + 1 + SERVICE.length || !unit.endsWith(SERVICE)) return null;
  return { pod, rest: unit.slice(end + 1, -SERVICE.length) };
}

const UNIT_PREFIX = "podunit-";
const SLICE = ".slice";
const SERVICE = ".service";

/** `podunit-<pod>-sandbox.service`: the process that holds the pod's namespaces. */
export function sandboxUnitName(pod: string): string {
  return `${podUnitPrefix(pod)}-${SANDBOX_PART}.service`;
}

/** `podunit-<pod>-<member>.service`. */
export function memberUnitName(pod: string, member: string): string {
  return `${podUnitPrefix(pod)}-${escapeUnitName(member)}.service`;
}

/**
 * `podunit-<pod>-health-check.timer` and `.service`: the pod's one timer for its
 * members' health checks and the short-lived check it starts. The raw '-' keeps
 * them apart from every member's unit (a member's '-' is escaped).
 */
export function healthCheckUnitNames(pod: string): { timer: string; service: string } {
  const base = `${podUnitPrefix(pod)}-health-check`;
  return { timer: `${base}.timer`, service: `${base}.service` };
}

/**
 * `podunit-<pod>-image-pull.service`: the oneshot that pulls a boot-time pod's images
 * (see plan/pulls.ts). Its raw `-` keeps it apart from every member's unit (a
 * member's `-` is escaped to `\x2d`).
 */
export function podPullUnitName(pod: string): string {
  return `${podUnitPrefix(pod)}-image-pull.service`;
}

/** `podunit-<pod>.target`: wants every unit of the pod (unit files only). */
export function podTargetName(pod: string): string {
  return `${podUnitPrefix(pod)}.target`;
}

/** cgroup path of the pod's slice: `/podunit.slice/podunit-<pod>.slice`. */
export function podSliceCgroup(pod: string): string {
  return `/${ROOT_SLICE}/${podSliceName(pod)}`;
}

/**
 * cgroup path of a unit inside the pod's slice. The directory name is the
 * escaped unit name verbatim: names starting with `podunit-` never need
 * systemd's cgroup-name escaping (a `_` prefix for reserved names).
 */
export function unitCgroup(pod: string, unit: string): string {
  return `${podSliceCgroup(pod)}/${unit}`;
}

/** D-Bus object path of a unit by name (systemd's bus_path_escape: every byte outside [A-Za-z0-9] as _xx). */
export function unitObjectPath(name: string): string {
  const bytes = new TextEncoder().encode(name);
  let out = "";
  for (const b of bytes) out += /[A-Za-z0-9]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `_${b.toString(16).padStart(2, "0")}`;
  return `/org/freedesktop/systemd1/unit/${out}`;
}
