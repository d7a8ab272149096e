/**
 * Renders a pull's events. On a terminal: one line per layer (bytes, total,
 * rate), rewritten in place at most every 100 ms. Otherwise: one plain line per
 * thing that happened, so logs and pipes get no control characters.
 */
import type { OnPullEvent, PullEvent } from "../../image/index.ts";
import type { Io } from "./command.ts";
import { shortId } from "../../image/index.ts";

const REDRAW_MS = 100;

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  for (; v >= 1024 && i < units.length - 1; i++) v /= 1024;
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

interface Row {
  digest: string;
  total: number;
  done: number;
  started?: number;
  state: "waiting" | "downloading" | "done" | "cached";
  elapsed?: number;
}

export class PullProgress {
  private rows = new Map<string, Row>();
  private drawn = 0;
  private lastDraw = 0;

  constructor(
    private readonly write: (text: string) => void,
    private readonly terminal: boolean,
    private readonly now: () => number = () => performance.now(),
  ) {}

  private line(r: Row): string {
    const id = shortId(r.digest);
    switch (r.state) {
      case "waiting":
        return `${id}  waiting      ${size(r.total)}`;
      case "cached":
        return `${id}  in the store ${size(r.total)}`;
      case "downloading":
      case "done": {
        const secs = ((r.elapsed ?? this.now() - (r.started ?? this.now())) || 1) / 1000;
        const rate = `${size(Math.round(r.done / secs))}/s`;
        return `${id}  ${r.state === "done" ? "done       " : "downloading"}  ${size(r.done)} / ${size(r.total)}  ${rate}`;
      }
    }
  }

  private redraw(force: boolean): void {
    const t = this.now();
    if (!force && t - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = t;
    const up = this.drawn ? `\x1b[${this.drawn}A` : "";
    const lines = [...this.rows.values()].map((r) => `\r\x1b[2K${this.line(r)}\n`);
    this.write(up + lines.join(""));
    this.drawn = lines.length;
  }

  on(e: PullEvent): void {
    switch (e.type) {
      case "resolved":
        // A new image (a start may pull several): its rows are drawn below the earlier ones.
        this.rows.clear();
        this.drawn = 0;
        this.write(`Pulling ${e.ref} from ${e.registry} (${shortId(e.digest)}), ${e.layers.length} layer${e.layers.length === 1 ? "" : "s"}\n`);
        for (const l of e.layers) this.rows.set(l.digest, { digest: l.digest, total: l.size, done: 0, state: "waiting" });
        if (this.terminal) this.redraw(true);
        return;
      case "bytes": {
        const r = this.rows.get(e.digest);
        if (!r) return;
        if (r.state === "waiting") {
          r.state = "downloading";
          r.started = this.now();
        }
        r.done = e.done;
        if (this.terminal) this.redraw(false);
        return;
      }
      case "layer-done": {
        const r = this.rows.get(e.digest);
        if (!r) return;
        r.state = e.cached ? "cached" : "done";
        r.done = e.cached ? 0 : e.size;
        r.elapsed = r.started !== undefined ? this.now() - r.started : undefined;
        if (this.terminal) this.redraw(true);
        else this.write(`Layer ${this.line(r).replace(/\s+/g, " ")}\n`);
        return;
      }
      case "done":
        return;
    }
  }
}

/**
 * The progress of the pulls a pod's start (or enable) makes: as `image pull` draws
 * it on a terminal, plain lines otherwise; with --json on standard error, as plain lines,
 * so standard output stays one JSON document.
 */
export function startPullProgress(io: Io, json: boolean): OnPullEvent {
  const write = json ? (t: string) => io.err(t) : (t: string) => io.out(t);
  const p = new PullProgress(write, !json && io.terminal === true);
  return (e) => {
    p.on(e);
    if (e.type === "done") write(`Pulled ${e.ref} (${shortId(e.digest)}): ${e.newLayers} new layer${e.newLayers === 1 ? "" : "s"}.\n`);
  };
}
