/**
 * A member's confinement keys: `seccomp` (the default filter, or none) and
 * `capabilities` (names added to or dropped from runc's default set). Pure;
 * problems are recorded on the checker, and so are warnings (`add` of
 * CAP_SYS_ADMIN).
 */
import { closest, quote } from "./describe.ts";
import { checkKeys, get, isTable, readChoice, readStringArray, type Checker, type Table } from "./fields.ts";
import type { Seg } from "./locate.ts";
import type { SeccompProfile } from "./types.ts";
import { CAPABILITY_NAMES, DEFAULT_CAPABILITIES, capabilityName, sortCapabilities } from "./capabilities.ts";

const SECCOMP: readonly SeccompProfile[] = ["default", "unconfined"];

/** The member's seccomp profile; "default" when the key is absent or wrong (the wrong value is an issue). */
export function readSeccomp(c: Checker, t: Table, path: Seg[]): SeccompProfile {
  return readChoice(c, get(t, "seccomp"), [...path, "seccomp"], SECCOMP) ?? "default";
}

const CAPABILITY_KEYS = ["add", "drop"] as const;
const EXAMPLE = `capabilities = { add = ["NET_ADMIN"], drop = ["ALL"] }`;

/** Capabilities that give a member most of root's power over the host; `add` of one is a warning. */
const WARN: Readonly<Record<string, string>> = {
  CAP_SYS_ADMIN:
    "CAP_SYS_ADMIN lets the member mount, enter other namespaces (setns), and use much of the kernel that other capabilities guard; it is close to running unconfined as root. Add the narrower capability the program needs if there is one",
};

/** One list of names: each known (`ALL` too), as `CAP_...`; unknown ones are issues with a suggestion. */
function readNames(c: Checker, v: unknown, path: Seg[]): { name: string; index: number }[] {
  const items = readStringArray(c, v, path, `["NET_ADMIN"]`) ?? [];
  const out: { name: string; index: number }[] = [];
  for (const { value, index } of items) {
    if (value.toUpperCase() === "ALL") {
      out.push({ name: "ALL", index });
      continue;
    }
    const name = capabilityName(value);
    if (CAPABILITY_NAMES.includes(name)) {
      out.push({ name, index });
      continue;
    }
    const near = closest(name, CAPABILITY_NAMES);
    const hint = near ? `; did you mean ${quote(near.slice("CAP_".length))}?` : "; the names are those of capabilities(7), with or without CAP_, or \"ALL\"";
    c.add([...path, index], `expected a capability name such as "NET_ADMIN", found ${quote(value)}${hint}`);
  }
  return out;
}

/**
 * The member's capabilities: runc's default set, less `drop` (`ALL`: every
 * one), plus `add` (`ALL`: every one); undefined when the key is absent.
 */
export function readCapabilities(c: Checker, t: Table, member: Seg[]): string[] | undefined {
  const v = get(t, "capabilities");
  const path = [...member, "capabilities"];
  if (v === undefined) return undefined;
  if (!isTable(v)) {
    c.wrongType(path, `a table such as ${EXAMPLE}`, v);
    return undefined;
  }
  checkKeys(c, v, path, CAPABILITY_KEYS);
  const add = readNames(c, get(v, "add"), [...path, "add"]);
  const drop = readNames(c, get(v, "drop"), [...path, "drop"]);
  const dropped = new Set(drop.map((d) => d.name));
  for (const a of add) {
    if (dropped.has(a.name)) c.add([...path, "add", a.index], `expected a capability not also in drop, found ${quote(a.name)} in both`);
    const why = WARN[a.name];
    if (why !== undefined) c.warn([...path, "add", a.index], `adds ${a.name}: ${why}.`);
  }
  let set = dropped.has("ALL") ? [] : DEFAULT_CAPABILITIES.filter((n) => !dropped.has(n));
  set = add.some((a) => a.name === "ALL") ? [...CAPABILITY_NAMES] : [...set, ...add.map((a) => a.name)];
  return sortCapabilities(set);
}
