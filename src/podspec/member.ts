/**
 * Validation of a member's table (`[containers.NAME]`): its keys and values,
 * then the relations between members (`after`) and to the pod (limits within
 * the pod's). Pure; every problem is recorded on the checker.
 */
import { quote } from "./describe.ts";
import {
  Checker,
  checkKeys,
  get,
  isTable,
  readBool,
  readChoice,
  readDuration,
  readPercent,
  readSize,
  readString,
  readStringArray,
  readTasks,
  type Table,
} from "./fields.ts";
import type { Seg } from "./locate.ts";
import { checkAfter, checkWithinPod, type MemberDraft } from "./relations.ts";
import type { Limits, MemberKind, MemberSpec, OciRuntime, PullPolicy, RestartPolicy } from "./types.ts";
import { checkAbsolutePath, checkName, isEnvName, parseImageUser, parseUser } from "./grammar.ts";
import { ReferenceError, parseReference } from "./reference.ts";
import { readCapabilities, readSeccomp } from "./hardening.ts";
import { readHealth } from "./health.ts";

export const MEMBER_KEYS = [
  "kind",
  "image",
  "pull",
  "command",
  "args",
  "env",
  "workdir",
  "user",
  "rootfs",
  "readonly_rootfs",
  "runtime",
  "no_new_privileges",
  "seccomp",
  "capabilities",
  "memory_max",
  "cpu_quota",
  "tasks_max",
  "restart",
  "restart_sec",
  "stop_timeout",
  "after",
  "mounts",
  "health",
] as const;

const MEMBER_HINTS: Record<string, string> = {
  hostname: "a member cannot set a hostname (it would rename the whole pod); set hostname at the top of the file",
  name: "a member's name is its table's name, as in [containers.app]",
  group: `give the group together with the user, as user = "1000:1000"`,
  share: "namespaces are shared pod-wide; set share at the top of the file",
  host_network: "host_network is pod-wide; set it at the top of the file",
  privileged: `there are no privileged members; give a member the capabilities it needs with capabilities = { add = ["NET_ADMIN"] } (see docs/security.md)`,
  cap_add: `write capabilities = { add = ["NET_ADMIN"] }`,
  cap_drop: `write capabilities = { drop = ["ALL"] }`,
};
const MEMBER_ALIASES: Record<string, string> = {
  environment: "env",
  cmd: "command",
  entrypoint: "command",
  exec: "command",
  depends_on: "after",
  requires: "after",
  needs: "after",
  working_dir: "workdir",
  working_directory: "workdir",
  cwd: "workdir",
  memory: "memory_max",
  mem_limit: "memory_max",
  memory_limit: "memory_max",
  cpus: "cpu_quota",
  cpu: "cpu_quota",
  cpu_limit: "cpu_quota",
  pids_limit: "tasks_max",
  pids_max: "tasks_max",
  restart_policy: "restart",
  type: "kind",
  read_only: "readonly_rootfs",
  runtime_class: "runtime",
  runtime_class_name: "runtime",
  oci_runtime: "runtime",
  from: "image",
  pull_policy: "pull",
  image_pull_policy: "pull",
  allow_privilege_escalation: "no_new_privileges",
  seccomp_profile: "seccomp",
  security_opt: "seccomp",
  volumes: "mounts",
  volume_mounts: "mounts",
  binds: "mounts",
};

const RESTARTS: readonly RestartPolicy[] = ["no", "on-failure", "always"];
const KINDS: readonly MemberKind[] = ["service", "init"];
const PULLS: readonly PullPolicy[] = ["missing", "always", "never"];
/** The OCI runtimes a spec may name (the pod's `runtime`, a member's). */
export const RUNTIMES: readonly OciRuntime[] = ["crun", "runc"];
export function readLimits(c: Checker, t: Table, path: Seg[]): MemberDraft["shown"] {
  const shown: MemberDraft["shown"] = {};
  const memoryMax = readSize(c, get(t, "memory_max"), [...path, "memory_max"]);
  const cpuQuota = readPercent(c, get(t, "cpu_quota"), [...path, "cpu_quota"]);
  const tasksMax = readTasks(c, get(t, "tasks_max"), [...path, "tasks_max"]);
  if (memoryMax) shown.memoryMax = memoryMax;
  if (cpuQuota) shown.cpuQuota = cpuQuota;
  if (tasksMax) shown.tasksMax = tasksMax;
  return shown;
}

export function limitsOf(s: MemberDraft["shown"]): Limits {
  const l: Limits = {};
  if (s.memoryMax) l.memoryMax = s.memoryMax.value;
  if (s.cpuQuota) l.cpuQuota = s.cpuQuota.value;
  if (s.tasksMax) l.tasksMax = s.tasksMax.value;
  return l;
}

