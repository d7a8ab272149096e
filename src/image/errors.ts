/** Errors of the image store; all are PodunitError subclasses the command layer prints. */
import { ExitCode, PodunitError, type ExitCodeValue } from "../errors.ts";

/**
 * An image that cannot be loaded as it is: a blob whose digest or size is not what
 * its manifest says, a layer that is not a tar, a missing blob, a foreign platform.
 */
export class ImageError extends PodunitError {
  /** The blob or archive member concerned, when there is one. */
  readonly blob?: string;
  constructor(message: string, opts: { blob?: string; hint?: string; cause?: unknown; exitCode?: ExitCodeValue } = {}) {
    super(message, { exitCode: opts.exitCode ?? ExitCode.FAILURE, hint: opts.hint, cause: opts.cause });
    this.blob = opts.blob;
  }
}

/** A layer entry refused because it would create or change something outside its layer directory. */
export class UnsafeLayerError extends PodunitError {
  readonly layer: string;
  readonly entry: string;
  constructor(layer: string, entry: string, why: string) {
    super(`Refused layer '${layer}': entry '${shorten(entry)}' ${why}.`, {
      exitCode: ExitCode.PERMISSION,
      hint: "The image is broken or hostile; nothing of it was stored. Get the image from a source you trust.",
    });
    this.layer = layer;
    this.entry = entry;
  }
}

/** Another podunit holds the store's lock for longer than we wait. */
export class StoreBusyError extends PodunitError {
  constructor(root: string) {
    super(`The image store '${root}' is locked by another podunit (a load, rm or prune in progress).`, {
      exitCode: ExitCode.FAILURE,
      hint: "Wait for it to finish and try again.",
    });
  }
}

/** Names in messages stay readable: a 10,000-character entry name is cut in the middle. */
export function shorten(s: string, max = 160): string {
  return s.length <= max ? s : `${s.slice(0, max / 2)}...(${s.length} characters)...${s.slice(-max / 4)}`;
}
