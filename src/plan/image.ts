/**
 * An image member's configuration: the spec's keys over the image's config, as
 * Kubernetes maps command/args onto Entrypoint/Cmd. Pure: the image's config and
 * its /etc/passwd and /etc/group come in as ImageFacts, looked up beforehand.
 *
 * - command: the spec's `command` (+ `args`), else the image's Entrypoint + (`args`
 *   or Cmd); nothing at all is an error;
 * - env: the image's Env, then the spec's `env` per name;
 * - workdir: `workdir`, else WorkingDir, else `/`;
 * - user: `user`, else User, else root; names are looked up in the image;
 * - stop signal: StopSignal, else SIGTERM.
 */
import { PodunitError } from "../errors.ts";
import type { MemberSpec } from "../podspec/types.ts";
import { SIGNALS } from "../systemd/numbers.ts";
import type { ImageFacts, ImageMemberConfig, Source, Sourced } from "./types.ts";

/** The pod as messages name it. */
interface Pod {
  name: string;
  file: string;
}

function problem(pod: Pod, m: MemberSpec, what: string, hint: string): PodunitError {
  return new PodunitError(`Failed to plan pod '${pod.name}': member '${m.name}' (image '${m.image}'): ${what}.`, { hint });
}

function command(pod: Pod, m: MemberSpec, f: ImageFacts): Sourced<string[]> {
  const entry = f.config.entrypoint ?? [];
  if (m.command.length) return { value: [...m.command, ...(m.args ?? [])], from: "spec" };
  if (m.args !== undefined) {
    const value = [...entry, ...m.args];
    if (value.length) return { value, from: entry.length ? "spec args, image Entrypoint" : "spec" };
  } else {
    const value = [...entry, ...(f.config.cmd ?? [])];
    if (value.length) return { value, from: "image" };
  }
  throw problem(pod, m, "the image has no Entrypoint or Cmd and the spec gives no command", `Set command = [...] in [containers.${m.name}] of ${pod.file}.`);
}

function env(m: MemberSpec, f: ImageFacts): ImageMemberConfig["env"] {
  const out = new Map<string, { value: string; from: Source }>();
  for (const e of f.config.env ?? []) {
    const eq = e.indexOf("=");
    if (eq > 0) out.set(e.slice(0, eq), { value: e.slice(eq + 1), from: "image" });
  }
  for (const [name, value] of Object.entries(m.env)) out.set(name, { value, from: "spec" });
  return [...out].map(([name, v]) => ({ name, ...v }));
}

const ID = /^(0|[1-9][0-9]*)$/;

/**
 * `USER[:GROUP]` → ids, names looked up in the image. A uid alone takes its
 * primary group from the image's /etc/passwd, else the same number (podunit's
 * rule for a numeric user).
 */
function lookupUser(pod: Pod, m: MemberSpec, f: ImageFacts, written: string, from: Source): Sourced<{ uid: number; gid: number; written?: string }> {
  const [u, g] = written.split(":", 2) as [string, string | undefined];
  const where = from === "spec" ? "the spec's user" : "the image's User";
  const fix =
    from === "spec"
      ? `Use a user the image has, or numeric ids ("1000:1000"), in [containers.${m.name}] of ${pod.file}.`
      : `Set user = "UID:GID" in [containers.${m.name}] of ${pod.file}.`;
  let uid: number;
  let gid: number | undefined;
  if (ID.test(u)) {
    uid = Number(u);
    gid = Object.values(f.passwd).find((e) => e.uid === uid)?.gid;
  } else {
    const entry = f.passwd[u];
    if (!entry) throw problem(pod, m, `${where} '${written}' names user '${u}', which is not in the image's /etc/passwd`, fix);
    [uid, gid] = [entry.uid, entry.gid];
  }
  if (g !== undefined && g !== "") {
    if (ID.test(g)) gid = Number(g);
    else {
      const found = f.groups[g];
      if (found === undefined) throw problem(pod, m, `${where} '${written}' names group '${g}', which is not in the image's /etc/group`, fix);
      gid = found;
    }
  }
  return { value: { uid, gid: gid ?? uid, ...(ID.test(written) || /^\d+:\d+$/.test(written) ? {} : { written }) }, from };
}

function user(pod: Pod, m: MemberSpec, f: ImageFacts): ImageMemberConfig["user"] {
  if (m.user !== undefined) return lookupUser(pod, m, f, m.user, "spec");
  if (f.config.user) return lookupUser(pod, m, f, f.config.user, "image");
  return { value: { uid: 0, gid: 0 }, from: "default" };
}

/** `SIGQUIT`, `QUIT` or `3` → `SIGQUIT`; undefined for a signal podunit does not know. */
export function signalName(s: string): string | undefined {
  const up = s.toUpperCase();
  if (/^\d+$/.test(s)) return Object.keys(SIGNALS).find((k) => SIGNALS[k] === Number(s));
  const name = up.startsWith("SIG") ? up : `SIG${up}`;
  return SIGNALS[name] !== undefined ? name : undefined;
}

function stopSignal(pod: Pod, m: MemberSpec, f: ImageFacts): Sourced<string> {
  const s = f.config.stopSignal;
  if (!s) return { value: "SIGTERM", from: "default" };
  const name = signalName(s);
  if (!name || name === "SIGKILL" || name === "SIGSTOP") {
    throw problem(pod, m, `the image's StopSignal '${s}' is not a signal podunit can stop a member with`, `Known signals: ${Object.keys(SIGNALS).join(", ")} (not SIGKILL or SIGSTOP).`);
  }
  return { value: name, from: "image" };
}

/** The member's resolved configuration; throws a PodunitError naming the member for what cannot be resolved. */
export function imageMemberConfig(pod: Pod, m: MemberSpec, f: ImageFacts): ImageMemberConfig {
  return {
    command: command(pod, m, f),
    env: env(m, f),
    workdir: m.workdir !== undefined ? { value: m.workdir, from: "spec" } : f.config.workingDir ? { value: f.config.workingDir, from: "image" } : { value: "/", from: "default" },
    user: user(pod, m, f),
    stopSignal: stopSignal(pod, m, f),
  };
}
