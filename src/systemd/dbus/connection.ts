/**
 * One client connection to a D-Bus bus over a Unix socket: EXTERNAL
 * authentication and Hello (pipelined with the first calls), method calls
 * matched to their replies by serial, and signals handed to a listener.
 * Written against Bun's socket API.
 */
import type { Socket } from "bun";
import { type BodyReader, decodeBody, decodeHeader, encodeMessage, messageSize, MessageType, type Message } from "./message.ts";

/** An error reply: the D-Bus error name and its message. */
export class DbusError extends Error {
  constructor(
    readonly type: string,
    readonly text: string,
  ) {
    super(text ? `${text}` : type);
  }
}

/** A socket-level failure (no socket, refused, closed). `code` is the errno name where known. */
export class ConnectionError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface CallOptions {
  destination?: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: unknown[];
}

/** The socket path of a `unix:path=...` (or `unix:abstract=...`) bus address; other transports are refused. */
export function socketPath(address: string): string {
  for (const part of address.split(";")) {
    const [transport, params = ""] = part.split(/:(.*)/s) as [string, string?];
    if (transport !== "unix") continue;
    const kv = Object.fromEntries(params.split(",").map((p) => p.split(/=(.*)/s) as [string, string]));
    const unescape = (s: string) => s.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    if (kv.path) return unescape(kv.path);
    if (kv.abstract) return "\0" + unescape(kv.abstract);
  }
  throw new ConnectionError(`no unix socket in bus address '${address}'`);
}

