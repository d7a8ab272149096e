/** Layers the image tests share: a base with every kind of entry, and an upper layer with whiteouts. */
import { makeTar, type TEntry } from "./image-helpers.ts";

/** security.capability for cap_net_raw in the permitted and effective sets (VFS_CAP_REVISION_2). */
export const CAP_NET_RAW = new Uint8Array([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
export const LONG_DIR = `usr/share/${"d".repeat(120)}`;
export const LONG_FILE = `${LONG_DIR}/${"f".repeat(140)}`;

export function baseEntries(opts: { devices?: boolean } = {}): TEntry[] {
  return [
    { name: "./", type: "5", mode: 0o755 },
    { name: "etc/", type: "5", mode: 0o755 },
    { name: "etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\n", mode: 0o644 },
    { name: "etc/old", content: "to be deleted\n" },
    { name: "etc/note", content: "xattr\n", xattrs: { "user.note": "hello" } },
    { name: "bin/", type: "5" },
    { name: "bin/busybox", content: "#!fake busybox\n", mode: 0o755 },
    { name: "bin/sh", type: "2", linkname: "busybox" },
    { name: "bin/ash", type: "1", linkname: "bin/busybox", mode: 0o755 },
    { name: "bin/ping", content: "ping\n", mode: 0o755, xattrs: { "security.capability": CAP_NET_RAW } },
    { name: "bin/su", content: "su\n", mode: 0o4755 },
    { name: "bin/wall", content: "wall\n", mode: 0o2755, gid: 5 },
    { name: "tmp/", type: "5", mode: 0o1777 },
    { name: "home/user/", type: "5", mode: 0o700, uid: 1000, gid: 1000 },
    { name: "home/user/.profile", content: "export X=1\n", mode: 0o600, uid: 1000, gid: 1000 },
    { name: "data/cache/", type: "5" },
    { name: "data/cache/a", content: "a\n" },
    { name: "data/cache/b", content: "b\n" },
    { name: `${LONG_DIR}/`, type: "5", long: "gnu" },
    { name: LONG_FILE, content: "long gnu name\n", long: "gnu" },
    { name: `${LONG_DIR}/pax-${"p".repeat(120)}`, content: "long pax name\n" },
    { name: "abs-link", type: "2", linkname: "/etc/passwd" },
    { name: "run/", type: "5" },
    { name: "run/fifo", type: "6", mode: 0o600 },
    ...(opts.devices === false ? [] : [{ name: "dev/", type: "5" as const }, { name: "dev/null", type: "3" as const, devmajor: 1, devminor: 3, mode: 0o666 }]),
  ];
}

export function upperEntries(): TEntry[] {
  return [
    { name: "etc/.wh.old", content: "" },
    { name: "etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n" },
    { name: "data/cache/.wh..wh..opq", content: "" },
    { name: "data/cache/c", content: "c\n" },
    { name: "srv/", type: "5", mode: 0o2775, gid: 50 },
    { name: "bin/.wh.gone", content: "" },
  ];
}

export const baseTar = (opts: { devices?: boolean } = {}) => makeTar(baseEntries(opts));
export const upperTar = () => makeTar(upperEntries());
