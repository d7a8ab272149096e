/** The /proc parsers (src/host/proc.ts), on fixture text. */
import { describe, expect, test } from "bun:test";
import { children, firstChild, parseChildren, parseMountinfo, parseProcCgroup } from "../../src/host/proc.ts";

const MOUNTINFO = [
  "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw",
  "25 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate",
  // No optional fields at all: the separator follows the options directly.
  "31 22 0:27 / /run/podunit/web/ns/net rw - nsfs nsfs rw",
  // A space, a tab, a newline and a backslash in the mount point, as the kernel escapes them.
  "40 22 0:50 / /mnt/my\\040disk\\011x\\012y\\134z rw,relatime shared:20 master:3 - tmpfs tmp\\040fs rw",
  "41 22 0:51 / /sys/fs/cgroup/systemd rw shared:10 - cgroup cgroup rw,name=systemd",
  "",
].join("\n");

describe("parseMountinfo", () => {
  test("mount points, types, roots and the file system's own options, in the table's order", () => {
    expect(parseMountinfo(MOUNTINFO)).toEqual([
      { mountPoint: "/", fsType: "ext4", root: "/", superOptions: "rw" },
      { mountPoint: "/sys/fs/cgroup", fsType: "cgroup2", root: "/", superOptions: "rw,nsdelegate" },
      { mountPoint: "/run/podunit/web/ns/net", fsType: "nsfs", root: "/", superOptions: "rw" },
      { mountPoint: "/mnt/my disk\tx\ny\\z", fsType: "tmpfs", root: "/", superOptions: "rw" },
      { mountPoint: "/sys/fs/cgroup/systemd", fsType: "cgroup", root: "/", superOptions: "rw,name=systemd" },
    ]);
  });

  test("a line without the separator is passed over", () => {
    expect(parseMountinfo("22 1 259:2 / / rw,relatime shared:1\n")).toEqual([]);
  });
});

describe("parseProcCgroup", () => {
  test("v2 and v1 lines; a path may hold colons", () => {
    const text = "12:memory:/podunit.slice/x\n1:name=systemd:/a:b\n0::/podunit.slice/podunit-web.slice/podunit-web-app.service\n";
    expect(parseProcCgroup(text)).toEqual([
      { hierarchy: 12, controllers: "memory", path: "/podunit.slice/x" },
      { hierarchy: 1, controllers: "name=systemd", path: "/a:b" },
      { hierarchy: 0, controllers: "", path: "/podunit.slice/podunit-web.slice/podunit-web-app.service" },
    ]);
  });
});

describe("children", () => {
  test("parses the children file", () => {
    expect(parseChildren("812 815 \n")).toEqual([812, 815]);
    expect(parseChildren("\n")).toEqual([]);
  });

  test("a process of this test and its child", async () => {
    const parent = Bun.spawn(["sh", "-c", "sleep 30 & wait"]);
    try {
      // Until the shell has forked: the kernel lists the child once it exists.
      while ((children(parent.pid) ?? []).length === 0) await Bun.sleep(1);
      const kid = firstChild(parent.pid)!;
      expect(children(parent.pid)).toEqual([kid]);
      expect(children(kid)).toEqual([]);
    } finally {
      parent.kill();
    }
  });

  test("a process that is gone has no answer", async () => {
    const gone = Bun.spawn(["true"]);
    await gone.exited;
    expect(children(gone.pid)).toBeUndefined();
    expect(firstChild(gone.pid)).toBeUndefined();
  });
});
