/**
 * Test images for the lab: OCI layouts built from busybox-static (`/bin/busybox`
 * from Debian's busybox-static) with its applets as symbolic links, written with
 * the image test helpers and loaded inside the lab with `podunit image load`.
 */
import { readFileSync } from "node:fs";
import { buildImage, makeTar, ociLayoutFiles, type TEntry, writeDir } from "../unit/image-helpers.ts";

const APPLETS = new TextDecoder()
  .decode(Bun.spawnSync(["/bin/busybox", "--list"]).stdout)
  .split("\n")
  .filter((a) => a && a !== "busybox");

/** The base layer: busybox, its applets, /etc/passwd and /etc/group with an `app` user and a `staff` group. */
export function busyboxLayer(): Uint8Array {
  const entries: TEntry[] = [
    { name: "bin/", type: "5" },
    { name: "bin/busybox", content: readFileSync("/bin/busybox"), mode: 0o755 },
    ...APPLETS.map((a): TEntry => ({ name: `bin/${a}`, type: "2", linkname: "busybox" })),
    { name: "etc/", type: "5" },
    { name: "etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n" },
    { name: "etc/group", content: "root:x:0:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n" },
    { name: "tmp/", type: "5", mode: 0o1777 },
    { name: "proc/", type: "5" },
    { name: "sys/", type: "5" },
    { name: "dev/", type: "5" },
    { name: "home/app/", type: "5", uid: 1000, gid: 1000 },
  ];
  return makeTar(entries);
}

/** A layer of small files, e.g. a web root. */
export function filesLayer(files: Record<string, string>): Uint8Array {
  return makeTar(Object.entries(files).map(([name, content]): TEntry => ({ name, content })));
}

/** Writes an OCI layout of one image named `ref` (as `localhost/NAME:TAG`) into `dir`. */
export function writeImage(dir: string, ref: string, layers: Uint8Array[], config: Record<string, unknown>): string {
  const image = buildImage(layers, { config });
  return writeDir(dir, ociLayoutFiles([{ image, ref }]));
}
