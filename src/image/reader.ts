/**
 * Byte sources the tar reader pulls from: a stream of chunks (a layer as it is
 * decompressed) or a file read at offsets (an archive whose members are indexed
 * without reading their contents).
 */
import { readSync } from "node:fs";

export interface ByteSource {
  /** Bytes consumed so far. */
  readonly pos: number;
  /** Up to `n` bytes; fewer only at the end of the input. */
  read(n: number): Promise<Uint8Array>;
  /** Skips `n` bytes; returns how many there were. */
  skip(n: number): Promise<number>;
  /** The next `n` bytes as they come, without copying them together. */
  chunks(n: number): AsyncGenerator<Uint8Array>;
}

/** Reads from an async iterable of chunks. */
export class StreamSource implements ByteSource {
  pos = 0;
  private buf: Uint8Array[] = [];
  private buffered = 0;
  private done = false;
  private readonly it: AsyncIterator<Uint8Array>;
  constructor(input: AsyncIterable<Uint8Array>) {
    this.it = input[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    for (;;) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        return false;
      }
      if (r.value.length) {
        this.buf.push(r.value);
        this.buffered += r.value.length;
        return true;
      }
    }
  }

  /** Takes up to `n` bytes from the buffer (one piece, no copy when it fits in the first chunk). */
  private take(n: number): Uint8Array {
    const first = this.buf[0]!;
    if (first.length <= n) {
      this.buf.shift();
      this.buffered -= first.length;
      this.pos += first.length;
      return first;
    }
    this.buf[0] = first.subarray(n);
    this.buffered -= n;
    this.pos += n;
    return first.subarray(0, n);
  }

  async read(n: number): Promise<Uint8Array> {
    while (this.buffered < n && (await this.fill()));
    if (this.buf.length && this.buf[0]!.length >= n) return this.take(n);
    const out = new Uint8Array(Math.min(n, this.buffered));
    let o = 0;
    while (o < out.length) {
      const p = this.take(out.length - o);
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  async skip(n: number): Promise<number> {
    let left = n;
    for await (const c of this.chunks(n)) left -= c.length;
    return n - left;
  }

  async *chunks(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (!this.buffered && !(await this.fill())) return;
      const p = this.take(left);
      left -= p.length;
      yield p;
    }
  }

  /** Reads the input to its end (what follows a tar's end marker); returns how many bytes there were. */
  async drain(): Promise<number> {
    let n = this.buffered;
    this.pos += this.buffered;
    this.buf = [];
    this.buffered = 0;
    while (await this.fill()) {
      n += this.buffered;
      this.pos += this.buffered;
      this.buf = [];
      this.buffered = 0;
    }
    return n;
  }
}

/** Reads a file by offset; skipping costs nothing. */
export class FileSource implements ByteSource {
  pos: number;
  constructor(
    private readonly fd: number,
    private readonly end: number,
    start = 0,
  ) {
    this.pos = start;
  }

  async read(n: number): Promise<Uint8Array> {
    const want = Math.max(0, Math.min(n, this.end - this.pos));
    const out = new Uint8Array(want);
    let o = 0;
    while (o < want) {
      const r = readSync(this.fd, out, o, want - o, this.pos + o);
      if (r === 0) break;
      o += r;
    }
    this.pos += o;
    return o === want ? out : out.subarray(0, o);
  }

  async skip(n: number): Promise<number> {
    const k = Math.max(0, Math.min(n, this.end - this.pos));
    this.pos += k;
    return k;
  }

  async *chunks(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      const c = await this.read(Math.min(left, 1 << 20));
      if (!c.length) return;
      left -= c.length;
      yield c;
    }
  }
}
