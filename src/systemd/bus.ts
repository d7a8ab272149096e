/**
 * The systemd client podunit uses for everything: one connection to the system
 * bus, raw method calls with explicit signatures (no introspection round trip),
 * and job tracking through `JobRemoved`.
 *
 * Not systemd's own socket (/run/systemd/private, systemctl's way as root).
 * systemd 252's server leaves a message that arrives in the same read as the
 * handshake's BEGIN unread until more bytes come (a first call went unanswered
 * until its 30 s timeout); a client must wait for the server's OK before its
 * calls. With that, a round trip is faster there, but connecting is slower, and
 * a start or stop comes out about even (docs/benchmarks.md).
 *
 * Ordering matters: the match rule and `Subscribe` are sent before any method
 * that queues a job. Messages on one connection are processed in order, so they
 * are pipelined rather than awaited one by one, and a `JobRemoved` that arrives
 * before the method reply that names its job is kept until the reply comes.
 */
import { BusUnreachableError, JobFailedError, SystemdError } from "../errors.ts";
import { BusConnection, ConnectionError } from "./dbus/connection.ts";
import { Variant } from "./dbus/marshal.ts";
import type { Message } from "./dbus/message.ts";
import type { DbusProperty, JobMode } from "./types.ts";
import { unitObjectPath } from "./unitname.ts";
import { type UnitListEntry, unitListReader } from "./unitlist.ts";
import type { BodyReader } from "./dbus/message.ts";

const DEST = "org.freedesktop.systemd1";
const PATH = "/org/freedesktop/systemd1";
const MANAGER = "org.freedesktop.systemd1.Manager";
const PROPS = "org.freedesktop.DBus.Properties";
/** The interfaces of a unit object podunit reads properties of, by their short names. */
const UNIT_INTERFACES = {
  Unit: "org.freedesktop.systemd1.Unit",
  Service: "org.freedesktop.systemd1.Service",
  Slice: "org.freedesktop.systemd1.Slice",
} as const;
export type UnitInterface = keyof typeof UNIT_INTERFACES;

/** The D-Bus errors of systemd podunit tells apart, by their short names. */
const DBUS_ERRORS = {
  NoSuchUnit: "org.freedesktop.systemd1.NoSuchUnit",
  UnitExists: "org.freedesktop.systemd1.UnitExists",
  AlreadySubscribed: "org.freedesktop.systemd1.AlreadySubscribed",
} as const;
export type DbusErrorName = keyof typeof DBUS_ERRORS;

/** True when `err` is systemd's answer `name` (a SystemdError, or a raw D-Bus error reply). */
export function isDbusError(err: unknown, name: DbusErrorName): boolean {
  const full = DBUS_ERRORS[name];
  if (err instanceof SystemdError) return err.dbusName === full;
  return (err as { type?: string } | null)?.type === full;
}

/** True when `err` is a job that ended with `result` (`dependency`, `failed`, ...). */
export function isJobResult(err: unknown, result: JobResult): boolean {
  return err instanceof JobFailedError && err.result === result;
}
const DEFAULT_ADDRESS = "unix:path=/run/dbus/system_bus_socket";

/** The result a job ended with, as systemd reports it in `JobRemoved`. */
export type JobResult = "done" | "canceled" | "timeout" | "failed" | "dependency" | "skipped" | string;

