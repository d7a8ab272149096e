/** Where the verbs that read the image store (image, internal complete) find it. */
import { DEFAULT_IMAGE_DIR } from "../../image/index.ts";
import type { Io } from "./command.ts";

/** The image store's directory: PODUNIT_IMAGE_DIR or /var/lib/podunit/images. */
export function imageDir(io: Io): string {
  return io.env.PODUNIT_IMAGE_DIR || DEFAULT_IMAGE_DIR;
}