export class BusConnection {
  private socket?: Socket<undefined>;
  private inbox = new Uint8Array(0);
  /** Chunks received after `inbox` while a message is incomplete, and the bytes they hold. */
  private chunks: Uint8Array[] = [];
  private chunkBytes = 0;
  /** The length of the incomplete message at the start of what was received, once known. */
  private wanted: number | undefined;
  private outbox: Uint8Array[] = [];
  private serial = 1;
  private readonly pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void; body?: BodyReader }>();
  private authed = false;
  private closed: Error | null = null;
  /** True once the bus answered Hello: the connection is authenticated and named. */
  ready = false;
  /** Called for every signal received. */
  onSignal: (m: Message) => void = () => {};
  /** Called once when the connection fails or closes after being set up. */
  onClose: (e: Error) => void = () => {};
  /** The unique name the bus gave this connection. */
  uniqueName = "";

  /**
   * Connects and sends the authentication, BEGIN and Hello at once, without waiting
   * for the bus in between (it reads them in order; sd-bus pipelines the first two
   * the same way), and returns as soon as the socket is open, so the caller's first
   * calls go out in the same write. If the bus has not answered Hello within
   * `timeoutMs`, the connection fails, and every call on it with a ConnectionError
   * (ETIMEDOUT); a refused authentication fails it too.
   */
  static async open(address: string, timeoutMs: number): Promise<BusConnection> {
    const c = new BusConnection();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = () => new ConnectionError(`no answer within ${timeoutMs} ms`, "ETIMEDOUT");
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = timedOut();
        reject(err);
        c.fail(err);
        c.close();
      }, timeoutMs);
    });
    try {
      await Promise.race([c.connect(socketPath(address)), timeout]);
    } catch (err) {
      clearTimeout(timer);
      c.close();
      throw err;
    }
    timeout.catch(() => {});
    c.call({ destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "Hello" }).then(
      ([name]) => {
        clearTimeout(timer);
        c.uniqueName = name as string;
        c.ready = true;
      },
      () => clearTimeout(timer), // the failure reached every call
    );
    return c;
  }

  private async connect(path: string): Promise<void> {
    try {
      this.socket = await Bun.connect({
        unix: path,
        socket: {
          data: (_s, chunk) => this.receive(chunk),
          drain: () => this.flush(),
          close: () => this.fail(new ConnectionError("the bus closed the connection")),
          error: (_s, err) => this.fail(new ConnectionError(err.message, (err as { code?: string }).code)),
        },
      });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw new ConnectionError(e.message ?? String(err), e.code);
    }
    if (this.closed) {
      // Closed (timed out) while the socket was being opened.
      this.socket.end();
      throw this.closed;
    }
    const uid = String(process.getuid?.() ?? 0);
    this.write(new TextEncoder().encode(`\0AUTH EXTERNAL ${Buffer.from(uid).toString("hex")}\r\nBEGIN\r\n`));
  }

  private write(bytes: Uint8Array): void {
    this.outbox.push(bytes);
    this.flush();
  }

  private flush(): void {
    while (this.socket && this.outbox.length > 0) {
      const head = this.outbox[0]!;
      const n = this.socket.write(head);
      if (n < head.length) {
        this.outbox[0] = head.subarray(Math.max(n, 0));
        return; // the rest goes out on drain
      }
      this.outbox.shift();
    }
  }

  /**
   * Takes a chunk from the socket. A large reply (a list of thousands of units)
   * arrives in many chunks: they are kept apart until the message they complete is
   * whole, so each byte is copied once rather than once per chunk.
   */
  private receive(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
    if (this.wanted !== undefined && this.inbox.length + this.chunkBytes < this.wanted) {
      // Kept past this call: a copy, in case the socket reuses its buffer.
      this.chunks[this.chunks.length - 1] = chunk.slice();
      return;
    }
    const joined = new Uint8Array(this.inbox.length + this.chunkBytes);
    joined.set(this.inbox);
    let at = this.inbox.length;
    for (const c of this.chunks) {
      joined.set(c, at);
      at += c.length;
    }
    this.inbox = joined;
    this.chunks = [];
    this.chunkBytes = 0;
    this.wanted = undefined;
    try {
      if (!this.authed) {
        const end = indexOfCrLf(this.inbox);
        if (end < 0) return;
        const line = new TextDecoder().decode(this.inbox.subarray(0, end));
        this.inbox = this.inbox.slice(end + 2);
        if (!line.startsWith("OK ")) throw new ConnectionError(`the bus refused authentication: ${line}`);
        this.authed = true;
      }
      let start = 0;
      for (;;) {
        const rest = this.inbox.subarray(start);
        const n = messageSize(rest);
        if (n === undefined || n > rest.length) {
          this.wanted = n;
          break;
        }
        this.dispatch(rest.subarray(0, n));
        start += n;
      }
      this.inbox = this.inbox.slice(start);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      this.socket?.end();
    }
  }

  private dispatch(bytes: Uint8Array): void {
    const { message: m, reader } = decodeHeader(bytes);
    const p = m.type === MessageType.SIGNAL || m.replySerial === undefined ? undefined : this.pending.get(m.replySerial);
    const body = m.type === MessageType.METHOD_RETURN ? p?.body : undefined;
    if (body && m.signature !== body.signature) {
      this.pending.delete(m.replySerial!);
      p!.reject(new DbusError("org.freedesktop.DBus.Error.InvalidSignature", `the reply's signature is '${m.signature}', not '${body.signature}'`));
      return;
    }
    decodeBody(m, reader, body);
    if (m.type === MessageType.SIGNAL) {
      this.onSignal(m);
      return;
    }
    if (!p) return;
    this.pending.delete(m.replySerial!);
    if (m.type === MessageType.ERROR) p.reject(new DbusError(m.errorName ?? "org.freedesktop.DBus.Error.Failed", String(m.body[0] ?? "")));
    else p.resolve(m);
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.closed = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.onClose(err);
  }

  /**
   * Sends a method call; resolves with the reply's body (read by `body` when given),
   * rejects with DbusError or ConnectionError.
   */
  call(o: CallOptions, body?: BodyReader): Promise<unknown[]> {
    if (this.closed) return Promise.reject(this.closed);
    const serial = this.serial++;
    const bytes = encodeMessage({
      type: MessageType.METHOD_CALL,
      flags: 0,
      serial,
      destination: o.destination,
      path: o.path,
      interface: o.interface,
      member: o.member,
      signature: o.signature ?? "",
      body: o.body ?? [],
    });
    const reply = new Promise<Message>((resolve, reject) => this.pending.set(serial, { resolve, reject, ...(body ? { body } : {}) }));
    this.write(bytes);
    return reply.then((m) => m.body);
  }

  close(): void {
    this.closed ??= new ConnectionError("the connection was closed");
    this.socket?.end();
  }
}

function indexOfCrLf(b: Uint8Array): number {
  for (let i = 0; i + 1 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10) return i;
  return -1;
}