/** The systemd operations podunit needs; implemented over D-Bus here, faked in unit tests. */
export interface Systemd {
  /** Where the connection goes (a D-Bus address). */
  readonly address: string;
  /** Creates and starts a transient unit; resolves when its start job is `done`. */
  /** `aux`: units created with it and not started (a timer's service); `onQueued`: called once systemd has made the unit and queued its job. */
  startTransientUnit(name: string, props: DbusProperty[], mode?: JobMode, aux?: Array<{ name: string; props: DbusProperty[] }>, onQueued?: () => void): Promise<void>;
  /** Starts a unit (from a unit file) and waits for its job. */
  startUnit(name: string, mode?: JobMode): Promise<void>;
  /** Stops a unit and waits for its job; stopping a unit that is not loaded succeeds. */
  stopUnit(name: string, mode?: JobMode): Promise<void>;
  /** Forgets a failed unit (ResetFailedUnit); a unit that is not loaded is fine. */
  resetFailedUnit(name: string): Promise<void>;
  /** The unit's object path, or null when systemd has no such unit loaded. */
  getUnit(name: string): Promise<string | null>;
  /** Reads properties of one interface of a unit object (its path as `listUnits` gives it, or `unitObjectPath`). */
  getProperties(unitPath: string, iface: UnitInterface, names: readonly string[]): Promise<Record<string, unknown>>;
  /** The unit's ActiveState, or null when systemd has no such unit loaded. */
  unitState(name: string): Promise<string | null>;
  /** The PID of a service's main process, or undefined when it has none (not running, not loaded). */
  mainPid(name: string): Promise<number | undefined>;
  /** The unit file systemd loaded the unit from, or undefined (none, or not found; asking loads the unit). */
  fragmentPath(name: string): Promise<string | undefined>;
  /** Loaded units whose names match the glob patterns (ListUnitsByPatterns). */
  listUnits(patterns: string[], states?: string[]): Promise<UnitListEntry[]>;
  /** systemd's version number (252 for "252.39-1~deb12u1"). */
  version(): Promise<number>;
  /** Asks systemd to reload unit files (daemon-reload); resolves when done. */
  reload(): Promise<void>;
  /** Changes properties of a loaded unit while it runs (SetUnitProperties); `runtime`: until reboot only. */
  setUnitProperties(name: string, props: DbusProperty[], runtime: boolean): Promise<void>;
  close(): void;
}

export type { UnitListEntry } from "./unitlist.ts";

export interface ConnectOptions {
  /** Bus address; default `DBUS_SYSTEM_BUS_ADDRESS` or the standard system bus socket. */
  address?: string;
  /** How long connecting (and the Hello handshake) may take. */
  connectTimeoutMs?: number;
  /** How long any single method call may take before it is abandoned. */
  callTimeoutMs?: number;
  /** How long a job may run before waiting for it is abandoned. */
  jobTimeoutMs?: number;
}

/** The bus address podunit uses for the given environment. */
export function systemBusAddress(env: Record<string, string | undefined>): string {
  return env.DBUS_SYSTEM_BUS_ADDRESS || DEFAULT_ADDRESS;
}

/** Wraps a D-Bus or job failure in a SystemdError that names the unit. */
function systemdError(what: string, unit: string | undefined, err: unknown): SystemdError {
  const e = err as { type?: string; text?: string; message?: string };
  const name = e?.type;
  const text = e?.text ?? e?.message ?? String(err);
  return new SystemdError(`${what}: ${text}`, { dbusName: name, unit, cause: err });
}

/** Connects to the system bus and returns a ready client, or throws BusUnreachableError. */
export async function connectSystemd(env: Record<string, string | undefined>, opts: ConnectOptions = {}): Promise<Systemd> {
  const address = opts.address ?? systemBusAddress(env);
  try {
    const conn = await BusConnection.open(address, opts.connectTimeoutMs ?? 5000);
    return new DbusSystemd(conn, address, opts);
  } catch (err) {
    throw new BusUnreachableError(address, describeSocketError(err as Error));
  }
}

type Resolver = { resolve: (r: JobResult) => void; reject: (e: unknown) => void };

class DbusSystemd implements Systemd {
  private readonly waiters = new Map<string, Resolver>();
  private readonly early = new Map<string, JobResult>();
  private subscribed: Promise<void> | null = null;
  private broken: Error | null = null;
  private readonly callTimeout: number;
  private readonly jobTimeout: number;

  constructor(
    private readonly conn: BusConnection,
    readonly address: string,
    opts: ConnectOptions,
  ) {
    this.callTimeout = opts.callTimeoutMs ?? 30_000;
    this.jobTimeout = opts.jobTimeoutMs ?? 300_000;
    conn.onSignal = (msg) => this.onMessage(msg);
    conn.onClose = (err) => this.fail(err);
  }

  /** Why calls cannot go through: the bus was never reached, or the connection broke. */
  private unreachable(err: Error): BusUnreachableError {
    return new BusUnreachableError(this.address, this.conn.ready ? `connection lost: ${describeSocketError(err)}` : describeSocketError(err));
  }