export function readMembers(c: Checker, v: unknown, pod: MemberDraft["shown"]): MemberSpec[] {
  const expected = "at least one member such as [containers.app] with a command";
  if (v === undefined || (isTable(v) && Object.keys(v).length === 0)) {
    c.add(["containers"], `expected ${expected}, found ${v === undefined ? "none" : "an empty table"}`);
    return [];
  }
  if (!isTable(v)) {
    c.wrongType(["containers"], `a table of members such as [containers.app]`, v);
    return [];
  }
  let names = Object.keys(v);
  // JavaScript lists integer-like keys ("1", "42") first; restore the file's order.
  if (names.some((n) => /^(0|[1-9][0-9]*)$/.test(n))) {
    const at = (n: string) => c.index().offset(["containers", n]) ?? Infinity;
    names = names.map((n) => [n, at(n)] as const).sort((a, b) => a[1] - b[1]).map(([n]) => n);
  }
  const drafts: MemberDraft[] = [];
  for (const name of names) {
    c.parsed(["containers", name], checkName(name, "member"));
    const body = v[name];
    if (!isTable(body)) {
      c.wrongType(["containers", name], `a table such as [containers.${/^[a-z0-9-]+$/.test(name) ? name : "app"}] with command = [...]`, body);
      continue;
    }
    drafts.push(readMember(c, name, body));
  }
  checkAfter(c, drafts, names);
  for (const d of drafts) checkWithinPod(c, d, pod);
  return drafts.map((d) => d.spec);
}

function readMember(c: Checker, name: string, t: Table): MemberDraft {
  const p = (key: string): Seg[] => ["containers", name, key];
  checkKeys(c, t, ["containers", name], MEMBER_KEYS, MEMBER_HINTS, MEMBER_ALIASES);

  const kind = readChoice(c, get(t, "kind"), p("kind"), KINDS) ?? "service";
  const image = readImage(c, get(t, "image"), p("image"));
  const hasImage = get(t, "image") !== undefined;
  const hasRootfs = get(t, "rootfs") !== undefined;
  const pull = readChoice(c, get(t, "pull"), p("pull"), PULLS);
  if (pull !== undefined && !hasImage) c.add(p("pull"), "expected image to be set for pull (it says when the image is fetched from its registry), found no image");
  if (hasImage && hasRootfs) c.add(p("image"), "expected either image or rootfs, found both; an image member's root file system is made from its image");
  // An image member without a command runs the image's Entrypoint and Cmd.
  const command = hasImage && get(t, "command") === undefined ? [] : readCommand(c, get(t, "command"), p("command"));
  const args = readArgs(c, get(t, "args"), p("args"), hasImage);
  const env = readEnv(c, get(t, "env"), p("env"));

  const rootfs = readPath(c, get(t, "rootfs"), p("rootfs"), false);
  const workdir = readPath(c, get(t, "workdir"), p("workdir"), true);
  const readonlyRootfs = readBool(c, get(t, "readonly_rootfs"), p("readonly_rootfs")) ?? false;
  if (readonlyRootfs && !hasRootfs && !hasImage) {
    c.add(p("readonly_rootfs"), "expected rootfs or image to be set for readonly_rootfs = true, found neither");
  }

  const runtime = readChoice(c, get(t, "runtime"), p("runtime"), RUNTIMES);
  if (runtime !== undefined && !hasRootfs && !hasImage) {
    c.add(p("runtime"), "expected rootfs or image to be set for runtime (it names the OCI runtime of the member's container), found neither; a member on the host's file system runs under systemd alone");
  }

  const noNewPrivileges = readBool(c, get(t, "no_new_privileges"), p("no_new_privileges"));
  const seccomp = readSeccomp(c, t, ["containers", name]);
  const capabilities = readCapabilities(c, t, ["containers", name]);

  let user: string | undefined;
  const rawUser = get(t, "user");
  if (typeof rawUser === "number") {
    c.wrongType(p("user"), `a user such as "1000:1000"`, rawUser, `; write "${c.raw(rawUser, p("user")) ?? rawUser}"`);
  }
  const u = typeof rawUser === "number" ? undefined : readString(c, rawUser, p("user"), `a user such as "1000:1000"`);
  if (u !== undefined && hasImage) {
    // Names are looked up in the image's own /etc/passwd and /etc/group when the pod starts.
    user = c.parsed(p("user"), parseImageUser(u));
  } else if (u !== undefined) {
    const parsed = c.parsed(p("user"), parseUser(u));
    if (parsed?.name !== undefined && hasRootfs) {
      c.add(p("user"), `expected a numeric user such as "1000:1000" for a member with rootfs (names are not looked up inside a rootfs), found ${quote(u)}`);
    } else if (parsed !== undefined) {
      user = u;
    }
  }

  const defaultRestart: RestartPolicy = kind === "init" ? "no" : "on-failure";
  let restart = readChoice(c, get(t, "restart"), p("restart"), RESTARTS) ?? defaultRestart;
  if (kind === "init" && restart === "always") {
    c.add(p("restart"), `expected "no" or "on-failure" for an init member (it runs to completion), found "always"`);
    restart = defaultRestart;
  }
  const restartSec = readDuration(c, get(t, "restart_sec"), p("restart_sec"), 0n);
  const stopTimeout = readDuration(c, get(t, "stop_timeout"), p("stop_timeout"), 1n);

  const after = readStringArray(c, get(t, "after"), p("after"), `["db"]`) ?? [];
  const shown = readLimits(c, t, ["containers", name]);
  const health = readHealth(c, get(t, "health"), name, kind);

  const spec: MemberSpec = {
    name,
    kind,
    command,
    env,
    readonlyRootfs,
    limits: limitsOf(shown),
    restart,
    after: [],
  };
  if (workdir !== undefined) spec.workdir = workdir;
  if (runtime !== undefined) spec.runtime = runtime;
  if (user !== undefined) spec.user = user;
  if (noNewPrivileges !== undefined) spec.noNewPrivileges = noNewPrivileges;
  if (seccomp !== "default") spec.seccomp = seccomp;
  if (capabilities !== undefined) spec.capabilities = capabilities;
  if (rootfs !== undefined) spec.rootfs = rootfs;
  if (image !== undefined) {
    spec.image = image;
    spec.pull = pull ?? "missing";
  }
  if (args !== undefined) spec.args = args;
  if (restartSec !== undefined) spec.restartSec = restartSec;
  if (stopTimeout !== undefined) spec.stopTimeout = stopTimeout;
  if (health !== undefined) spec.health = health;
  return { spec, shown, after };
}