  private fail(err: Error): void {
    if (this.broken) return;
    this.broken = err;
    const e = this.unreachable(err);
    for (const w of this.waiters.values()) w.reject(e);
    this.waiters.clear();
  }

  private onMessage(msg: Message): void {
    if (msg.interface !== MANAGER || msg.member !== "JobRemoved") return;
    const [, job, , result] = msg.body as [number, string, string, string];
    const w = this.waiters.get(job);
    if (w) {
      this.waiters.delete(job);
      w.resolve(result);
    } else {
      this.early.set(job, result);
    }
  }

  /** One method call with an explicit signature and a timeout. */
  private async call(iface: string, member: string, signature = "", body: unknown[] = [], path = PATH, destination = DEST, reply?: BodyReader): Promise<any[]> {
    if (this.broken) throw this.unreachable(this.broken);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new SystemdError(`systemd did not answer ${member} within ${this.callTimeout} ms`, {})),
        this.callTimeout,
      );
    });
    try {
      return (await Promise.race([this.conn.call({ destination, path, interface: iface, member, signature, body }, reply), timeout])) as any[];
    } catch (err) {
      if (err instanceof ConnectionError) throw this.unreachable(err);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** AddMatch for JobRemoved and Subscribe, sent once, before the first job. */
  private subscribe(): Promise<void> {
    this.subscribed ??= Promise.all([
      this.call("org.freedesktop.DBus", "AddMatch", "s", [
        `type='signal',sender='${DEST}',path='${PATH}',interface='${MANAGER}',member='JobRemoved'`,
      ], "/org/freedesktop/DBus", "org.freedesktop.DBus"),
      this.call(MANAGER, "Subscribe").catch((err) => {
        // Already subscribed on this connection is fine.
        if (!isDbusError(err, "AlreadySubscribed")) throw err;
      }),
    ]).then(() => undefined);
    return this.subscribed;
  }

  /** Waits for the job at `jobPath` to be removed and returns its result. */
  private waitJob(jobPath: string, unit: string): Promise<JobResult> {
    const seen = this.early.get(jobPath);
    if (seen !== undefined) {
      this.early.delete(jobPath);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(jobPath);
        reject(new SystemdError(`Job for '${unit}' did not finish within ${this.jobTimeout / 1000} s`, { unit }));
      }, this.jobTimeout);
      this.waiters.set(jobPath, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /** Sends a job-queuing call (subscription first), waits for the job, checks its result. */
  private async job(verb: string, unit: string, queue: () => Promise<any[]>, okResults: JobResult[] = ["done"], onQueued?: () => void): Promise<void> {
    const sub = this.subscribe();
    let body: any[];
    try {
      [, body] = await Promise.all([sub, queue()]);
    } catch (err) {
      if (err instanceof SystemdError || err instanceof BusUnreachableError) throw err;
      throw systemdError(`Failed to ${verb} '${unit}'`, unit, err);
    }
    const jobPath = body[0] as string;
    onQueued?.();
    const result = await this.waitJob(jobPath, unit);
    if (!okResults.includes(result)) {
      throw new JobFailedError(verb, unit, result);
    }
  }

  async startTransientUnit(
    name: string,
    props: DbusProperty[],
    mode: JobMode = "fail",
    aux: Array<{ name: string; props: DbusProperty[] }> = [],
    onQueued?: () => void,
  ): Promise<void> {
    const enc = (ps: DbusProperty[]) => ps.map((p) => [p.name, new Variant(p.signature, p.value)]);
    const send = () => this.call(MANAGER, "StartTransientUnit", "ssa(sv)a(sa(sv))", [name, mode, enc(props), aux.map((a) => [a.name, enc(a.props)])]);
    try {
      await this.job("start", name, send, undefined, onQueued);
    } catch (err) {
      // A failed leftover of the same name blocks a new transient unit: reset it and try once more.
      if (isDbusError(err, "UnitExists")) {
        const state = await this.unitState(name);
        if (state === "failed" || state === "inactive") {
          await this.resetFailedUnit(name);
          await this.job("start", name, send, undefined, onQueued);
          return;
        }
        throw new SystemdError(`Failed to start '${name}': a unit of that name already exists and is ${state ?? "loaded"}`, {
          unit: name,
          dbusName: DBUS_ERRORS.UnitExists,
          hint: `Stop it first ('systemctl stop ${name}').`,
        });
      }
      throw err;
    }
  }

  async unitState(name: string): Promise<string | null> {
    const path = await this.getUnit(name);
    if (!path) return null;
    const p = await this.getProperties(path, "Unit", ["ActiveState"]);
    return (p.ActiveState as string) ?? null;
  }

  async mainPid(name: string): Promise<number | undefined> {
    const { MainPID: pid } = await this.getProperties(unitObjectPath(name), "Service", ["MainPID"]);
    return typeof pid === "number" && pid > 0 ? pid : undefined;
  }

  async fragmentPath(name: string): Promise<string | undefined> {
    const p = await this.getProperties(unitObjectPath(name), "Unit", ["LoadState", "FragmentPath"]);
    return p.LoadState === "loaded" && typeof p.FragmentPath === "string" && p.FragmentPath !== "" ? p.FragmentPath : undefined;
  }

  startUnit(name: string, mode: JobMode = "replace"): Promise<void> {
    return this.job("start", name, () => this.call(MANAGER, "StartUnit", "ss", [name, mode]));
  }

  async stopUnit(name: string, mode: JobMode = "replace"): Promise<void> {
    try {
      await this.job("stop", name, () => this.call(MANAGER, "StopUnit", "ss", [name, mode]));
    } catch (err) {
      if (isDbusError(err, "NoSuchUnit")) return;
      throw err;
    }
  }

  async resetFailedUnit(name: string): Promise<void> {
    try {
      await this.call(MANAGER, "ResetFailedUnit", "s", [name]);
    } catch (err) {
      if (isDbusError(err, "NoSuchUnit")) return;
      throw systemdError(`Failed to reset '${name}'`, name, err);
    }
  }

  async getUnit(name: string): Promise<string | null> {
    try {
      const [path] = await this.call(MANAGER, "GetUnit", "s", [name]);
      return path as string;
    } catch (err) {
      if (isDbusError(err, "NoSuchUnit")) return null;
      throw systemdError(`Failed to look up '${name}'`, name, err);
    }
  }

  async getProperties(unitPath: string, iface: UnitInterface, names: readonly string[]): Promise<Record<string, unknown>> {
    const values = await Promise.all(
      names.map((n) =>
        this.call(PROPS, "Get", "ss", [UNIT_INTERFACES[iface], n], unitPath).then(
          ([v]) => v,
          (err) => {
            throw systemdError(`Failed to read ${n} of ${unitPath}`, undefined, err);
          },
        ),
      ),
    );
    return Object.fromEntries(names.map((n, i) => [n, values[i]]));
  }

  async listUnits(patterns: string[], states: string[] = []): Promise<UnitListEntry[]> {
    const [rows] = await this.call(MANAGER, "ListUnitsByPatterns", "asas", [states, patterns], PATH, DEST, unitListReader);
    return rows as UnitListEntry[];
  }

  async version(): Promise<number> {
    const [v] = await this.call(PROPS, "Get", "ss", [MANAGER, "Version"]);
    const m = /^(\d+)/.exec(String(v));
    return m ? Number(m[1]) : 0;
  }

  async reload(): Promise<void> {
    try {
      await this.call(MANAGER, "Reload");
    } catch (err) {
      throw systemdError("Failed to reload systemd", undefined, err);
    }
  }

  async setUnitProperties(name: string, props: DbusProperty[], runtime: boolean): Promise<void> {
    const encoded = props.map((p) => [p.name, new Variant(p.signature, p.value)]);
    try {
      await this.call(MANAGER, "SetUnitProperties", "sba(sv)", [name, runtime, encoded]);
    } catch (err) {
      throw systemdError(`Failed to change ${props.map((p) => p.name).join(", ")} of '${name}'`, name, err);
    }
  }

  close(): void {
    this.conn.close();
  }
}

function describeSocketError(err: Error): string {
  const code = (err as { code?: string }).code;
  if (code === "ENOENT") return "the socket does not exist";
  if (code === "ETIMEDOUT") return err.message;
  if (code === "ECONNREFUSED") return "connection refused (nothing is listening)";
  if (code === "EACCES") return "permission denied";
  return err.message || String(err);
}