function readCommand(c: Checker, v: unknown, path: Seg[]): string[] {
  if (v === undefined) {
    c.add(path, `expected a command such as ["/usr/bin/redis-server", "--port", "6379"], found none`);
    return [];
  }
  const items = readStringArray(c, v, path, `["/usr/bin/redis-server", "--port", "6379"]`, true);
  if (items === undefined) return [];
  if (Array.isArray(v) && v.length === 0) c.add(path, "expected at least the program to run, found an empty array");
  for (const { value, index } of items) {
    if (value === "") c.add([...path, index], `expected a non-empty string, found ""`);
    else if (value.includes("\0")) c.add([...path, index], `expected a string without NUL characters, found ${quote(value)}`);
  }
  return items.map((i) => i.value);
}

function readImage(c: Checker, v: unknown, path: Seg[]): string | undefined {
  const s = readString(c, v, path, `an image reference such as "busybox" or "localhost/app:1.0"`);
  if (s === undefined) return undefined;
  try {
    parseReference(s);
    return s;
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    c.add(path, `expected an image reference such as "busybox", "localhost/app:1.0" or "NAME@sha256:...", found ${quote(s)}: ${e.why}`);
    return undefined;
  }
}

/** `args`: an image member's arguments (they replace the image's Cmd); may be empty. */
function readArgs(c: Checker, v: unknown, path: Seg[], hasImage: boolean): string[] | undefined {
  if (v === undefined) return undefined;
  if (!hasImage) {
    c.add(path, "expected image to be set for args (they replace an image's Cmd), found no image; put the arguments into command");
    return undefined;
  }
  const items = readStringArray(c, v, path, `["--port", "8080"]`, true);
  if (items === undefined) return undefined;
  for (const { value, index } of items) {
    if (value.includes("\0")) c.add([...path, index], `expected a string without NUL characters, found ${quote(value)}`);
  }
  return items.map((i) => i.value);
}

function readEnv(c: Checker, v: unknown, path: Seg[]): Record<string, string> {
  const env: Record<string, string> = {};
  if (v === undefined) return env;
  if (!isTable(v)) {
    c.wrongType(path, `a table such as env = { LOG_LEVEL = "info" }`, v);
    return env;
  }
  for (const key of Object.keys(v)) {
    const value = v[key];
    if (!isEnvName(key)) {
      c.add([...path, key], `expected a variable name such as "LOG_LEVEL" (letters, digits and "_", not starting with a digit), found ${quote(key)}`);
    }
    if (typeof value !== "string") {
      const hint = typeof value === "number" || typeof value === "boolean" ? `; write "${c.raw(value, [...path, key]) ?? String(value)}"` : "";
      c.wrongType([...path, key], "a string", value, hint);
    } else if (value.includes("\0")) {
      c.add([...path, key], `expected a value without NUL characters, found ${quote(value)}`);
    } else if (isEnvName(key)) {
      Object.defineProperty(env, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return env;
}

function readPath(c: Checker, v: unknown, path: Seg[], allowRoot: boolean): string | undefined {
  const s = readString(c, v, path, `an absolute path such as "/var/lib/app"`);
  return s === undefined ? undefined : c.parsed(path, checkAbsolutePath(s, allowRoot));
}
